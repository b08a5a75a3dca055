// The scenario: a profile compiled into deployments, streams and viewers, and the lazy,
// seeded generator of what viewers do. Deterministic: a deployment's events depend on
// the profile, the seed and the deployment's slugs only, never on threads or shards.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "gmsim/edge_cases.hpp"
#include "gmsim/profile.hpp"

namespace gmsim {

class json_writer;

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
};

class scenario {
 public:
  // Throws profile_error when the profile cannot run (no deployments, no viewers).
  explicit scenario(profile settings);

  const profile& settings() const { return profile_; }
  const std::vector<deployment_info>& deployments() const { return deployments_; }
  const std::vector<stream_info>& streams() const { return streams_; }

  // The JSON value of a viewer's identifier, quoted and escaped.
  void write_identifier(json_writer& out, std::uint32_t viewer) const;
  // The identifier's text (not JSON).
  std::string identifier(std::uint32_t viewer) const;
  // A variable's value drawn from its spec with seed.
  void write_value(json_writer& out, std::uint32_t variable, std::uint64_t seed) const;
  // The session object of a session row (uuid, browser, platform, device_id,
  // created_at, modified_at), created and modified in ms since the run's start.
  void write_session(json_writer& out, std::uint32_t deployment, std::uint32_t viewer,
                     std::uint64_t ordinal, millis created, millis modified) const;

  // How the page of a stream cut at tick is authorised (auth edge cases).
  request_auth auth_of(std::uint32_t stream, millis tick) const;
  bool has_auth_cases() const { return !edges_.auth.empty(); }

  // The run's shape, for rates: sessions per second across the profile at t.
  double rate_at(millis t) const;

 private:
  friend class deployment_generator;
  // The session rate as pieces where it is linear in t: breakpoints at stage ends and
  // spike edges. Arrivals invert the cumulative rate, so no draw is wasted.
  struct rate_piece {
    double t0 = 0, t1 = 0;   // ms since start
    double rate0 = 0;        // sessions per ms at t0
    double slope = 0;        // sessions per ms per ms
    double cumulative0 = 0;  // sessions expected in [0, t0)
  };
  // The time at which the cumulative rate reaches sessions, or a negative number when
  // the run ends first.
  double time_of_cumulative(double sessions) const;
  std::uint64_t viewer_hash(std::uint32_t viewer) const;
  // Writes the identifier's text raw (unescaped).
  void write_identifier_text(json_writer& text, std::uint32_t viewer) const;

  // Weighted names (browsers, platforms), pre-encoded as JSON strings.
  struct name_table {
    name_table() = default;
    explicit name_table(const std::vector<weighted_name>& names);
    std::string_view pick(double unit) const;  // unit in [0, 1)
    std::vector<double> cumulative;
    std::vector<std::string> json;
  };

  profile profile_;
  name_table browsers_, platforms_;
  bool identifier_needs_escape_ = false;
  std::uint32_t organic_variables_ = 0;  // the profile's own; edge-case ones follow
  std::uint32_t organic_rules_ = 0;
  edge_plan edges_;
  std::vector<deployment_info> deployments_;
  std::vector<stream_info> streams_;
  std::vector<rate_piece> rate_pieces_;
};

// Generates one deployment's events, lazily and in time order. Memory grows with the
// sessions in progress, not with the run's length. A call may draw the sessions that
// begin up to about a second past `until` (a block of the calendar), and none of them
// counts in sessions_started() or shows in the output before its time.
class deployment_generator {
 public:
  deployment_generator(const scenario& model, std::uint32_t deployment);
  ~deployment_generator();
  deployment_generator(deployment_generator&&) noexcept;

  // Appends every event with t < until (and t < the run's duration), in time order
  // (ties in session order). Calls with a smaller until than before do nothing.
  void generate_until(millis until, std::vector<event>& out);

  std::uint64_t sessions_started() const;

 private:
  struct state;
  std::unique_ptr<state> state_;
};

}  // namespace gmsim
