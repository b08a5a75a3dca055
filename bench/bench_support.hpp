// What the benchmarks share: the workloads (the quickstart profile made heavy, the
// built-in stress profile) and the nlohmann::json baseline that gmsim's bodies are
// measured against.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "profile/profile.hpp"
#include "profile/profile_reader.hpp"

namespace gmsim::bench {

// An hour of 10,000 viewers over 10 deployments, all three types, at 20 sessions/s.
inline profile heavy_profile(millis duration = 3'600'000) {
  profile p = load_profile("quickstart");
  p.duration = duration;
  p.viewers.count = 10'000;
  p.arrival.rate = 20;
  p.session.length_ms = {distribution_kind::uniform, 60'000, 600'000, 0, 0};
  p.orgs[0].deployments.clear();
  for (int i = 1; i <= 10; ++i) {
    p.orgs[0].deployments.push_back(
        deployment_spec{"dep-" + std::to_string(i), {true, true, true}, 1});
  }
  // Each stream its own queue, as when the figures in docs/performance.md were taken
  // (and so that several workers share the work: one org's queue is one worker's).
  p.delivery.scope = pacing_scope::stream;
  return p;
}

// The baseline: a body as plain C++ values (strings, integers), ready for nlohmann to
// build a document from. Generous to nlohmann: gmsim draws every identifier and value
// from seeds on the way, the baseline starts from values already made.
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

inline scalar to_scalar(const nlohmann::json& v) {
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_number_integer()) return v.get<std::int64_t>();
  if (v.is_number_float()) return v.get<double>();
  return v.get<std::string>();
}

// A body gmsim wrote, back to plain values (setup, not measured).
inline plain_page plain_of(const std::string& body) {
  const auto doc = nlohmann::json::parse(body);
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
  return pp;
}

// What is measured: the document built with nlohmann::json and dumped.
inline std::string nlohmann_body(const plain_page& p) {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& r : p.rows) {
    nlohmann::json row;
    row["identifier"] = r.identifier;
    if (p.type == "rules") {
      nlohmann::json rules = nlohmann::json::array();
      for (const auto& x : r.rules) {
        rules.push_back({{"cid", x.cid},
                         {"cname", x.cname},
                         {"scene_name", x.scene},
                         {"timestamp", x.timestamp}});
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
  nlohmann::json doc = {
      {"type", p.type},
      {"data", {{"orgSlug", p.org}, {"depSlug", p.dep}, {"rows", std::move(rows)}}}};
  return doc.dump();
}

}  // namespace gmsim::bench
