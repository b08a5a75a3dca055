// Command-line options of `gmsim run`, parsed into the engine's run_config.
#pragma once

#include <boost/program_options/errors.hpp>
#include <boost/program_options/options_description.hpp>
#include <boost/program_options/variables_map.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <stdexcept>
#include <string>

#include "cli/command_line.hpp"
#include "core/duration.hpp"
#include "net/transport.hpp"
#include "report/thresholds.hpp"
#include "run/runner.hpp"

namespace boost::program_options {
class options_description;
class variables_map;
}  // namespace boost::program_options

namespace gmsim::cli {

// Bad usage: the message names the option and the reason; exit code 2.
class usage_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The verdict options that run, replay and check share (cli/verdict.cpp).
struct report_options {
  std::string summary_json;           // --summary-json, when not empty
  std::string junit;                  // --junit: the JUnit XML report's path
  std::string html;                   // --html: the HTML report, when not empty
  std::vector<threshold> thresholds;  // --threshold, in the order given
  bool abort_on_fail = false;         // stop as soon as a threshold fails
  millis abort_window = 10'000;       // rates and latencies judged over this
  millis abort_grace = 10'000;        // and not before this
  // Set by abort_on_fail when it judges windows: the knee it found, for the reports.
  std::shared_ptr<abort_watch> watch;
};

struct metrics_options {
  std::string listen;         // --metrics-listen ADDR:PORT; "" : none
  bool allow_remote = false;  // --metrics-allow-remote: listen may be other than loopback
  std::string push;           // --metrics-push URL: the Pushgateway's; "" : none
  millis hold = 0;            // --metrics-hold D: after the run, wait for one more scrape
};

void add_metrics_options(boost::program_options::options_description& opts);
// Throws usage_error: a bad or non-loopback address without --metrics-allow-remote, a bad
// URL, --metrics-hold without --metrics-listen, --metrics-listen with a dry run.
metrics_options read_metrics_options(const boost::program_options::variables_map& vm, bool dry_run);

struct run_options : report_options {
  bool help = false;
  std::string help_text;
  std::string profile_name = "quickstart";
  run_config config;
  bool seed_picked = false;       // --seed random: say which
  bool start_time_given = false;  // --start-time T (not now): a live run waits for a future T
  // --compare: the setting whose every value a dry run is repeated with, side by side
  // ("pacing_scope"); empty for a plain run.
  std::string compare;
  // --max-memory: the budget the memory estimate must fit (nullopt: what the machine has
  // available); memory_check false: --max-memory off.
  std::optional<std::uint64_t> max_memory;
  bool memory_check = true;
  metrics_options metrics;  // --metrics-*
};

// A size such as 512MiB, 8GiB or a number of bytes, more than 0. Throws usage_error.
std::uint64_t parse_size(const std::string& option, const std::string& text);

// An unsigned integer option, digits only ("-1" is refused, not wrapped). Throws usage_error.
std::uint64_t parse_unsigned_option(const std::string& name, const std::string& text);

// Throws usage_error naming --option and path when path cannot be written, so that a
// typo is reported before the run rather than when its report is due.
void check_writable(const std::string& option, const std::string& path);
// check_writable for each of the options given, and no two naming the same file (a
// device such as /dev/null excepted). Throws usage_error.
void check_outputs(const boost::program_options::variables_map& vm,
                   std::initializer_list<const char*> options);
// Throws usage_error naming --option and path when path cannot be read (checked before a
// run, not when the first TLS connection is made).
void check_readable(const std::string& option, const std::string& path);
// "Name: value" of --header (shared by run and replay). Throws usage_error; the message
// never quotes the value, which may be a secret.
std::pair<std::string, std::string> parse_header(const std::string& text);
// The auth string (--auth-string, else GMSIM_AUTH_STRING; "" when neither). Throws
// usage_error, never quoting it, when it holds a line break or another control character.
std::string auth_string_option(const boost::program_options::variables_map& vm);
// Whether word comes after the value of --auth-string, before the next option:
// `--auth-string abc def` (a value with a space, unquoted) leaves 'def' as a stray
// argument that may be half of the secret.
bool may_be_auth_piece(const args& a, const std::string& word);
// A word of the command line, quoted for an error message; described instead when it may
// be a piece of the auth string.
std::string shown_argument(const args& a, const std::string& word);
// The --target URL. Throws usage_error; the URL itself is never quoted (it may hold a token).
target_url target_option(const std::string& text);
// One line for a program_options error: an unknown option gets the nearest valid name of
// `known` (or the --help hint), and never the value written after an '='.
usage_error option_error(const boost::program_options::error& e,
                         const boost::program_options::options_description& known,
                         const std::string& command);

// The duration option name (given), at least minimum. Throws usage_error naming it.
millis duration_option(const boost::program_options::variables_map& vm, const char* name,
                       millis minimum);

// How and where requests go, the same for run and replay, so that the two commands read
// them alike: --target, --auth-string, --header, --timeout, --insecure, --ca-file. Only
// what --target and --timeout default to differs, so their help is the caller's.
void add_transport_options(boost::program_options::options_description& opts,
                           const char* target_help, const char* timeout_help);
// Reads those options into t. What is not given keeps t's value, but the auth string,
// which then comes from GMSIM_AUTH_STRING. Throws usage_error.
void read_transport_options(const boost::program_options::variables_map& vm, transport_config& t);
// GMetri always sends an auth string: sending to a target without one (an unset or empty
// GMSIM_AUTH_STRING, an empty --auth-string) is refused unless --no-auth says it on
// purpose. Throws usage_error saying where the auth string was looked for.
void check_auth_given(const boost::program_options::variables_map& vm, const transport_config& t);

// Parses the words of a command against opts; those that are no option are the values of
// the option named positional (a list, hidden from the help). Throws usage_error, which
// for an unknown option names the nearest one of opts (see option_error).
boost::program_options::variables_map parse_command_line(
    const args& a, const boost::program_options::options_description& opts, const char* positional,
    const std::string& command);

// Parses argv of `gmsim run`, loads the profile and applies overrides. Throws
// usage_error or profile_error.
run_options parse_run_options(const args& a);

// --summary-json, --html, --threshold, --junit, and with can_abort --abort-on-fail,
// --abort-window and --abort-grace.
void add_report_options(boost::program_options::options_description& opts, bool can_abort);
// Reads them; the caller checks that the files can be written. Throws usage_error.
void read_report_options(const boost::program_options::variables_map& vm, report_options& out);
// --abort-on-fail's stop condition for a live run or replay (run_config::should_stop);
// empty when not asked, or when no threshold given can stop a run (said on stderr).
std::function<bool(const run_counters&)> abort_on_fail(report_options& options,
                                                       const std::string& command);
// What writing the reports came to: the thresholds' verdict, and every output that could
// not be written ("--junit: PATH: cannot write: ..."; the others were written).
struct report_outcome {
  bool passed = true;
  std::vector<std::string> failed_outputs;
  std::string internal_error;  // run_result's
  // The exit code, the failed outputs and an internal error said on stderr first: 1 when
  // an output failed (a CI job must not read a verdict from a file that is not there) or
  // gmsim failed on its own (the figures are partial), else 128 + the
  // signal that stopped the run (130 SIGINT, 143 SIGTERM), 99 when a threshold failed, 0.
  int exit_code(const std::string& command, int stop_signal) const;
};
// The console summary, the thresholds (with the auth probes' gate) and the files asked
// for, each on its own (a failure is kept, and the next one written); annotate, when
// given, adds to the summary JSON first. result.failed_outputs (the recording, the lost
// rows) come first.
report_outcome write_reports(const report_options& options, const run_config& config,
                             const run_result& result,
                             const std::function<void(nlohmann::json&)>& annotate = {});

// The warning of --insecure against an https:// target, on stderr even with --quiet (a
// warning, not progress). Host and port only: the URL's query may hold a token.
void warn_if_insecure(const transport_config& transport);

}  // namespace gmsim::cli
