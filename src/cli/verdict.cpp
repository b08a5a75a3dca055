// The verdicts of every run kind, in one place: the report options that run, replay and
// check share (--threshold, --abort-on-fail, --junit, --html, --summary-json), the auth
// probes' gate, the reports written from a summary, and `gmsim check`, which gives any
// summary (a merged one too) the verdict a run would have.
#include <boost/program_options.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/options.hpp"
#include "report/html_report.hpp"
#include "report/merge.hpp"
#include "report/report.hpp"
#include "report/thresholds.hpp"
#include "report/verify.hpp"

namespace gmsim::cli {

namespace po = boost::program_options;

void add_report_options(po::options_description& opts, bool can_abort) {
  // clang-format off
  opts.add_options()
    ("summary-json", po::value<std::string>()->value_name("F"), "write the summary JSON here")
    ("html", po::value<std::string>()->value_name("F"), "write the HTML report here (one file, no external resources)")
    ("threshold", po::value<std::vector<std::string>>()->composing()->value_name("EXPR"), "pass/fail criterion, repeatable: \"p99<500ms\", \"error_rate<1%\", \"lost_rows==0\"; exit 99 when one fails")
    ("junit", po::value<std::string>()->value_name("F"), "write a JUnit XML report (thresholds and invariants) here");
  if (can_abort) {
    opts.add_options()
      ("abort-on-fail", "stop as soon as a threshold fails: a count that can no longer pass at once, a rate or latency (error_rate, lost_rate, p50..p999, max) over the last --abort-window, after --abort-grace")
      ("abort-window", po::value<std::string>()->value_name("D"), "the window rates and latencies are judged over (default 10s)")
      ("abort-grace", po::value<std::string>()->value_name("D"), "no rate or latency stops the run before this (default 10s)");
  }
  // clang-format on
}

void read_report_options(const po::variables_map& vm, report_options& out) {
  if (vm.count("threshold")) {
    for (const auto& text : vm["threshold"].as<std::vector<std::string>>()) {
      try {
        out.thresholds.push_back(parse_threshold(text));
      } catch (const threshold_error& e) {
        throw usage_error(std::string("--threshold ") + e.what());
      }
    }
  }
  if (vm.count("summary-json")) out.summary_json = vm["summary-json"].as<std::string>();
  if (vm.count("html")) out.html = vm["html"].as<std::string>();
  if (vm.count("junit")) out.junit = vm["junit"].as<std::string>();
  out.abort_on_fail = vm.count("abort-on-fail") != 0;
  if (vm.count("abort-window")) out.abort_window = duration_option(vm, "abort-window", 1000);
  if (vm.count("abort-grace")) out.abort_grace = duration_option(vm, "abort-grace", 0);
  for (const char* option : {"abort-window", "abort-grace"}) {
    if (vm.count(option) && !out.abort_on_fail) {
      throw usage_error(std::string("--") + option + ": only with --abort-on-fail");
    }
  }
}

std::function<bool(const run_counters&)> abort_on_fail(report_options& options,
                                                       const std::string& command) {
  if (!options.abort_on_fail) return {};
  if (std::none_of(options.thresholds.begin(), options.thresholds.end(),
                   [](const threshold& t) { return can_abort(t); })) {
    print_error(command,
                "--abort-on-fail: no threshold given can stop early (a count, rate or latency with "
                "<, <= or ==, such as lost_rows==0 or p99<1s: see docs/reports.md); running to "
                "the end");
    return {};
  }
  auto watch =
      std::make_shared<abort_watch>(options.thresholds, options.abort_window, options.abort_grace);
  if (watch->judges_windows()) options.watch = watch;
  const auto began = std::chrono::steady_clock::now();
  return [watch, began](const run_counters& so_far) {
    const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::steady_clock::now() - began)
                             .count();
    auto failed = watch->check(so_far, elapsed);
    if (failed) {
      std::fprintf(stderr, "\ngmsim: stopping: threshold '%s' failed (%s)\n", failed->expr.c_str(),
                   failed->note.c_str());
    }
    return failed.has_value();
  };
}

