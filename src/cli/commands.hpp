// The commands of the gmsim binary. Each parses its own options and returns the
// process exit code (DESIGN.md: 0 done, 1 failure, 2 bad usage or input, 99 threshold
// failed, 130 interrupted).
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
  exit_interrupted = 130,
};

int run_command(const args& a);
int receive_command(const args& a);
int example_command(const args& a);
int validate_command(const args& a);
int profiles_command(const args& a);
int edge_cases_command(const args& a);
int replay_command(const args& a);  // replay_command.cpp
int merge_command(const args& a);   // merge_command.cpp

// A one-line error on stderr: "gmsim <command>: <message>".
void print_error(const std::string& command, const std::string& message);

}  // namespace gmsim::cli
