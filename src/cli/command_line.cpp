#include "cli/command_line.hpp"

#include <cstdio>

#include "core/shown_text.hpp"

namespace gmsim::cli {

void print_error(const std::string& command, const std::string& message) {
  // One line whatever a file name or a receiver's text holds (an escape sequence, a line
  // break, a U+0000 that would cut it), and not a 50 MB path echoed whole.
  std::fprintf(stderr, "gmsim %s: %s\n", command.c_str(), shown_text(message, 4096).c_str());
}

bool wants_help(const args& a) {
  for (const auto& s : a) {
    if (s == "--help" || s == "-h") return true;
  }
  return false;
}

}  // namespace gmsim::cli
