// What every command of the gmsim binary shares: its arguments, the exit codes
// (DESIGN.md: 0 done, 1 failure, 2 bad usage or input, 99 threshold failed, 130
// interrupted), and the one-line error.
#pragma once

#include <string>
#include <vector>

namespace gmsim::cli {

using args = std::vector<std::string>;

enum exit_code : int {
  exit_ok = 0,
  exit_failure = 1,
  exit_usage = 2,
  exit_threshold = 99,
  // A run stopped by a signal exits 128 + it (130 SIGINT, 143 SIGTERM):
  // report_outcome::exit_code.
};

// Whether the arguments ask for the command's help (--help or -h anywhere).
bool wants_help(const args& a);

// A one-line error on stderr: "gmsim <command>: <message>".
void print_error(const std::string& command, const std::string& message);

}  // namespace gmsim::cli
