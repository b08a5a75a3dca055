// The workload the benchmarks share: the quickstart profile, made heavy.
#pragma once

#include "gmsim/profile.hpp"

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
    p.orgs[0].deployments.push_back(deployment_spec{"dep-" + std::to_string(i), {true, true, true}, 1});
  }
  return p;
}

}  // namespace gmsim::bench
