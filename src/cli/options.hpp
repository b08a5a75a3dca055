// Command-line options of `gmsim run`, parsed into the engine's run_config.
#pragma once

#include <boost/program_options/errors.hpp>
#include <boost/program_options/options_description.hpp>
#include <boost/program_options/variables_map.hpp>
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
// Throws usage_error naming --option and path when path cannot be read (checked before a
// run, not when the first TLS connection is made).
void check_readable(const std::string& option, const std::string& path);
// "Name: value" of --header (shared by run and replay). Throws usage_error; the message
// never quotes the value, which may be a secret.
std::pair<std::string, std::string> parse_header(const std::string& text);
// The auth string (--auth-string, else GMSIM_AUTH_STRING; "" when neither). Throws
// usage_error, never quoting it, when it holds a line break or another control character.
std::string auth_string_option(const boost::program_options::variables_map& vm);
// The --target URL. Throws usage_error; the URL itself is never quoted (it may hold a token).
target_url target_option(const std::string& text);
// One line for a program_options error: an unknown option gets the nearest valid name of
// `known` (or the --help hint), and never the value written after an '='.
usage_error option_error(const boost::program_options::error& e,
                         const boost::program_options::options_description& known,
                         const std::string& command);

// Parses argv of `gmsim run`, loads the profile and applies overrides. Throws
// usage_error or profile_error.
run_options parse_run_options(const args& a);

}  // namespace gmsim::cli
