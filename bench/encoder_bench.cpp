// The encoder against nlohmann::json, in the same binary, on the same pages: gmsim's
// encoder writes bodies from compact rows (drawing identifiers and values from seeds on
// the way); the baseline builds the same documents from ready-made C++ values with
// nlohmann::json and dumps them. Rows per second; the ratio is the figure that counts.
#include <benchmark/benchmark.h>

#include <nlohmann/json.hpp>
#include <variant>

#include "bench_support.hpp"
#include "gmsim/encoder.hpp"

namespace gmsim {
namespace {

struct workload {
  workload() : model(bench::heavy_profile(600'000)), body_encoder(model) {
    for (const auto& s : model.streams()) {
      deployment_generator g(model, s.deployment);
      std::vector<event> events;
      g.generate_until(model.settings().duration, events);
      aggregator a(s, 500);
      for (const auto& e : events) {
        if (e.type == s.type) a.add(e);
      }
      a.flush(model.settings().duration, pages);
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

// The same bodies as plain C++ values, ready for nlohmann to build from.
using scalar = std::variant<std::int64_t, double, bool, std::string>;
struct plain_row {
  std::string identifier;
  std::vector<std::pair<std::string, scalar>> fields;  // variables, or the session object
  struct rule {
    std::int64_t cid;
    std::string cname, scene;
    std::int64_t timestamp;
  };
  std::vector<rule> rules;
};
struct plain_page {
  std::string type, org, dep;
  std::vector<plain_row> rows;
};

scalar to_scalar(const nlohmann::json& v) {
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_number_integer()) return v.get<std::int64_t>();
  if (v.is_number_float()) return v.get<double>();
  return v.get<std::string>();
}

std::vector<plain_page> plain_pages(const workload& w) {
  std::vector<plain_page> out;
  std::string body;
  for (const auto& p : w.pages) {
    w.body_encoder.encode(p, body);
    auto doc = nlohmann::json::parse(body);
    plain_page pp{doc["type"], doc["data"]["orgSlug"], doc["data"]["depSlug"], {}};
    for (const auto& row : doc["data"]["rows"]) {
      plain_row r;
      r.identifier = row["identifier"];
      if (row.contains("variables")) {
        for (const auto& [k, v] : row["variables"].items()) r.fields.emplace_back(k, to_scalar(v));
      } else if (row.contains("session")) {
        for (const auto& [k, v] : row["session"].items()) r.fields.emplace_back(k, to_scalar(v));
      } else {
        for (const auto& rule : row["rules"]) {
          r.rules.push_back({rule["cid"], rule["cname"], rule["scene_name"], rule["timestamp"]});
        }
      }
      pp.rows.push_back(std::move(r));
    }
    out.push_back(std::move(pp));
  }
  return out;
}

void encoder_nlohmann(benchmark::State& state) {
  const auto& w = shared();
  static const auto pages = plain_pages(w);
  std::int64_t bytes = 0;
  for (auto _ : state) {
    for (const auto& p : pages) {
      nlohmann::json rows = nlohmann::json::array();
      for (const auto& r : p.rows) {
        nlohmann::json row;
        row["identifier"] = r.identifier;
        if (p.type == "rules") {
          nlohmann::json rules = nlohmann::json::array();
          for (const auto& x : r.rules) {
            rules.push_back({{"cid", x.cid}, {"cname", x.cname}, {"scene_name", x.scene}, {"timestamp", x.timestamp}});
          }
          row["rules"] = std::move(rules);
        } else {
          nlohmann::json fields = nlohmann::json::object();
          for (const auto& [k, v] : r.fields) {
            std::visit([&](const auto& x) { fields[k] = x; }, v);
          }
          row[p.type == "session" ? "session" : "variables"] = std::move(fields);
        }
        rows.push_back(std::move(row));
      }
      nlohmann::json doc = {{"type", p.type}, {"data", {{"orgSlug", p.org}, {"depSlug", p.dep}, {"rows", std::move(rows)}}}};
      auto text = doc.dump();
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
