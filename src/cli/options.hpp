// Command-line options of `gmsim run`, parsed into the engine's run_config.
#pragma once

#include <stdexcept>
#include <string>

#include "commands.hpp"
#include "gmsim/runner.hpp"

namespace gmsim::cli {

// Bad usage: the message names the option and the reason; exit code 2.
class usage_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct run_options {
  bool help = false;
  std::string help_text;
  std::string profile_name = "quickstart";
  run_config config;
  std::string summary_json;
  std::string html;  // the HTML report, when not empty
};

// Parses argv of `gmsim run`, loads the profile and applies overrides. Throws
// usage_error or profile_error.
run_options parse_run_options(const args& a);

}  // namespace gmsim::cli
