// `gmsim replay FILE --target URL`: options into a replay_config, then the reports a run
// writes.
#include <boost/program_options.hpp>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/commands.hpp"
#include "cli/metrics_publisher.hpp"
#include "cli/options.hpp"
#include "report/report.hpp"
#include "run/replay.hpp"

namespace gmsim::cli {
namespace {

namespace po = boost::program_options;

struct replay_options : report_options {
  bool help = false;
  std::string help_text;
  replay_config config;
  metrics_options metrics;  // --metrics-*
};

replay_options parse_replay_options(const args& a) {
  po::options_description opts("Options");
  opts.add_options()("help,h", "show this help");
  add_transport_options(opts, "http:// or https:// endpoint (required)",
                        "request timeout (default 30s)");
  // clang-format off
  opts.add_options()
    ("time-scale", po::value<double>()->value_name("X"), "replay X times faster than recorded")
    ("min-gap", po::value<std::string>()->value_name("D"), "a stream's starts at least this apart, or the recorded gap if shorter (default 200ms, scaled)")
    ("workers", po::value<int>()->value_name("N"), "worker threads, pacing queues split over them (default: the machine's cores)")
    ("record", po::value<std::string>()->value_name("F"), "write every request of the replay (NDJSON) here")
    ("lost-rows", po::value<std::string>()->value_name("F"), "write every row not delivered (NDJSON) here")
    ("quiet,q", "no live progress");
  // clang-format on
  add_report_options(opts, true);
  add_metrics_options(opts);
  const po::variables_map vm = parse_command_line(a, opts, "file", "replay");
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
        << "\nExit codes: 0 done, 1 gmsim failed, 2 bad usage or not a recording, 99 a "
           "threshold failed,\n130 stopped by SIGINT, 143 by SIGTERM (reports written). Threshold "
           "metrics: docs/reports.md.\n";
    out.help = true;
    out.help_text = text.str();
    return out;
  }
  // Before anything that could quote a stray argument: see parse_header.
  replay_config& c = out.config;
  read_transport_options(vm, c.transport);
  if (!vm.count("file")) throw usage_error("FILE is missing: the recording to replay");
  const auto& files = vm["file"].as<std::vector<std::string>>();
  if (files.size() > 1) {
    throw usage_error("one FILE only, got " + shown_argument(a, files[1]) + " too");
  }
  c.recording_path = files.front();
  // `replay --auth-string abc def` with no FILE: 'def' is no recording, and may be half of
  // the secret, which the "cannot read" error would quote.
  if (may_be_auth_piece(a, c.recording_path) && !std::filesystem::exists(c.recording_path)) {
    throw usage_error("FILE: " + shown_argument(a, c.recording_path) + " is no file");
  }
  c.workers = 0;
  if (!vm.count("target")) throw usage_error("--target is required: where to send the recording");
  if (vm.count("time-scale")) {
    double x = vm["time-scale"].as<double>();
    // Below 0.001 a wake-up's time overflowed and the workers spun (1e-300: both cores).
    if (!(x >= 1e-3) || x > 1e6) {
      throw usage_error("--time-scale: must be a number in [0.001, 1e6]");
    }
    c.time_scale = x;
  }
  if (vm.count("min-gap")) c.min_gap = duration_option(vm, "min-gap", 0);
  if (vm.count("stop-grace")) c.stop_grace = duration_option(vm, "stop-grace", 0);
  if (vm.count("workers")) {
    int n = vm["workers"].as<int>();
    if (n < 1 || n > 256)
      throw usage_error("--workers: must be in 1..256, got " + std::to_string(n));
    c.workers = n;
  }
  read_report_options(vm, out);
  if (vm.count("record")) c.record_path = vm["record"].as<std::string>();
  if (vm.count("lost-rows")) c.lost_rows_path = vm["lost-rows"].as<std::string>();
  check_outputs(vm, {"summary-json", "html", "junit", "record", "lost-rows"});
  c.quiet = vm.count("quiet") != 0;
  out.metrics = read_metrics_options(vm, false);
  check_auth_given(vm, c.transport);
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
  warn_if_insecure(options.config.transport);
  options.config.should_stop = abort_on_fail(options, "replay");
  metrics_publisher metrics(options.metrics, options.config.quiet);
  try {
    metrics.start();
  } catch (const std::runtime_error& e) {
    print_error("replay", e.what());
    return exit_failure;
  }
  recording_header header;
  run_result result;
  if (const run_watch watch = metrics.watcher()) {
    // The header is read before the first request, and so before the first call.
    options.config.watch = [&, watch, labelled = false](const run_counters& counts,
                                                        std::int64_t queued,
                                                        std::int64_t in_flight) mutable {
      if (!labelled) {
        metrics.set_labels(
            metrics_labels_of("replay", replay_report_config(options.config, header)));
        labelled = true;
      }
      watch(counts, queued, in_flight);
    };
  }
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
  metrics.set_labels(metrics_labels_of("replay", report));
  for (auto& failure : metrics.finish(result.stats)) result.failed_outputs.push_back(failure);
  const int code = write_reports(options, report, result, [&](nlohmann::json& doc) {
                     doc["replay_of"] = options.config.recording_path;
                   }).exit_code("replay", result.stop_signal);
  metrics.hold();
  return code;
}

}  // namespace gmsim::cli
