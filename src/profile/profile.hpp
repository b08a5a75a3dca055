// Profiles: what a simulated run generates and how GMetri would deliver it.
// The structs hold engine settings with every default filled in; parse_profile()
// reads the JSON-with-comments format documented in docs/profiles.md.
#pragma once

#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/duration.hpp"
#include "profile/edge_case_catalogue.hpp"
#include "profile/profile_error.hpp"

namespace gmsim {

// The three webhook types GMetri sends; each (org, deployment, type) is one stream.
enum class webhook_type : std::uint8_t { variables = 0, rules = 1, session = 2 };
inline constexpr int webhook_type_count = 3;
// The types' names, in the enum's order, as GMetri spells them in bodies.
inline constexpr std::string_view webhook_type_names[] = {"variables", "rules", "session"};
std::string_view to_string(webhook_type type);
// "variables", "rules" or "session"; false if the name is none of them.
bool parse_webhook_type(std::string_view name, webhook_type& out);

// What one pacing queue covers: the 200 ms gap and in_flight apply to each queue, and
// its pages leave in the order they were cut (docs/semantics.md, "Pacing scope").
// webhook: one queue per org (one webhook: one URL, one auth string, every deployment
// and type); deployment: per (org, deployment); stream: per (org, deployment, type), the
// model of gmsim 0.1; endpoint: everything a run (or a shard) sends to its target.
enum class pacing_scope : std::uint8_t { webhook, deployment, stream, endpoint };
inline constexpr std::string_view pacing_scope_names[] = {"webhook", "deployment", "stream",
                                                          "endpoint"};
std::string_view to_string(pacing_scope scope);
// A scope's name; false if the name is none of them.
bool parse_pacing_scope(std::string_view name, pacing_scope& out);

// When a stream flushes for the last time. own_tick: at its own next tick at or after
// the end of the duration, as GMetri's periodic flush would (the run lasts up to
// max_delay longer); at_duration: every stream at the duration's end, at once (gmsim
// 0.1: a run that must end on time, with a burst GMetri would not send).
enum class final_flush : std::uint8_t { own_tick, at_duration };
inline constexpr std::string_view final_flush_names[] = {"own_tick", "at_duration"};
std::string_view to_string(final_flush flush);
bool parse_final_flush(std::string_view name, final_flush& out);

// How a viewer's variable changes become rows. changed: one row per viewer per flush,
// each variable changed since the last flush with its last value (gmsim 0.1; changes in
// between never reach the receiver); every_change: no merge, one row per change;
// snapshot: one row per viewer per flush with every variable set so far in the viewer's
// session, current values (as the documentation's examples, whose rows carry them all).
enum class variables_rows : std::uint8_t { changed, every_change, snapshot };
inline constexpr std::string_view variables_rows_names[] = {"changed", "every_change", "snapshot"};

// When a stream flushes. periodic: at its ticks only, every max_delay (gmsim 0.1);
// eager: also as soon as batch_rows rows wait, checked every min_gap (a sender that
// waits for a full page or the delay, whichever comes first).
enum class flush_mode : std::uint8_t { periodic, eager };
inline constexpr std::string_view flush_mode_names[] = {"periodic", "eager"};

// What sets the pace of a live run. open: the arrival process, on the clock (GMetri's
// traffic: viewers do not wait for the receiver); closed: the receiver, as wrk's
// connections do: a queue whose request slot is free gets a fresh full page at once, the
// scenario running as far ahead of the clock as the receiver takes it (gmsim's own, for
// capacity; a dry run has no receiver and runs open).
enum class load_loop : std::uint8_t { open, closed };
inline constexpr std::string_view load_loop_names[] = {"open", "closed"};

// A session row's modified_at. created: its latest session event (at creation, the
// creation: gmsim 0.1); latest_event: the session's latest event of any type (a
// variable set, a rule fired) before the flush that sends the row.
enum class session_modified : std::uint8_t { created, latest_event };
inline constexpr std::string_view session_modified_names[] = {"created", "latest_event"};

// Which answers deliver a page. any_2xx: every 2xx (gmsim 0.1); only_200: GMetri "expects
// a response code of 200", so another 2xx counts as rejected.
enum class success_status : std::uint8_t { any_2xx, only_200 };
inline constexpr std::string_view success_status_names[] = {"2xx", "200"};

enum class identifier_kind : std::uint8_t { email, uuid, phone, anonymous, custom };
enum class arrival_process : std::uint8_t { constant, poisson };
enum class distribution_kind : std::uint8_t { constant, uniform, normal, exponential };

// A distribution of numbers: session lengths (ms) and numeric variable values.
struct number_distribution {
  distribution_kind kind = distribution_kind::uniform;
  double min = 0;     // uniform: lower bound; all kinds: values are clamped to [min, max]
  double max = 0;     // uniform: upper bound
  double mean = 0;    // normal, exponential; constant: the value
  double stddev = 0;  // normal
};

// How a variable's values are drawn. Objects nest.
struct value_spec {
  // scene: the name of the scene the viewer enters (session.scenes), set at each entry.
  enum class kind : std::uint8_t { integer, floating, boolean, string, enumeration, object, scene };
  kind type = kind::integer;
  number_distribution number{distribution_kind::uniform, 0, 100, 0, 0};  // integer, floating
  int decimals = -1;         // floating: round to this many decimals; -1 keeps full precision
  double p_true = 0.5;       // boolean
  int min_length = 4;        // string
  int max_length = 12;       // string
  bool unicode = false;      // string: draw from a mixed-script alphabet, not [a-z0-9]
  std::vector<std::string> values_json;  // enumeration: each value as compact JSON text
  std::vector<double> weights;           // enumeration: same size as values_json, or empty
  std::vector<std::pair<std::string, value_spec>> fields;  // object

