// The commands of the gmsim binary. Each parses its own options and returns the
// process exit code (cli/command_line.hpp).
#pragma once

#include "cli/command_line.hpp"

namespace gmsim::cli {

int run_command(const args& a);
int receive_command(const args& a);
int example_command(const args& a);
int validate_command(const args& a);
int profiles_command(const args& a);
int edge_cases_command(const args& a);
int replay_command(const args& a);  // replay_command.cpp
int merge_command(const args& a);   // merge_command.cpp
int check_command(const args& a);   // verdict.cpp
int verify_command(const args& a);  // verdict.cpp

}  // namespace gmsim::cli
