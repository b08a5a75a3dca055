// The generator of what viewers do: one per deployment, lazy and seeded, reading its
// events from a calendar queue (generator.cpp says how).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "scenario/scenario.hpp"

namespace gmsim {

// Generates one deployment's events, lazily and in time order. Memory grows with the
// sessions in progress, not with the run's length. A call may draw the sessions that
// begin up to about a second past `until` (a block of the calendar), and none of them
// counts in sessions_started() or shows in the output before its time.
class deployment_generator {
 public:
  deployment_generator(const scenario& model, std::uint32_t deployment);
  ~deployment_generator();
  deployment_generator(deployment_generator&&) noexcept;

  // Appends every event with t < until (and t < the scenario's generation_end(): the duration
  // unless a closed loop runs it further), in time order (ties in session order). Calls with a
  // smaller until than before do nothing.
  void generate_until(millis until, std::vector<event>& out);

  std::uint64_t sessions_started() const;

 private:
  struct state;
  std::unique_ptr<state> state_;
};

}  // namespace gmsim
