// What the scenario produces: events, and the deployments and streams they belong to.
// Apart from the scenario itself, so that the edge-case planner (which the scenario
// uses) can make events too.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "profile/profile.hpp"

namespace gmsim {

// One thing a viewer did, bound for one stream. Plain data: generated, merged and
// encoded without allocation.
struct event {
  millis t = 0;               // ms since the run's start
  millis created = 0;         // session events: when the session began (ms since start)
  std::uint64_t payload = 0;  // variables: value seed; rules: scene index; session: ordinal
  std::uint32_t viewer = 0;   // index into the viewer population
  std::uint32_t item = 0;     // variables: variable index; rules: rule index
  webhook_type type = webhook_type::variables;
  // The generator's own: the low bits of the session's ordinal, so that a session's
  // events at one ms can be put in order where they meet (in the padding: still 40 bytes).
  std::uint32_t session_tag = 0;
};
static_assert(sizeof(event) == 40, "session_tag is meant to fit in the padding");

struct deployment_info {
  std::uint32_t org = 0;  // index in the profile's orgs: one org, one webhook
  std::string org_slug;
  std::string dep_slug;
  std::array<bool, webhook_type_count> types{};
  std::uint64_t seed = 0;  // from the profile's seed and the slugs
  double rate_share = 0;   // fraction of the profile's session rate
};

// A stream: (org, deployment, type). Its seeded tick phase spreads flushes.
struct stream_info {
  std::uint32_t index = 0;       // in scenario::streams(), the global order
  std::uint32_t deployment = 0;  // in scenario::deployments()
  webhook_type type = webhook_type::variables;
  millis phase = 0;              // first tick at phase, then every max_delay
  // Its pacing queue (delivery.pacing_scope): the org's index for webhook, the
  // deployment's for deployment, its own for stream, 0 for endpoint. Streams with one
  // queue share the gap and in_flight, and their pages leave in the order cut.
  std::uint32_t queue = 0;
};

}  // namespace gmsim
