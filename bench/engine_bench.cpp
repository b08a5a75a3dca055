// The dry run end to end (generation, merging, pacing, encoding) on one worker: rows per
// second of simulated traffic, and the aggregator's merge and the histogram alone.
#include <benchmark/benchmark.h>

#include "bench_support.hpp"
#include "gmsim/aggregator.hpp"
#include "gmsim/histogram.hpp"
#include "gmsim/runner.hpp"
#include "random.hpp"

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
  state.counters["rows_per_run"] = static_cast<double>(rows) / static_cast<double>(state.iterations());
}
// Minutes of simulated traffic: 60 is DESIGN's "one hour of a 10,000-viewer profile".
BENCHMARK(dry_run_one_worker)->Arg(10)->Arg(60)->Unit(benchmark::kMillisecond);

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
  for (auto _ : state) {
    for (const auto& e : events) a.add(e);
    pages.clear();
    a.flush(100'000, pages);
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

}  // namespace
}  // namespace gmsim
