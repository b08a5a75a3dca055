#include "cli/command_line.hpp"

#include <cstdio>

namespace gmsim::cli {

void print_error(const std::string& command, const std::string& message) {
  std::fprintf(stderr, "gmsim %s: %s\n", command.c_str(), message.c_str());
}

bool wants_help(const args& a) {
  for (const auto& s : a) {
    if (s == "--help" || s == "-h") return true;
  }
  return false;
}

}  // namespace gmsim::cli