namespace {

// The auth probes' gate: a live run whose probes were accepted fails, as the threshold
// auth_probes_accepted==0 would, unless the user judges that metric already or asked to
// only report it. A dry run cannot tell (it answers itself).
std::vector<threshold> with_auth_gate(std::vector<threshold> thresholds,
                                      const nlohmann::json& summary) {
  // Read with care: `check` reads summaries from anywhere.
  const auto dry = summary.find("dry_run");
  const auto gate = summary.find("auth_probes_gate");
  if (!summary.contains("auth_probes") || (dry != summary.end() && *dry == true) ||
      (gate != summary.end() && *gate != "fail")) {
    return thresholds;
  }
  for (const auto& t : thresholds) {
    if (t.metric == "auth_probes_accepted") return thresholds;
  }
  thresholds.push_back(parse_threshold("auth_probes_accepted==0"));
  return thresholds;
}

// The knee a windowed --abort-on-fail found: the console line and summary["knee"].
void report_knee(const abort_watch& watch, nlohmann::json& summary) {
  const auto& k = watch.best_passing();
  if (!k) return;
  const bool none = k->rows_per_second == 0 && k->failed_at;
  char line[256];
  if (none) {
    std::snprintf(line, sizeof line, "no window met every threshold before '%s' failed at %s",
                  k->failed.c_str(), format_ms(static_cast<double>(*k->failed_at)).c_str());
  } else {
    std::snprintf(line, sizeof line,
                  "%.0f rows/s, %.1f requests/s: the best window that met every threshold "
                  "(%s to %s)",
                  k->rows_per_second, k->requests_per_second,
                  format_ms(static_cast<double>(k->window_start)).c_str(),
                  format_ms(static_cast<double>(k->window_end)).c_str());
  }
  std::string text = std::string("  knee               ") + line + "\n";
  if (k->failed_at && !none) {
    text += "                     then '" + k->failed + "' failed at " +
            format_ms(static_cast<double>(*k->failed_at)) + ": " + k->note + "\n";
  } else if (!k->failed_at) {
    text +=
        "                     no threshold failed: the receiver took the whole run (raise the "
        "load to find its knee)\n";
  }
  std::fputs(text.c_str(), stdout);
  nlohmann::json knee = {{"rows_per_second", std::round(k->rows_per_second * 10) / 10},
                         {"requests_per_second", std::round(k->requests_per_second * 10) / 10},
                         {"window_start_ms", k->window_start},
                         {"window_end_ms", k->window_end}};
  if (k->failed_at) {
    knee["failed_at_ms"] = *k->failed_at;
    knee["failed"] = k->failed;
    knee["note"] = k->note;
  }
  summary["knee"] = std::move(knee);
}

// The thresholds evaluated into summary, their console section, and the files asked for.
void write_summary_reports(const report_options& options, nlohmann::json& summary,
                           const std::string& lost_rows_path, report_outcome& out) {
  if (options.watch) report_knee(*options.watch, summary);
  auto results = evaluate_thresholds(with_auth_gate(options.thresholds, summary), summary);
  add_thresholds(summary, results);
  std::fputs(thresholds_text(results).c_str(), stdout);
  std::fflush(stdout);
  // Each on its own: one that cannot be written (a full disk, a file size limit) does not
  // cost the others.
  auto attempt = [&out](const char* option, const std::function<void()>& write) {
    try {
      write();
    } catch (const std::exception& e) {
      out.failed_outputs.push_back(std::string("--") + option + ": " + e.what());
    }
  };
  if (!options.summary_json.empty()) {
    attempt("summary-json", [&] { write_file(options.summary_json, summary.dump(2) + "\n"); });
  }
  if (!options.junit.empty())
    attempt("junit", [&] { write_file(options.junit, junit_xml(summary)); });
  if (!options.html.empty()) {
    attempt("html", [&] { write_html_report(options.html, summary, lost_rows_path); });
  }
  out.passed = all_passed(results);
}

}  // namespace

int report_outcome::exit_code(const std::string& command, int stop_signal) const {
  for (const auto& failure : failed_outputs) print_error(command, "not written: " + failure);
  if (!internal_error.empty()) {
    print_error(command, "internal error: " + internal_error +
                             " (the reports hold what was counted until then)");
  }
  if (!failed_outputs.empty() || !internal_error.empty()) return exit_failure;
  // 130 for SIGINT, 143 for SIGTERM: the shell's 128 + the signal.
  if (stop_signal != 0) return 128 + stop_signal;
  return passed ? exit_ok : exit_threshold;
}

report_outcome write_reports(const report_options& options, const run_config& config,
                             const run_result& result,
                             const std::function<void(nlohmann::json&)>& annotate) {
  report_outcome out;
  out.failed_outputs = result.failed_outputs;
  out.internal_error = result.internal_error;
  std::fputs(summary_text(config, result).c_str(), stdout);
  auto summary = summary_json(config, result);
  if (annotate) annotate(summary);
  write_summary_reports(options, summary, config.lost_rows_path, out);
  return out;
}

