// A draw from a profile's number distribution: the one rule shared by the scenario
// (variable values) and the generator (session lengths, arrivals).
#pragma once

#include <algorithm>

#include "core/random.hpp"
#include "profile/profile.hpp"

namespace gmsim {

inline double sample(const number_distribution& d, rng& random) {
  double v = 0;
  switch (d.kind) {
    case distribution_kind::constant:
      return d.mean;
    case distribution_kind::uniform:
      return d.min + (d.max - d.min) * random.unit();
    case distribution_kind::normal:
      v = d.mean + d.stddev * random.normal();
      break;
    case distribution_kind::exponential:
      v = d.mean * random.exponential();
      break;
  }
  if (d.max > d.min) v = std::clamp(v, d.min, d.max);
  return v;
}

}  // namespace gmsim
