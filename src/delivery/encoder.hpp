// The encoder: a page to the exact bytes of a GMetri webhook request body.
#pragma once

#include <string>
#include <vector>

#include "delivery/aggregator.hpp"
#include "scenario/scenario.hpp"

namespace gmsim {

// Holds every fixed fragment of the bodies (stream prefixes, variable keys, rule
// fields) pre-encoded, so that a row costs its identifier and values only. Immutable
// after construction: one per run, shared by the workers.
class encoder {
 public:
  explicit encoder(const scenario& model);

  // Replaces out's content with the body of p; out's storage is reused.
  void encode(const page& p, std::string& out) const;

 private:
  const scenario& model_;
  std::vector<std::string> stream_prefix_;  // {"type":..,"data":{"orgSlug":..,"depSlug":..,"rows":[
  std::vector<std::string> variable_key_;   // "name":
  std::vector<std::string> rule_prefix_;    // {"cid":1,"cname":"..","scene_name":
  std::vector<std::vector<std::string>> rule_scene_;  // "scene",
};

}  // namespace gmsim
