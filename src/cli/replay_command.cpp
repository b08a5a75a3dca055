// `gmsim replay FILE --target URL`: options into a replay_config, then the reports a run
// writes.
#include <boost/program_options.hpp>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <sstream>

#include "commands.hpp"
#include "gmsim/duration.hpp"
#include "gmsim/replay.hpp"
#include "gmsim/report.hpp"
#include "options.hpp"

namespace gmsim::cli {
namespace {

namespace po = boost::program_options;

struct replay_options {
  bool help = false;
  std::string help_text;
  replay_config config;
  std::string summary_json;
};

millis duration_of(const po::variables_map& vm, const char* name, millis minimum) {
  const auto& text = vm[name].as<std::string>();
  millis value;
  try {
    value = parse_duration(text);
  } catch (const std::invalid_argument& e) {
    throw usage_error(std::string("--") + name + ": " + e.what());
  }
  if (value < minimum) {
    throw usage_error(std::string("--") + name + ": must be at least " + format_duration(minimum) +
                      ", got " + text);
  }
  return value;
}

replay_options parse_replay_options(const args& a) {
  po::options_description opts("Options");
  // clang-format off
  opts.add_options()
    ("help,h", "show this help")
    ("target", po::value<std::string>(), "http:// or https:// endpoint (required)")
    ("time-scale", po::value<double>(), "replay X times faster than recorded")
    ("min-gap", po::value<std::string>(), "a stream's starts at least this apart, or the recorded gap if shorter (default 200ms, scaled)")
    ("auth-string", po::value<std::string>(), "sent as \"Authorization: Basic S\" (or GMSIM_AUTH_STRING); never printed")
    ("header", po::value<std::vector<std::string>>()->composing(), "extra header \"Name: value\", repeatable")
    ("timeout", po::value<std::string>(), "request timeout (default 30s)")
    ("workers", po::value<int>(), "worker threads, streams split over them (default: the machine's cores)")
    ("summary-json", po::value<std::string>(), "write the summary JSON here")
    ("record", po::value<std::string>(), "write every request of the replay (NDJSON) here")
    ("lost-rows", po::value<std::string>(), "write every row not delivered (NDJSON) here")
    ("insecure", "do not verify the target's TLS certificate")
    ("ca-file", po::value<std::string>(), "verify TLS against this PEM bundle")
    ("quiet,q", "no live progress");
  // clang-format on
  po::options_description hidden;
  hidden.add_options()("file", po::value<std::vector<std::string>>(), "");
  po::options_description all;
  all.add(opts).add(hidden);
  po::positional_options_description positional;
  positional.add("file", -1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(a).options(all).positional(positional).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    throw option_error(e, opts, "replay");
  }
  replay_options out;
  if (vm.count("help")) {
    std::ostringstream text;
    text
        << "Usage: gmsim replay FILE --target URL [options]\n\n"
           "Sends the requests of a recording (gmsim run --record FILE, live or dry) to URL "
           "again:\n"
           "the same bodies, byte for byte; each stream's requests in recorded order, none before\n"
           "its recorded time (divided by --time-scale), one at a time, never retried.\n\n"
        << opts
        << "\nExit codes: 0 done, 1 gmsim failed, 2 bad usage or not a recording, 130 "
           "interrupted.\n";
    out.help = true;
    out.help_text = text.str();
    return out;
  }
  // Before anything that could quote a stray argument: see parse_header.
  replay_config& c = out.config;
  c.transport.auth_string = auth_string_option(vm);
  if (vm.count("header")) {
    for (const auto& h : vm["header"].as<std::vector<std::string>>())
      c.transport.headers.push_back(parse_header(h));
  }
  if (!vm.count("file")) throw usage_error("FILE is missing: the recording to replay");
  const auto& files = vm["file"].as<std::vector<std::string>>();
  if (files.size() > 1) throw usage_error("one FILE only, got '" + files[1] + "' too");
  c.recording_path = files.front();
  c.workers = 0;
  if (!vm.count("target")) throw usage_error("--target is required: where to send the recording");
  c.transport.target = target_option(vm["target"].as<std::string>());
  if (vm.count("time-scale")) {
    double x = vm["time-scale"].as<double>();
    if (!(x > 0) || x > 1e6) throw usage_error("--time-scale: must be a number in (0, 1e6]");
    c.time_scale = x;
  }
  if (vm.count("min-gap")) c.min_gap = duration_of(vm, "min-gap", 0);
  if (vm.count("timeout")) c.transport.request_timeout = duration_of(vm, "timeout", 1);
  if (vm.count("workers")) {
    int n = vm["workers"].as<int>();
    if (n < 1 || n > 256)
      throw usage_error("--workers: must be in 1..256, got " + std::to_string(n));
    c.workers = n;
  }
  if (vm.count("summary-json")) out.summary_json = vm["summary-json"].as<std::string>();
  if (vm.count("record")) c.record_path = vm["record"].as<std::string>();
  if (vm.count("lost-rows")) c.lost_rows_path = vm["lost-rows"].as<std::string>();
  for (const char* option : {"summary-json", "record", "lost-rows"}) {
    if (vm.count(option)) check_writable(option, vm[option].as<std::string>());
  }
  c.transport.insecure = vm.count("insecure") != 0;
  if (vm.count("ca-file")) {
    c.transport.ca_file = vm["ca-file"].as<std::string>();
    check_readable("ca-file", c.transport.ca_file);
  }
  c.quiet = vm.count("quiet") != 0;
  return out;
}

}  // namespace

int replay_command(const args& a) {
  replay_options options;
  try {
    options = parse_replay_options(a);
  } catch (const usage_error& e) {
    print_error("replay", e.what());
    return exit_usage;
  }
  if (options.help) {
    std::fputs(options.help_text.c_str(), stdout);
    return exit_ok;
  }
  const transport_config& t = options.config.transport;
  if (t.target.tls && t.insecure) {
    // As `gmsim run` warns (live_runner.cpp), even with --quiet. Host and port only: the
    // URL's query may hold a token.
    std::fprintf(stderr,
                 "gmsim: warning: --insecure: the TLS certificate of %s:%s is not verified%s; "
                 "anyone on the path can read or change the requests, auth string included\n",
                 t.target.host.c_str(), t.target.port.c_str(),
                 t.ca_file.empty() ? "" : " (--ca-file is ignored)");
  }
  recording_header header;
  run_result result;
  try {
    result = replay(options.config, &header);
  } catch (const recording_error& e) {
    print_error("replay", e.what());
    return exit_usage;
  } catch (const std::invalid_argument& e) {
    print_error("replay", e.what());
    return exit_usage;
  }
  const run_config report = replay_report_config(options.config, header);
  std::fputs(summary_text(report, result).c_str(), stdout);
  if (!options.summary_json.empty()) {
    auto doc = summary_json(report, result);
    doc["replay_of"] = options.config.recording_path;
    write_file(options.summary_json, doc.dump(2) + "\n");
  }
  return result.interrupted ? exit_interrupted : exit_ok;
}

}  // namespace gmsim::cli
