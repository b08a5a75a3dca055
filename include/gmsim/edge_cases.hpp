// The edge-case catalogue: named, selectable shapes of traffic that break real
// receivers (batch boundaries, odd text and numbers, time oddities, repetition, bursts,
// auth), injected into a run on a deployment of their own. docs/edge-cases.md says what
// each one breaks.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gmsim/profile.hpp"

namespace gmsim {

struct event;
struct deployment_info;
struct stream_info;

struct edge_case_info {
  std::string_view name;
  std::string_view group;   // batch, text, number, value, identifier, time, repeat, volume, auth, quirk
  std::string_view breaks;  // what it breaks in a typical receiver
  // False for documentation quirks: shapes the GMetri docs show that their own types
  // forbid. They are never part of "all" and their bodies fail `gmsim validate`.
  bool valid = true;
};

const std::vector<edge_case_info>& edge_case_catalogue();
// nullptr when no case has that name.
const edge_case_info* find_edge_case(std::string_view name);
// The selection with "all" expanded (every valid case, once per count), checked: throws
// std::invalid_argument naming an unknown case (with the nearest name).
std::vector<edge_case_selection> expand_edge_cases(const std::vector<edge_case_selection>& selected);

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
};

// Plans the injection. edge_deployment is the deployment reserved for the cases;
// organic_deployment receives the one case that needs a second deployment.
edge_plan plan_edge_cases(const profile& settings, const std::vector<stream_info>& streams,
                          std::uint32_t edge_deployment, std::uint32_t organic_deployment);

}  // namespace gmsim
