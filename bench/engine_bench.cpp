// The dry run end to end (generation, merging, pacing, encoding) on one worker: rows per
// second of simulated traffic, and the aggregator's merge and the histogram alone. The
// built-in stress profile's dry run against building its very bodies with nlohmann::json
// (issue 6: at least 10x).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "bench_support.hpp"
#include "core/histogram.hpp"
#include "core/random.hpp"
#include "delivery/aggregator.hpp"
#include "profile/profile_reader.hpp"
#include "report/metrics.hpp"
#include "run/runner.hpp"
#include "scenario/generator.hpp"

namespace gmsim {
namespace {

void dry_run_one_worker(benchmark::State& state) {
  run_config c;
  c.settings = bench::heavy_profile(state.range(0) * 60'000);
  c.dry_run = true;
  c.workers = 1;
  std::int64_t rows = 0, bytes = 0;
  for (auto _ : state) {
    auto r = run(c);
    rows += r.stats.rows_generated;
    bytes += r.stats.bytes_sent;
  }
  state.SetItemsProcessed(rows);
  state.SetBytesProcessed(bytes);
  state.counters["rows_per_run"] =
      static_cast<double>(rows) / static_cast<double>(state.iterations());
}
// Minutes of simulated traffic: 60 is DESIGN's "one hour of a 10,000-viewer profile".
BENCHMARK(dry_run_one_worker)->Arg(10)->Arg(60)->Unit(benchmark::kMillisecond);

// A profile of N orgs of one deployment each, minified on one line as a generator
// writes it: parsed and read into settings (issue 20: the cost must be linear).
void profile_parse_orgs(benchmark::State& state) {
  std::string text = R"({"name":"orgs","duration":"1s","orgs":[)";
  for (std::int64_t i = 0; i < state.range(0); ++i) {
    text += (i == 0 ? "" : ",") + std::string(R"({"slug":"org)") + std::to_string(i) +
            R"(","deployments":["d"]})";
  }
  text += "]}";
  for (auto _ : state) benchmark::DoNotOptimize(parse_profile(text, "orgs.json"));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(profile_parse_orgs)->Arg(2'500)->Arg(10'000)->Unit(benchmark::kMillisecond);

run_config stress_dry_run_config() {
  run_config c;
  c.settings = load_profile("stress");  // as `gmsim run stress --dry-run --workers 1`
  c.dry_run = true;
  c.workers = 1;
  c.quiet = true;
  return c;
}

// The real path: scenario, generation, merging, pacing, encoding, stats, as the CLI runs it.
void stress_dry_run(benchmark::State& state) {
  const run_config c = stress_dry_run_config();
  std::int64_t rows = 0, bytes = 0;
  for (auto _ : state) {
    auto r = run(c);
    rows += r.stats.rows_delivered;
    bytes += r.stats.bytes_sent;
  }
  state.SetItemsProcessed(rows);
  state.SetBytesProcessed(bytes);
  state.counters["rows_per_run"] =
      static_cast<double>(rows) / static_cast<double>(state.iterations());
}
BENCHMARK(stress_dry_run)->Unit(benchmark::kMillisecond);

// The bodies of that dry run, taken from its recording, as plain values; and a check
// that nlohmann's documents are the same JSON as gmsim's bodies.
struct stress_bodies {
  stress_bodies() {
    run_config c = stress_dry_run_config();
    const auto path = std::filesystem::temp_directory_path() /
                      ("gmsim-bench-stress-" + std::to_string(::getpid()) + ".ndjson");
    c.record_path = path.string();
    run(c);
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);  // the recording's header
    while (std::getline(in, line)) {
      const std::string body = nlohmann::json::parse(line)["body"];
      pages.push_back(bench::plain_of(body));
      rows += static_cast<std::int64_t>(pages.back().rows.size());
      if (nlohmann::json::parse(bench::nlohmann_body(pages.back())) !=
          nlohmann::json::parse(body)) {
        error = "nlohmann's document differs from gmsim's body";
      }
    }
    std::filesystem::remove(path);
    if (pages.empty()) error = "the stress dry run recorded no request";
  }
  std::vector<bench::plain_page> pages;
  std::int64_t rows = 0;
  std::string error;
};

void stress_nlohmann(benchmark::State& state) {
  static const stress_bodies bodies;
  if (!bodies.error.empty()) {
    state.SkipWithError(bodies.error.c_str());
    return;
  }
  std::int64_t bytes = 0;
  for (auto _ : state) {
    for (const auto& p : bodies.pages) {
      const auto text = bench::nlohmann_body(p);
      bytes += static_cast<std::int64_t>(text.size());
      benchmark::DoNotOptimize(text.data());
    }
  }
  state.SetItemsProcessed(state.iterations() * bodies.rows);
  state.SetBytesProcessed(bytes);
  state.counters["rows_per_run"] = static_cast<double>(bodies.rows);
}
BENCHMARK(stress_nlohmann)->Unit(benchmark::kMillisecond);

void scenario_generation(benchmark::State& state) {
  scenario model(bench::heavy_profile(600'000));
  std::int64_t events = 0;
  std::vector<event> out;
  for (auto _ : state) {
    for (std::uint32_t d = 0; d < model.deployments().size(); ++d) {
      deployment_generator g(model, d);
      out.clear();
      g.generate_until(model.settings().duration, out);
      events += static_cast<std::int64_t>(out.size());
    }
  }
  state.SetItemsProcessed(events);
}
BENCHMARK(scenario_generation)->Unit(benchmark::kMillisecond);

void aggregator_merge(benchmark::State& state) {
  // 100,000 variable events over 20,000 viewers, merged and cut into pages.
  std::vector<event> events;
  rng random(7);
  for (int i = 0; i < 100'000; ++i) {
    events.push_back(event{i, 0, random.next(), static_cast<std::uint32_t>(random.below(20'000)),
                           static_cast<std::uint32_t>(random.below(4)), webhook_type::variables});
  }
  stream_info s;
  aggregator a(s, 500);
  std::vector<page> pages;
  merge_scratch scratch;
  for (auto _ : state) {
    for (const auto& e : events) a.add(e);
    pages.clear();
    a.flush(100'000, pages, scratch);
    benchmark::DoNotOptimize(pages.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(events.size()));
}
BENCHMARK(aggregator_merge)->Unit(benchmark::kMillisecond);

void histogram_record(benchmark::State& state) {
  histogram h;
  rng random(3);
  std::vector<std::int64_t> values(4096);
  for (auto& v : values) v = static_cast<std::int64_t>(random.below(10'000'000));
  for (auto _ : state) {
    for (auto v : values) h.record(v);
  }
  benchmark::DoNotOptimize(h.count());
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(values.size()));
}
BENCHMARK(histogram_record);

// What --metrics-listen adds to a run: one rendering of the exposition a progress tick
// (once a second without a terminal), from counters with every bucket, status and error
// kind filled. The scrape itself copies the text. Compare with a second of the sender's
// CPU (bench/pacing.sh: about 250 ms at 1,002 paced queues on the 2-core host).
void metrics_render(benchmark::State& state) {
  run_counters c;
  rng random(5);
  for (int i = 0; i < 100'000; ++i) {
    c.latency_buckets.record(static_cast<std::int64_t>(random.below(100'000'000)));
    c.uncorrected_buckets.record(static_cast<std::int64_t>(random.below(100'000'000)));
    c.lag_buckets.record(static_cast<std::int64_t>(random.below(100'000'000)));
    c.start_delay_buckets.record(static_cast<std::int64_t>(random.below(100'000)));
  }
  for (int status : {200, 201, 400, 401, 413, 429, 500, 502, 503, 504}) c.by_status[status] = 1'000;
  for (auto& n : c.by_error) n = 7;
  const metrics_labels labels{"run", "pacing-bench",        "7", "stream",
                              "1/1", "http://127.0.0.1:1/", 60};
  std::size_t bytes = 0;
  for (auto _ : state) {
    const std::string text = prometheus_text(labels, {c, 1'000, 1'002, false});
    bytes = text.size();
    benchmark::DoNotOptimize(text.data());
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(metrics_render)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace gmsim
