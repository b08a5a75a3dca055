// Command-line options of `gmsim run`, parsed into the engine's run_config.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

#include "commands.hpp"
#include "gmsim/runner.hpp"
#include "gmsim/thresholds.hpp"

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
  std::string junit;                  // --junit: the JUnit XML report's path
  std::vector<threshold> thresholds;  // --threshold, in the order given
  bool abort_on_fail = false;         // stop as soon as a threshold can no longer pass
  std::string html;  // the HTML report, when not empty
};

// An unsigned integer option, digits only ("-1" is refused, not wrapped). Throws usage_error.
std::uint64_t parse_unsigned_option(const std::string& name, const std::string& text);

// Throws usage_error naming --option and path when path cannot be written, so that a
// typo is reported before the run rather than when its report is due.
void check_writable(const std::string& option, const std::string& path);
// "Name: value" of --header (shared by run and replay). Throws usage_error.
std::pair<std::string, std::string> parse_header(const std::string& text);

// Parses argv of `gmsim run`, loads the profile and applies overrides. Throws
// usage_error or profile_error.
run_options parse_run_options(const args& a);

}  // namespace gmsim::cli
