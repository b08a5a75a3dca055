// Edge cases injected into a run, on a deployment of their own: the plan of what each
// case of the catalogue (profile/edge_case_catalogue.hpp) adds to the scenario.
// docs/edge-cases.md says what each one breaks.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "profile/edge_case_catalogue.hpp"
#include "profile/profile.hpp"
#include "scenario/event.hpp"

namespace gmsim {

// How a request is authorised: as configured, or deliberately not (auth edge cases).
enum class request_auth : std::uint8_t { normal, missing, wrong };

// What the scenario needs to inject the selected cases.
struct edge_plan {
  std::vector<std::string> identifiers;   // viewer number - viewers.count -> identifier
  std::vector<variable_spec> variables;   // appended after the profile's variables
  std::vector<rule_spec> rules;           // appended after the profile's rules
  std::map<std::uint32_t, std::vector<event>> scripts;  // deployment -> its events, in time order
  // (stream, tick) -> how the page cut at that tick is authorised.
  std::map<std::pair<std::uint32_t, millis>, request_auth> auth;
  std::uint64_t quirk_session_flag = 1ull << 61;  // session ordinals with it write created_at as text
  // Session ordinals with it write the documentation's example session (its instance
  // number in bits 40..59); with extra_fields_session_flag, extra keys.
  std::uint64_t docs_session_flag = 1ull << 60;
  std::uint64_t extra_fields_session_flag = 1ull << 39;
  static constexpr int instance_shift = 40;
};

// Plans the injection. edge_deployment is the deployment reserved for the cases;
// organic_deployment receives the one case that needs a second deployment.
edge_plan plan_edge_cases(const profile& settings, const std::vector<stream_info>& streams,
                          std::uint32_t edge_deployment, std::uint32_t organic_deployment);

}  // namespace gmsim
