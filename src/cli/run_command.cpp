// gmsim run: the main job. Options in, the run, the reports out; without --target the
// embedded receiver is started here, and --abort-on-fail is armed here.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "cli/commands.hpp"
#include "cli/metrics_publisher.hpp"
#include "cli/options.hpp"
#include "net/receiver.hpp"
#include "report/report.hpp"
#include "report/thresholds.hpp"

namespace gmsim::cli {
namespace {

// --compare pacing_scope: the dry run once per scope, what each shows side by side. A dry
// run's answers are instant, so the lag is the one GMetri's batching and pacing alone
// cause, and the worst queue is the backlog that pacing alone builds.
int compare_pacing_scopes(const run_options& options) {
  const run_config& base = options.config;
  std::printf("\n  %s, seed %llu, %s of traffic: each pacing scope in a dry run\n\n",
              base.settings.name.c_str(), static_cast<unsigned long long>(base.settings.seed),
              format_duration(base.settings.duration).c_str());
  std::printf("  %-12s %7s %9s %10s %10s %10s %12s %12s\n", "scope", "queues", "requests",
              "lag p50", "lag p99", "lag max", "worst queue", "concurrency");
  for (std::size_t i = 0; i < std::size(pacing_scope_names); ++i) {
    run_config config = base;
    config.settings.delivery.scope = static_cast<pacing_scope>(i);
    const run_result r = run(config);
    const histogram& lag = r.stats.lag_ms;
    auto ms = [&lag](double p) {
      return lag.count() == 0 ? std::string("-") : format_ms(static_cast<double>(lag.percentile(p)));
    };
    const std::string name = std::string(pacing_scope_names[i]) +
                             (config.settings.delivery.scope == base.settings.delivery.scope ? " *" : "");
    std::printf("  %-12s %7zu %9lld %10s %10s %10s %12s %12lld\n", name.c_str(), r.queues,
                static_cast<long long>(r.stats.requests_attempted), ms(50).c_str(), ms(99).c_str(),
                lag.count() == 0 ? "-" : format_ms(static_cast<double>(lag.max())).c_str(),
                (std::to_string(r.stats.queue_peak_rows) + " rows").c_str(),
                static_cast<long long>(r.queues) * base.settings.delivery.in_flight);
  }
  std::printf("\n  * the profile's scope. lag: from a viewer's action to its delivery (instant "
              "answers).\n  worst queue: the most rows waiting in one queue. concurrency: "
              "requests that may be in\n  flight at once against a slow receiver (queues x "
              "in_flight %d). docs/semantics.md#pacing-scope\n",
              base.settings.delivery.in_flight);
  return exit_ok;
}

// A live run given --start-time starts its traffic at that wall-clock instant: the shards
// of one run, started a little apart, then start together (as k6-operator's starter
// does). One given a past instant starts now and says how far behind its timestamps run.
void wait_for_start_time(const run_config& config) {
  const millis start = config.settings.start_time;
  const millis ahead = start - wall_clock_ms();
  if (ahead > 0) {
    if (!config.quiet) {
      std::fprintf(stderr, "gmsim: waiting %s for --start-time %s\n",
                   format_duration(ahead).c_str(), format_iso8601(start).c_str());
    }
    std::this_thread::sleep_until(std::chrono::system_clock::time_point(std::chrono::milliseconds(start)));
  } else if (ahead < -1000 && !config.quiet) {
    std::fprintf(stderr,
                 "gmsim: --start-time %s is %s in the past: the traffic's timestamps run that far "
                 "behind the wall clock\n",
                 format_iso8601(start).c_str(), format_duration(-ahead / 1000 * 1000).c_str());
  }
}

// Without --target, a live run sends to gmsim's own validating receiver on 127.0.0.1,
// started here with the run's auth string, its gap scaled as the run's time is; the
// report then says what the receiver saw.
std::unique_ptr<receiver> start_embedded_receiver(run_config& config) {
  receiver_config rc;
  rc.listen = "127.0.0.1:0";
  rc.auth_string = config.transport.auth_string;
  rc.min_gap =
      static_cast<millis>(static_cast<double>(config.settings.delivery.min_gap) / config.time_scale);
  // The tolerance for arrival jitter scales too (5 ms of 200 ms by default), or at a
  // large --time-scale it would swallow the whole gap and no violation could show.
  rc.gap_tolerance = std::min(rc.gap_tolerance, rc.min_gap / 40);
  rc.gap_scope = config.settings.delivery.scope;
  auto embedded = std::make_unique<receiver>(rc);
  embedded->start();
  config.transport.target =
      parse_target("http://127.0.0.1:" + std::to_string(embedded->port()) + "/webhook");
  if (!config.quiet) {
    std::fprintf(stderr, "gmsim: no --target: sending to the embedded receiver at %s\n",
                 config.transport.target.text.c_str());
  }
  return embedded;
}

// Throws usage_error when the run's memory estimate is more than the budget: max_memory
// when given, else what the machine has available.
void check_memory(const profile& settings, std::optional<std::uint64_t> max_memory) {
  const memory_estimate need = estimate_memory(settings);
  std::optional<memory_budget> budget;
  if (max_memory) {
    budget = memory_budget{*max_memory, "--max-memory"};
  } else {
    budget = available_memory();
  }
  if (!budget || need.bytes <= budget->bytes) return;
  const auto mib = [](std::uint64_t bytes) {
    return std::to_string((bytes + (1u << 20) - 1) >> 20);
  };
  throw usage_error(settings.source + ": this run needs an estimated " + mib(need.bytes) +
                    " MiB (" + need.parts + ") and " + mib(budget->bytes) + " MiB are available (" +
                    budget->source +
                    "); use fewer deployments or edge cases, a lower delivery.queue_memory_rows "
                    "(--queue-memory-rows), or --max-memory SIZE (off: no check) to run it anyway");
}

}  // namespace

int run_command(const args& a) {
  run_options options;
  try {
    options = parse_run_options(a);
  } catch (const usage_error& e) {
    print_error("run", e.what());
    return exit_usage;
  } catch (const profile_error& e) {
    print_error("run", e.what());
    return exit_usage;
  }
  if (options.help) {
    std::fputs(options.help_text.c_str(), stdout);
    return exit_ok;
  }
  if (options.seed_picked) {
    std::fprintf(stderr, "gmsim: --seed random: %llu (--seed %llu gives this run's traffic again)\n",
                 static_cast<unsigned long long>(options.config.settings.seed),
                 static_cast<unsigned long long>(options.config.settings.seed));
  }
  // Before anything starts: a profile that cannot fit ends now, with exit 2 and the
  // estimate, not later with std::bad_alloc (10^6 deployments took 4.7 GB).
  if (options.memory_check) {
    try {
      check_memory(options.config.settings, options.max_memory);
    } catch (const usage_error& e) {
      print_error("run", e.what());
      return exit_usage;
    }
  }
  if (!options.config.dry_run && options.start_time_given) wait_for_start_time(options.config);
  if (!options.config.dry_run && options.config.shard.count > 1 &&
      !options.config.settings.start_time_fixed) {
    print_error("run", "warning: --shard without --start-time: this shard's traffic starts at its "
                       "own now, so the shards' summaries will not merge; give every shard one "
                       "--start-time (docs/distributed.md)");
  }
  if (!options.compare.empty()) {
    try {
      return compare_pacing_scopes(options);
    } catch (const profile_error& e) {
      print_error("run", e.what());
      return exit_usage;
    }
  }
  // A dry run is over too soon to stop; its thresholds are checked at the end like any.
  if (!options.config.dry_run) options.config.should_stop = abort_on_fail(options, "run");
  // Bound before anything is sent: a port that is taken stops the run from starting.
  metrics_publisher metrics(options.metrics, options.config.quiet);
  try {
    metrics.start();
  } catch (const std::runtime_error& e) {
    print_error("run", e.what());
    return exit_failure;
  }
  std::unique_ptr<receiver> embedded;
  run_result result;
  try {
    if (!options.config.dry_run) {
      if (options.config.transport.target.text.empty()) {
        embedded = start_embedded_receiver(options.config);
      } else {
        warn_if_insecure(options.config.transport);
      }
    }
    metrics.set_labels(metrics_labels_of("run", options.config));
    options.config.watch = metrics.watcher();
    result = run(options.config);
    if (embedded) {
      embedded->stop();
      result.receiver = embedded->counts();
    }
  } catch (const profile_error& e) {
    print_error("run", e.what());
    return exit_usage;
  } catch (const std::invalid_argument& e) {
    print_error("run", e.what());
    return exit_usage;
  }
  for (auto& failure : metrics.finish(result.stats)) result.failed_outputs.push_back(failure);
  const int code =
      write_reports(options, options.config, result).exit_code("run", result.stop_signal);
  metrics.hold();
  return code;
}

}  // namespace gmsim::cli
