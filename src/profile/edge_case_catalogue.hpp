// The edge-case catalogue: named, selectable shapes of traffic that break real
// receivers (batch boundaries, odd text and numbers, time oddities, repetition, bursts,
// auth). A profile names cases from it; scenario/edge_cases.hpp plans their injection.
// docs/edge-cases.md says what each one breaks.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace gmsim {

// An edge case of docs/edge-cases.md, chosen by a profile or --edge-case.
struct edge_case_selection {
  std::string name;  // a catalogue name, or "all"
  int count = 1;     // how many times it is injected
};

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

}  // namespace gmsim