int check_command(const args& a) {
  po::options_description opts("Options");
  opts.add_options()("help,h", "show this help");
  add_report_options(opts, false);
  opts.add_options()("force",
                     "with several summaries: merge them even when they are not exactly the "
                     "shards 1/N..N/N of one run");
  po::variables_map vm;
  report_options options;
  try {
    vm = parse_command_line(a, opts, "input", "check");
    if (vm.count("help")) {
      std::cout
          << "Usage: gmsim check SUMMARY... --threshold EXPR... [options]\n\n"
             "Gives a summary JSON (gmsim run or replay --summary-json, or gmsim merge -o) the\n"
             "verdict a run would have: evaluates the thresholds on it, prints them, and writes\n"
             "the JUnit, HTML or summary JSON with them filled in. Several summaries are the\n"
             "shards of one run: they are merged first, as gmsim merge does. The auth probes'\n"
             "gate applies as in the run (docs/reports.md).\n\n"
          << opts
          << "\nExit codes: 0 every threshold passed, 1 gmsim failed, 2 bad usage or input, 99 a "
             "threshold failed.\n";
      return exit_ok;
    }
    read_report_options(vm, options);
    check_outputs(vm, {"summary-json", "html", "junit"});
    if (!vm.count("input"))
      throw usage_error("no SUMMARY: give one summary JSON, or a run's shards");
  } catch (const usage_error& e) {
    print_error("check", e.what());
    return exit_usage;
  }
  nlohmann::json summary;
  std::vector<std::string> paths = vm["input"].as<std::vector<std::string>>();
  try {
    std::vector<summary_file> inputs;
    for (const auto& path : paths) inputs.push_back(read_summary(path));
    summary = inputs.size() == 1 ? std::move(inputs.front().doc)
                                 : merge_summaries(inputs, vm.count("force") != 0);
  } catch (const merge_error& e) {
    print_error("check", e.what());
    return exit_usage;
  }
  if (options.thresholds.empty() && !summary.contains("auth_probes")) {
    print_error("check", "warning: no --threshold given: nothing to check but the invariants");
  }
  std::printf("\n  gmsim check: %s\n",
              paths.size() == 1 ? paths.front().c_str()
                                : (std::to_string(paths.size()) + " summaries merged").c_str());
  report_outcome out;
  // A run that failed on its own fails its check too: its figures are partial.
  if (summary.contains("internal_error") && summary["internal_error"].is_string()) {
    out.internal_error = summary["internal_error"].get<std::string>();
  }
  write_summary_reports(options, summary, "", out);
  return out.exit_code("check", 0);
}

int verify_command(const args& a) {
  po::options_description opts("Options");
  // clang-format off
  opts.add_options()
    ("help,h", "show this help")
    ("keep", po::value<std::string>()->value_name("WHAT"), "all (default: every delivered value must be stored) or latest (an upserting store: the latest value of each variable and session)")
    ("examples", po::value<int>()->value_name("N"), "examples shown per kind of finding and type (default 5)")
    ("json", po::value<std::string>()->value_name("F"), "write the findings as JSON here");
  // clang-format on
  verify_options options;
  std::string json_path;
  try {
    const po::variables_map vm = parse_command_line(a, opts, "file", "verify");
    if (vm.count("help")) {
      std::cout
          << "Usage: gmsim verify RECORDING EXPORT [options]\n\n"
             "Did the rows arrive intact? Compares what a run delivered (RECORDING: gmsim run\n"
             "--record) with what the receiver stored (EXPORT: NDJSON, one row a line in the\n"
             "webhook's own row shapes, docs/verify.md) and reports, per type, the rows missing,\n"
             "duplicated or altered (numbers rounded, strings truncated or re-encoded, types\n"
             "changed). A variable's value, a rule firing and a session are each one fact.\n\n"
          << opts
          << "\nExit codes: 0 every delivered row is stored as sent, 1 the store differs, 2 bad "
             "usage or a file that cannot be read.\n";
      return exit_ok;
    }
    if (!vm.count("file") || vm["file"].as<std::vector<std::string>>().size() != 2) {
      throw usage_error("give RECORDING and EXPORT: the run's --record file and the store's rows");
    }
    const auto& files = vm["file"].as<std::vector<std::string>>();
    options.recording_path = files[0];
    options.export_path = files[1];
    if (vm.count("keep")) {
      const auto keep = vm["keep"].as<std::string>();
      if (keep != "all" && keep != "latest") {
        throw usage_error("--keep: all or latest, got '" + keep + "'");
      }
      options.keep = keep == "latest" ? keep_mode::latest : keep_mode::all;
    }
    if (vm.count("examples")) {
      const int n = vm["examples"].as<int>();
      if (n < 0 || n > 100000) throw usage_error("--examples: must be in 0..100000");
      options.examples = static_cast<std::size_t>(n);
    }
    if (vm.count("json")) {
      json_path = vm["json"].as<std::string>();
      check_writable("json", json_path);
    }
  } catch (const usage_error& e) {
    print_error("verify", e.what());
    return exit_usage;
  }
  verify_result result;
  try {
    result = verify(options);
  } catch (const verify_error& e) {
    print_error("verify", e.what());
    return exit_usage;
  }
  std::fputs(verify_text(options, result).c_str(), stdout);
  if (!json_path.empty()) write_file(json_path, verify_json(result).dump(2) + "\n");
  return result.differs() ? exit_failure : exit_ok;
}

}  // namespace gmsim::cli
