// The scenario: a profile compiled into deployments, streams and viewers, and how each
// value, identifier and session is written (scenario/generator.hpp draws what viewers
// do). Deterministic: a deployment's events depend on the profile, the seed and the
// deployment's slugs only, never on threads or shards.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "profile/profile.hpp"
#include "scenario/edge_cases.hpp"
#include "scenario/event.hpp"

namespace gmsim {

class json_writer;

class scenario {
 public:
  // Throws profile_error when the profile cannot run (no deployments, no viewers).
  // generation_end: how far sessions arrive and events happen, when longer than the
  // duration (delivery.loop closed: the scenario runs at the receiver's pace, ahead of
  // the clock); the duration by default. Edge cases keep to the duration.
  explicit scenario(profile settings, millis generation_end = 0);

  const profile& settings() const { return profile_; }
  const std::vector<deployment_info>& deployments() const { return deployments_; }
  const std::vector<stream_info>& streams() const { return streams_; }

  // The JSON value of a viewer's identifier, quoted and escaped.
  void write_identifier(json_writer& out, std::uint32_t viewer) const;
  // The identifier's text (not JSON).
  std::string identifier(std::uint32_t viewer) const;
  // A variable's value drawn from its spec with seed (a scene variable's seed is the
  // scene's index).
  void write_value(json_writer& out, std::uint32_t variable, std::uint64_t seed) const;
  std::string value_text(std::uint32_t variable, std::uint64_t seed) const;
  // The session object of a session row (uuid, browser, platform, device_id,
  // created_at, modified_at), created and modified in ms since the run's start.
  void write_session(json_writer& out, std::uint32_t deployment, std::uint32_t viewer,
                     std::uint64_t ordinal, millis created, millis modified) const;

  // How the page of a stream cut at tick is authorised (auth edge cases).
  request_auth auth_of(std::uint32_t stream, millis tick) const;
  bool has_auth_cases() const { return !edges_.auth.empty(); }

  // The run's shape, for rates: sessions per second across the profile at t.
  double rate_at(millis t) const;
  // Events happen before this (ms since the start): the duration, or later (above).
  millis generation_end() const { return generation_end_; }

 private:
  millis generation_end_ = 0;
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
    std::string_view pick(double unit) const { return json[index(unit)]; }  // unit in [0, 1)
    std::size_t index(double unit) const;
    std::vector<double> cumulative;
    std::vector<std::string> json;
  };

  profile profile_;
  name_table browsers_, platforms_;
  // session.devices table: the kinds' platforms (weighted) and, by the same index,
  // their browsers, as JSON strings.
  name_table device_platforms_;
  std::vector<std::string> device_browsers_;
  bool identifier_needs_escape_ = false;
  // Mixed into session uuids: a session's identity in a receiver's store depends on the
  // start time as well as the seed, so that runs at different times never collide on it.
  // 0 for the fixed default start time, so that dry runs keep the bytes they always had.
  std::uint64_t start_salt_ = 0;
  // The experience script: where each scene begins, as a fraction of the session's
  // length (one more than the scenes: the last is 1). Empty without a script.
  std::vector<double> scene_cuts_;
  std::uint32_t organic_variables_ = 0;  // the profile's own; edge-case ones follow
  std::uint32_t organic_rules_ = 0;
  edge_plan edges_;
  std::vector<deployment_info> deployments_;
  std::vector<stream_info> streams_;
  std::vector<rate_piece> rate_pieces_;
};

}  // namespace gmsim
