// The encoder against nlohmann::json, in the same binary, on the same pages: gmsim's
// encoder writes bodies from compact rows (drawing identifiers and values from seeds on
// the way); the baseline builds the same documents from ready-made C++ values with
// nlohmann::json and dumps them. Rows per second; the ratio is the figure that counts.
#include <benchmark/benchmark.h>

#include "bench_support.hpp"
#include "delivery/encoder.hpp"
#include "scenario/generator.hpp"

namespace gmsim {
namespace {

struct workload {
  workload() : model(bench::heavy_profile(600'000)), body_encoder(model) {
    merge_scratch scratch;
    for (const auto& s : model.streams()) {
      deployment_generator g(model, s.deployment);
      std::vector<event> events;
      g.generate_until(model.settings().duration, events);
      aggregator a(s, 500);
      for (const auto& e : events) {
        if (e.type == s.type) a.add(e);
      }
      a.flush(model.settings().duration, pages, scratch);
    }
    for (const auto& p : pages) rows += static_cast<std::int64_t>(p.rows.size());
  }
  scenario model;
  encoder body_encoder;
  std::vector<page> pages;
  std::int64_t rows = 0;
};

const workload& shared() {
  static workload w;
  return w;
}

void encoder_gmsim(benchmark::State& state) {
  const auto& w = shared();
  std::string body;
  std::int64_t bytes = 0;
  for (auto _ : state) {
    for (const auto& p : w.pages) {
      w.body_encoder.encode(p, body);
      bytes += static_cast<std::int64_t>(body.size());
      benchmark::DoNotOptimize(body.data());
    }
  }
  state.SetItemsProcessed(state.iterations() * w.rows);
  state.SetBytesProcessed(bytes);
}
BENCHMARK(encoder_gmsim)->Unit(benchmark::kMillisecond);

std::vector<bench::plain_page> plain_pages(const workload& w) {
  std::vector<bench::plain_page> out;
  std::string body;
  for (const auto& p : w.pages) {
    w.body_encoder.encode(p, body);
    out.push_back(bench::plain_of(body));
  }
  return out;
}

void encoder_nlohmann(benchmark::State& state) {
  const auto& w = shared();
  static const auto pages = plain_pages(w);
  std::int64_t bytes = 0;
  for (auto _ : state) {
    for (const auto& p : pages) {
      const auto text = bench::nlohmann_body(p);
      bytes += static_cast<std::int64_t>(text.size());
      benchmark::DoNotOptimize(text.data());
    }
  }
  state.SetItemsProcessed(state.iterations() * w.rows);
  state.SetBytesProcessed(bytes);
}
BENCHMARK(encoder_nlohmann)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace gmsim