  // Declared, not implied: clang (14, with libstdc++) otherwise asks whether this recursive
  // type is default-constructible before it is complete, and fails (the fuzz build uses clang).
  value_spec() = default;
};

enum class change_timing : std::uint8_t { spread, start, end };

struct variable_spec {
  std::string name;
  value_spec value;
  int changes_min = 1;  // times the variable is set in one session, drawn in [min, max]
  int changes_max = 1;
  change_timing when = change_timing::spread;  // within the session, or within its scene
  int scene = -1;  // with session.scenes: set only while the viewer is in this scene
};

// When a rule fires (with session.scenes). during: at times drawn within one of its
// scenes; enter: as the viewer enters each of its scenes, in the script's order.
enum class rule_trigger : std::uint8_t { during, enter };

struct rule_spec {
  std::int64_t cid = 1;
  std::string name;
  std::vector<std::string> scenes;  // the rule fires in one of these, chosen at random
  double probability = 1.0;         // chance that a session triggers the rule at all
  int repeat_max = 1;               // when triggered: 1..repeat_max times
  // The experience script (session.scenes): its scenes' indices there, how it fires, and
  // what must hold first: a variable's value in the session (it fires only after the
  // variable took it for good), another rule's firing (only after its first).
  // ({} on each member: the aggregates that list only the first five fields initialise
  // the rest without -Wmissing-field-initializers.)
  std::vector<int> scene_index{};
  rule_trigger on = rule_trigger::during;
  int if_variable = -1;          // index in session.variables, or none
  std::string if_equals_json{};  // compact JSON of the value it must have
  int after_rule = -1;         // index of an earlier rule, or none
};

// A scene of the experience script: viewers walk the scenes in order, each taking its
// share of the session's length.
struct scene_spec {
  std::string name;
  double share = 1.0;
};

struct weighted_name {
  std::string name;
  double weight = 1.0;
};

// A kind of device that exists: a platform and the browser it runs gmsim's experience in.
struct device_kind {
  std::string platform;
  std::string browser;
  double weight = 1.0;
};

// How a session's browser, platform and device_id are drawn. table: a viewer owns one
// or two devices, each a kind drawn from session.devices, and device_id belongs to the
// device (so one device_id never shows two platforms); free_draw: browser and platform
// drawn apart from session.browsers and session.platforms, device_id per viewer (gmsim
// 0.1: a third of the pairs do not exist, an Oculus browser on Windows).
enum class device_model : std::uint8_t { table, free_draw };
inline constexpr std::string_view device_model_names[] = {"table", "free_draw"};

struct session_spec {
  number_distribution length_ms{distribution_kind::uniform, 60'000, 600'000, 0, 0};
  // The experience script: when not empty, sessions walk these scenes in order, and
  // variables and rules keep to their scenes and conditions; when empty, every variable
  // and rule is drawn within the whole session independently (gmsim 0.1: a rule could
  // fire before its condition held).
  std::vector<scene_spec> scenes;
  std::vector<variable_spec> variables;
  std::vector<rule_spec> rules;
  std::vector<weighted_name> browsers;
  std::vector<weighted_name> platforms;
  device_model devices_drawn = device_model::table;
  std::vector<device_kind> devices;  // table: the kinds, weighted
  bool send_on_end = false;  // a second session event at the end, with modified_at = end
  session_modified modified_at = session_modified::created;
  // Keys after the six documented ones (`Record<string, any>` allows more), in order,
  // each drawn per session from its spec. None by default.
  std::vector<std::pair<std::string, value_spec>> extra_fields;
};

struct arrival_stage {
  millis duration = 0;
  double rate = 0;  // sessions per second reached (linearly) at the stage's end
};

struct arrival_spike {
  millis at = 0;
  millis duration = 0;
  double factor = 10;  // the rate is multiplied by this during the spike
};

struct arrival_spec {
  arrival_process process = arrival_process::poisson;
  double rate = 1.0;  // sessions per second across the whole profile (before stages)
  std::vector<arrival_stage> stages;
  std::vector<arrival_spike> spikes;
};

struct viewer_spec {
  std::uint32_t count = 1000;
  identifier_kind kind = identifier_kind::email;
  std::string domain = "example.com";  // email
  std::string pattern = "viewer-{n}";  // custom: {n} is the viewer number, {hex} a hash
};

struct deployment_spec {
  std::string slug;
  std::array<bool, webhook_type_count> types{true, true, true};  // which webhooks it sends
  double weight = 1.0;  // share of the profile's sessions
};

struct org_spec {
  std::string slug;
  std::vector<deployment_spec> deployments;
};

// The bounds of the delivery settings: one place for the profile reader and the command
// line's overrides alike.
// A profile's own bounds (docs/security.md): its file, and its deployments in all orgs
// together (each takes about 2.5 kB; 10^6 of them took 4.7 GB before there was a bound).
inline constexpr std::uint64_t max_profile_bytes = 16u << 20;
// A run's duration at most: 30 days, as the delivery lag's histogram goes (a replay's
// t_ms is bounded by it too).
inline constexpr millis max_run_duration = 30LL * 24 * 3'600'000;
inline constexpr std::int64_t max_deployments = 100'000;
inline constexpr double max_deployment_weight = 1e9;
inline constexpr int max_batch_rows = 100'000;
inline constexpr int max_in_flight = 1'024;
inline constexpr std::int64_t max_queued_rows_limit = 1'000'000'000;

// GMetri's delivery semantics (reference/README.md), overridable for what-ifs.
struct delivery_spec {
  millis max_delay = 60'000;  // tick period: rows wait at most this long for a flush
  int batch_rows = 500;       // rows per request at most
  millis min_gap = 200;       // between consecutive request starts of one pacing queue
  millis timeout = 30'000;    // request timeout (live runs)
  int in_flight = 1;          // requests of one pacing queue outstanding at once
  pacing_scope scope = pacing_scope::webhook;  // what one pacing queue covers
  final_flush last_flush = final_flush::own_tick;
  variables_rows variables = variables_rows::changed;
  success_status success = success_status::any_2xx;
  flush_mode flush = flush_mode::periodic;
  load_loop loop = load_loop::open;
  // gmsim's own bounds, not GMetri's, each for all queues of a run together (each worker
  // its share). Past queue_memory_rows queued rows, new pages wait on disk (page_spill,
  // about 50-75 bytes a row there) instead of in memory (about 90 bytes a row): memory
  // stays near 90 MB however far the receiver falls behind. Past max_queued_rows the
  // oldest pages are dropped: unsent, in the ledger, counted apart (about 1.5 GB of disk).
  // Before the spill (2026-12) max_queued_rows was 2,000,000, all in memory.
  std::int64_t max_queued_rows = 20'000'000;
  std::int64_t queue_memory_rows = 1'000'000;
  bool align_ticks = false;   // all streams flush together instead of at seeded phases
};


// A part of a run: the deployments d with d % count == index - 1 (`--shard I/N`).
struct shard_spec {
  int index = 1;  // 1..count
  int count = 1;
};

inline constexpr millis default_start_time = 1'767'225'600'000;  // 2026-01-01T00:00:00Z

struct profile {
  std::string name;         // the built-in name or the file's stem
  std::string source;       // the file path, or "builtin:<name>"
  std::string description;  // one line, for `gmsim profiles`
  std::uint64_t seed = 1;
  // When the scenario's time 0 falls: rule timestamps and session times are epoch ms from
  // here. The fixed default keeps dry runs reproducible; a live run starts at the wall
  // clock's now unless the profile or --start-time fixes it (start_time_fixed).
  millis start_time = default_start_time;
  bool start_time_fixed = false;  // the profile gave start_time
  millis duration = 600'000;
  delivery_spec delivery;
  std::vector<org_spec> orgs;
  viewer_spec viewers;
  arrival_spec arrival;
  session_spec session;
  std::vector<edge_case_selection> edge_cases;
};

// The built-in profiles, embedded at build time from profiles/*.json.
struct embedded_profile {
  std::string_view name;
  std::string_view text;
};
const std::vector<embedded_profile>& embedded_profiles();

}  // namespace gmsim
