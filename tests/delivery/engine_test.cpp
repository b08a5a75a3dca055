// The engine on the simulated clock: DESIGN.md's delivery semantics, checked end to end
// (generator, aggregator, pacer, encoder) without a network.
#include "delivery/engine.hpp"
#include "scenario/generator.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>

#include "core/json_writer.hpp"
#include "delivery/schema.hpp"
#include "profile/profile_reader.hpp"
#include "record/ledger_sink.hpp"
#include "run/runner.hpp"
#include "test_support.hpp"

namespace gmsim {
namespace {

using testing::recording_sender;
using testing::run_to_end;
using testing::small_profile;

struct harness {
  // ledgers: keep the recording and the lost rows, as a run given --record and
  // --lost-rows does.
  // closed_loop_end: delivery.loop closed, as a live run sets it up (its scenario may run
  // many durations ahead: 100 here).
  explicit harness(const profile& p, bool keep_ledgers = false, millis closed_loop_end = 0)
      : model(p, closed_loop_end > 0 ? p.duration * 100 : 0), body_encoder(model), sender(time) {
    std::vector<std::uint32_t> all;
    for (std::uint32_t d = 0; d < model.deployments().size(); ++d) all.push_back(d);
    if (keep_ledgers) ledgers = std::make_unique<ledger_sink>(model, true, true);
    engine_setup setup{&model, &body_encoder, all, ledgers.get()};
    setup.closed_loop_end = closed_loop_end;
    work = std::make_unique<engine>(std::move(setup), time, sender);
    sender.attach(*work);
  }
  scenario model;
  encoder body_encoder;
  simulated_clock time;
  recording_sender sender;
  std::unique_ptr<ledger_sink> ledgers;
  std::unique_ptr<engine> work;
};

void expect_accounted(const run_stats& s) {
  EXPECT_EQ(s.rows_generated, s.rows_delivered + s.rows_rejected + s.rows_failed +
                                  s.rows_unacknowledged + s.rows_unsent + s.auth_probe_rows);
  EXPECT_EQ(s.requests_attempted, s.requests_delivered + s.requests_rejected + s.requests_failed +
                                      s.requests_unacknowledged);
  std::int64_t by_type_outcome = 0;
  for (const auto& per_type : s.rows_by_type_outcome) {
    for (const auto n : per_type) by_type_outcome += n;
  }
  EXPECT_EQ(by_type_outcome, s.rows_generated - s.auth_probe_rows);
}

// Runs what falls due up to `until`, then sets the clock there.
void run_until(harness& h, millis until) {
  while (auto t = h.work->next_wakeup()) {
    if (*t > until) break;
    h.time.set(*t);
    h.work->run_due();
  }
  h.time.set(until);
}

// Runs h to its end with one request in flight at a time, the n-th (from 0) answered
// delay(n) ms after it was sent.
void run_answering_after(harness& h, const std::function<millis(std::size_t)>& delay) {
  h.sender.hold = true;
  for (int step = 0; step < 1'000'000 && !h.work->done(); ++step) {
    if (!h.sender.held.empty()) {
      h.time.set(h.time.now() + delay(h.sender.held.front().sent_index));
      h.sender.release_held(1);
    } else if (auto t = h.work->next_wakeup()) {
      h.time.set(std::max(*t, h.time.now()));
    }
    h.work->run_due();
  }
}

// One variables stream under a backlog: 30 s at 50 sessions/s, pages of 5 rows, a flush
// tick every 10 s.
profile one_stream_in_backlog() {
  auto p = small_profile(1, 30'000, 50.0);
  p.orgs[0].deployments[0].types = {true, false, false};  // variables only
  p.viewers.count = 100'000;
  p.delivery.max_delay = 10'000;
  p.delivery.batch_rows = 5;
  return p;
}

TEST(engine, pages_respect_batch_rows_and_streams_respect_min_gap) {
  auto p = small_profile(3, 600'000, 20.0);
  p.delivery.batch_rows = 50;
  harness h(p);
  run_to_end(*h.work, h.time);
  ASSERT_GT(h.sender.sent.size(), 50u);
  std::map<std::uint32_t, millis> last;
  std::int64_t rows = 0;
  for (const auto& r : h.sender.sent) {
    auto body = nlohmann::json::parse(r.body);
    auto n = body["data"]["rows"].size();
    EXPECT_GE(n, 1u);
    EXPECT_LE(n, 50u);
    rows += static_cast<std::int64_t>(n);
    auto it = last.find(r.stream);
    if (it != last.end()) EXPECT_GE(r.at - it->second, p.delivery.min_gap);
    last[r.stream] = r.at;
  }
  const auto& s = h.work->stats();
  EXPECT_EQ(rows, s.rows_delivered);
  EXPECT_EQ(s.page_rows.max(), 50);
  expect_accounted(s);
  EXPECT_TRUE(h.work->done());
}

TEST(engine, under_light_load_every_event_is_delivered_within_the_max_delay) {
  auto p = small_profile(4, 900'000, 0.5);
  harness h(p);
  run_to_end(*h.work, h.time);
  const auto& s = h.work->stats();
  ASSERT_GT(s.lag_ms.count(), 100);
  EXPECT_LE(s.lag_ms.max(), p.delivery.max_delay);
  EXPECT_EQ(s.rows_delivered, s.rows_generated);
  // Ticks are spread: the lag of the oldest events is close to the max delay, not 0.
  EXPECT_GT(s.lag_ms.max(), p.delivery.max_delay / 2);
}

// The pages a variables stream's ticks cut, computed from the deployment's events
// themselves: one row per viewer, rows in the order of their first event, batch rows a page.
struct expected_page {
  millis ready;
  millis oldest;
};
std::vector<std::vector<expected_page>> variables_pages_per_tick(const scenario& model,
                                                                 std::uint32_t deployment,
                                                                 const std::vector<millis>& ticks,
                                                                 std::size_t batch) {
  deployment_generator g(model, deployment);
  std::vector<std::vector<expected_page>> out;
  for (millis tick : ticks) {
    std::vector<event> events;
    g.generate_until(tick, events);
    std::map<std::uint32_t, millis> first_seen;  // viewer -> oldest event
    std::vector<std::uint32_t> order;
    for (const auto& e : events) {
      if (first_seen.emplace(e.viewer, e.t).second) order.push_back(e.viewer);
    }
    out.emplace_back();
    for (std::size_t i = 0; i < order.size(); i += batch) {
      millis oldest = tick;
      for (std::size_t j = i; j < std::min(order.size(), i + batch); ++j)
        oldest = std::min(oldest, first_seen[order[j]]);
      out.back().push_back({tick, oldest});
    }
  }
  return out;
}

// The pacing law over one FIFO: each page at max(its tick, the previous start + min_gap)
// (answers are instant). Checks every start against it; returns the largest lag.
millis expect_one_fifo(const harness& h, const std::vector<expected_page>& pages, millis min_gap) {
  EXPECT_EQ(h.sender.sent.size(), pages.size());
  millis previous = -1'000'000;
  millis max_lag = 0;
  for (std::size_t i = 0; i < std::min(pages.size(), h.sender.sent.size()); ++i) {
    millis expected = std::max(pages[i].ready, previous + min_gap);
    EXPECT_EQ(h.sender.sent[i].at, expected) << "page " << i;
    previous = expected;
    max_lag = std::max(max_lag, expected - pages[i].oldest);
  }
  return max_lag;
}

// One stream under a backlog: each send time is exactly what the pacing law gives,
// computed here from the events themselves, and delays grow past the max delay.
TEST(engine, under_backlog_the_lag_is_exactly_what_pacing_implies) {
  auto p = one_stream_in_backlog();
  p.delivery.align_ticks = true;  // ticks at 0, 10 s, 20 s and the final one at 30 s
  harness h(p);
  run_to_end(*h.work, h.time);

  std::vector<expected_page> pages;
  for (const auto& tick : variables_pages_per_tick(h.model, 0, {10'000, 20'000, 30'000}, 5)) {
    pages.insert(pages.end(), tick.begin(), tick.end());
  }
  const millis max_lag = expect_one_fifo(h, pages, p.delivery.min_gap);
  EXPECT_EQ(h.work->stats().lag_ms.max(), max_lag);
  EXPECT_GT(max_lag, p.delivery.max_delay * 2);  // the backlog pushes delivery late
}

// Two deployments of one org, one webhook (the default scope): their pages share one
// FIFO, each tick's in stream order, and the lag is what that one queue implies: longer
// than either stream would see alone (computed the same way, per stream).
TEST(engine, under_backlog_one_webhook_is_one_fifo_and_its_lag_is_what_that_implies) {
  auto p = one_stream_in_backlog();
  p.orgs[0].deployments.push_back(p.orgs[0].deployments[0]);
  p.orgs[0].deployments[1].slug = "dep-2";
  p.delivery.align_ticks = true;
  ASSERT_EQ(p.delivery.scope, pacing_scope::webhook);  // the default
  harness h(p);
  run_to_end(*h.work, h.time);
  EXPECT_EQ(h.work->queue_count(), 1u);

  const std::vector<millis> ticks{10'000, 20'000, 30'000};
  auto first = variables_pages_per_tick(h.model, 0, ticks, 5);
  auto second = variables_pages_per_tick(h.model, 1, ticks, 5);
  std::vector<expected_page> pages;
  millis alone = 0;  // the worst lag of either stream paced on its own
  for (const auto* one : {&first, &second}) {
    millis previous = -1'000'000;
    for (const auto& tick : *one) {
      for (const auto& page : tick) {
        previous = std::max(page.ready, previous + p.delivery.min_gap);
        alone = std::max(alone, previous - page.oldest);
      }
    }
  }
  for (std::size_t t = 0; t < ticks.size(); ++t) {
    pages.insert(pages.end(), first[t].begin(), first[t].end());
    pages.insert(pages.end(), second[t].begin(), second[t].end());
  }
  const millis max_lag = expect_one_fifo(h, pages, p.delivery.min_gap);
  EXPECT_EQ(h.work->stats().lag_ms.max(), max_lag);
  EXPECT_GT(max_lag, alone + 10 * p.delivery.min_gap);
}

// delivery.success: any 2xx delivers (gmsim 0.1); "200" counts another 2xx rejected, as
// GMetri "expects a response code of 200", and its rows go to the lost rows.
TEST(engine, a_2xx_other_than_200_delivers_unless_success_is_200) {
  auto p = small_profile(1, 120'000, 2.0);
  for (const success_status success : {success_status::any_2xx, success_status::only_200}) {
    SCOPED_TRACE(static_cast<int>(success));
    p.delivery.success = success;
    harness h(p, true);
    h.sender.answer = [](const testing::sent_request&) {
      return request_outcome{outcome_kind::delivered, 204, failure_kind::none, {}};
    };
    run_to_end(*h.work, h.time);
    const auto& s = h.work->stats();
    ASSERT_GT(s.requests_attempted, 0);
    EXPECT_EQ(s.by_status.at(204), s.requests_attempted);
    if (success == success_status::any_2xx) {
      EXPECT_EQ(s.rows_delivered, s.rows_generated);
    } else {
      EXPECT_EQ(s.requests_rejected, s.requests_attempted);
      EXPECT_EQ(s.rows_rejected, s.rows_generated);
      EXPECT_EQ(s.lag_ms.count(), 0);
    }
    expect_accounted(s);
  }
}

// The end of the duration is not an instant every stream flushes at: each stream's last
// flush is its own next tick (phase + k * max_delay, at or after the end), as GMetri's
// periodic flush would; only final_flush at_duration (gmsim 0.1) puts them all there.
TEST(engine, each_stream_flushes_last_at_its_own_tick_unless_asked_to_end_on_time) {
  auto p = small_profile(4, 300'000, 5.0);
  p.delivery.scope = pacing_scope::stream;  // the ticks, not the pacing, are in question
  for (const final_flush last : {final_flush::own_tick, final_flush::at_duration}) {
    SCOPED_TRACE(std::string(to_string(last)));
    p.delivery.last_flush = last;
    harness h(p);
    run_to_end(*h.work, h.time);
    std::map<std::uint32_t, millis> final_send;
    for (const auto& r : h.sender.sent) final_send[r.stream] = std::max(final_send[r.stream], r.at);
    ASSERT_EQ(final_send.size(), h.model.streams().size());
    std::set<millis> instants;
    for (const auto& s : h.model.streams()) {
      const millis d = p.delivery.max_delay;
      // The stream's first tick at or after the duration's end.
      const millis own = s.phase + ((p.duration - s.phase + d - 1) / d) * d;
      const millis expected = last == final_flush::own_tick ? own : p.duration;
      EXPECT_EQ(final_send[s.index], expected) << "stream " << s.index;
      instants.insert(final_send[s.index]);
    }
    if (last == final_flush::own_tick) {
      EXPECT_EQ(instants.size(), h.model.streams().size());  // seeded phases: no two alike
    } else {
      EXPECT_EQ(instants.size(), 1u);
    }
    // Either way a row waits at most max_delay for its flush, and all are delivered.
    EXPECT_LE(h.work->stats().lag_ms.max(), p.delivery.max_delay);
    EXPECT_EQ(h.work->stats().rows_delivered, h.work->stats().rows_generated);
  }
}

// Each scope's queue is exactly its unit: requests of one unit start min_gap apart and
// never more than in_flight at once (reaching it), and requests of two units of the scope
// do start closer than min_gap (the queue is not wider than it says).
TEST(engine, each_pacing_scope_keeps_the_gap_and_in_flight_per_queue) {
  auto base = small_profile(2, 300'000, 20.0);
  base.orgs.push_back(base.orgs[0]);
  base.orgs[1].slug = "beta";
  base.delivery.in_flight = 2;
  base.delivery.batch_rows = 3;
  for (const pacing_scope scope : {pacing_scope::webhook, pacing_scope::deployment,
                                   pacing_scope::stream, pacing_scope::endpoint}) {
    SCOPED_TRACE(std::string(to_string(scope)));
    auto p = base;
    p.delivery.scope = scope;
    harness h(p);
    // The unit of a global stream under this scope, computed here from the slugs.
    auto unit_of = [&](std::uint32_t stream) -> std::string {
      const auto& s = h.model.streams()[stream];
      const auto& d = h.model.deployments()[s.deployment];
      switch (scope) {
        case pacing_scope::webhook: return d.org_slug;
        case pacing_scope::deployment: return d.org_slug + "/" + d.dep_slug;
        case pacing_scope::stream:
          return d.org_slug + "/" + d.dep_slug + "/" + std::string(to_string(s.type));
        case pacing_scope::endpoint: return "";
      }
      return "?";
    };
    std::set<std::string> units;
    for (const auto& s : h.model.streams()) units.insert(unit_of(s.index));
    EXPECT_EQ(h.work->queue_count(), units.size());

    h.sender.hold = true;
    std::map<std::string, int> most_in_flight;
    for (int step = 0; step < 1'000'000; ++step) {
      auto t = h.work->next_wakeup();
      if (!t && h.sender.held.empty()) break;
      if (t) {
        h.time.set(std::max(*t, h.time.now()));
        h.work->run_due();
      }
      std::map<std::string, int> in_flight;
      for (const auto& held : h.sender.held) {
        const std::string unit = unit_of(h.sender.sent[held.sent_index].stream);
        ASSERT_LE(++in_flight[unit], p.delivery.in_flight) << unit << " at " << h.time.now();
        most_in_flight[unit] = std::max(most_in_flight[unit], in_flight[unit]);
      }
      // Answers come 150 ms after the clock's stop, oldest first, two at a time.
      if (!t || (step % 3 == 0 && !h.sender.held.empty())) {
        h.time.set(h.time.now() + 150);
        h.sender.release_held(2);
        h.work->run_due();
      }
    }
    ASSERT_TRUE(h.work->done());
    expect_accounted(h.work->stats());
    int reached = 0;
    for (const auto& [unit, most] : most_in_flight) reached += most == p.delivery.in_flight;
    EXPECT_GT(reached, 0) << "no queue reached in_flight: the test proves nothing";

    std::map<std::string, millis> last;
    bool units_overlap = false;  // two units' starts under min_gap apart
    millis previous_any = -1'000'000;
    std::string previous_unit;
    for (const auto& r : h.sender.sent) {
      const std::string unit = unit_of(r.stream);
      if (auto it = last.find(unit); it != last.end()) {
        EXPECT_GE(r.at - it->second, p.delivery.min_gap) << unit;
      }
      last[unit] = r.at;
      if (unit != previous_unit && r.at - previous_any < p.delivery.min_gap) units_overlap = true;
      previous_any = r.at;
      previous_unit = unit;
    }
    if (units.size() > 1) EXPECT_TRUE(units_overlap) << "units never overlapped";
  }
}

// The two delays of a request: from its intended time (the schedule's cadence, which
// lateness pushes back for good in backlog) and from the earliest moment the rules
// allowed it (the sender's own lateness, which does not add up).
TEST(engine, a_late_sender_shows_in_start_delay_without_adding_up) {
  auto p = one_stream_in_backlog();
  harness on_time(p);
  run_to_end(*on_time.work, on_time.time);
  EXPECT_EQ(on_time.work->stats().start_delay_us.max(), 0);
  EXPECT_EQ(on_time.work->stats().send_delay_us.max(), 0);

  harness late(p);
  while (auto t = late.work->next_wakeup()) {  // every wake-up 3 ms late
    late.time.set(*t + 3);
    late.work->run_due();
  }
  const auto& s = late.work->stats();
  ASSERT_GT(s.start_delay_us.count(), 100);
  EXPECT_EQ(s.start_delay_us.max(), 3'000);
  EXPECT_EQ(s.start_delay_us.percentile(50), 3'000);
  // In backlog every request inherits the lateness of those before it.
  EXPECT_GT(s.send_delay_us.max(), 50 * 3'000);
}

TEST(engine, a_slow_answer_is_not_counted_as_sender_lateness) {
  auto p = one_stream_in_backlog();
  harness h(p);
  // Each answer comes 1 s after its request: the next request goes at the answer.
  run_answering_after(h, [](std::size_t) { return millis{1'000}; });
  ASSERT_TRUE(h.work->done());
  const auto& s = h.work->stats();
  ASSERT_GT(s.start_delay_us.count(), 20);
  EXPECT_EQ(s.start_delay_us.max(), 0);
  EXPECT_GT(s.send_delay_us.max(), 10 * 800'000);  // behind schedule by the slow answers
  expect_accounted(s);
}

// Variables merge per identifier and the last value of each variable wins, end to end:
// each row of each body holds, for every variable the viewer changed since the last
// tick, the value of its latest change, computed here from the generator's events. Each
// row's delivery lag counts from its oldest event: the lag histogram equals the one
// computed here, value for value.
TEST(engine, each_variables_row_carries_the_last_value_set_before_its_tick) {
  auto p = small_profile(1, 300'000, 2.0);
  p.orgs[0].deployments[0].types = {true, false, false};  // variables only
  p.delivery.align_ticks = true;
  p.delivery.max_delay = 10'000;
  harness h(p);
  run_to_end(*h.work, h.time);
  ASSERT_GT(h.sender.sent.size(), 10u);

  deployment_generator g(h.model, 0);
  std::vector<event> events;
  std::size_t read = 0;
  int overwritten = 0;  // values that a later change in the same tick replaced
  run_stats expected_lag;
  for (const auto& request : h.sender.sent) {
    // Light load: every page goes at its tick.
    ASSERT_TRUE(request.at % p.delivery.max_delay == 0 || request.at == p.duration) << request.at;
    g.generate_until(request.at, events);
    std::map<std::string, std::map<std::string, nlohmann::json>> expected;  // identifier -> last
    std::map<std::string, millis> oldest;  // identifier -> its oldest event in this tick
    for (; read < events.size(); ++read) {
      const event& e = events[read];
      oldest.emplace(h.model.identifier(e.viewer), e.t);
      std::string value;
      json_writer w(value);
      h.model.write_value(w, e.item, e.payload);
      w.flush();
      auto& slot = expected[h.model.identifier(e.viewer)][p.session.variables[e.item].name];
      if (!slot.is_null() && slot != nlohmann::json::parse(value)) ++overwritten;
      slot = nlohmann::json::parse(value);
    }
    const auto body = nlohmann::json::parse(request.body);
    ASSERT_EQ(body["data"]["rows"].size(), expected.size()) << "at " << request.at;
    for (const auto& row : body["data"]["rows"]) {
      const auto want = expected.find(row["identifier"].get<std::string>());
      ASSERT_NE(want, expected.end()) << row;
      for (const auto& [name, value] : want->second) {
        EXPECT_EQ(row["variables"][name], value) << row["identifier"] << " " << name;
      }
      EXPECT_EQ(row["variables"].size(), want->second.size()) << row;
      expected_lag.lag_ms.record(request.at - oldest.at(row["identifier"].get<std::string>()));
    }
  }
  EXPECT_TRUE(h.work->stats().lag_ms == expected_lag.lag_ms)
      << "lag max " << h.work->stats().lag_ms.max() << " vs " << expected_lag.lag_ms.max()
      << ", min " << h.work->stats().lag_ms.min() << " vs " << expected_lag.lag_ms.min();
  EXPECT_EQ(read, events.size());
  EXPECT_GT(overwritten, 10);  // the rule was tested: first and last values differed
}

// session.modified_at latest_event: a session row's modified_at is the session's latest
// event of any type (a variable set, a rule fired) before the tick that cut the row,
// computed here from the generator's own events; created (the default) writes the
// creation.
TEST(engine, latest_event_modified_at_is_the_sessions_latest_event_before_its_tick) {
  auto p = small_profile(1, 300'000, 2.0);
  p.delivery.align_ticks = true;
  p.delivery.max_delay = 10'000;
  p.delivery.scope = pacing_scope::stream;  // light load: each page goes at its tick
  p.viewers.count = 1'000'000;
  for (const auto mode : {session_modified::latest_event, session_modified::created}) {
    p.session.modified_at = mode;
    harness h(p);
    run_to_end(*h.work, h.time);
    deployment_generator g(h.model, 0);
    std::vector<event> events;
    std::size_t read = 0;
    // Session tag -> (identifier, created epoch ms), and its latest event so far.
    std::map<std::uint32_t, std::pair<std::string, millis>> session_of;
    std::map<std::uint32_t, millis> latest;
    int later = 0;  // rows whose modified_at is past their creation
    int rows = 0;
    for (const auto& request : h.sender.sent) {
      g.generate_until(request.at, events);
      for (; read < events.size(); ++read) {
        const event& e = events[read];
        if (e.type == webhook_type::session) {
          session_of[e.session_tag] = {h.model.identifier(e.viewer), p.start_time + e.created};
        }
        latest[e.session_tag] = std::max(latest[e.session_tag], e.t);
      }
      const auto body = nlohmann::json::parse(request.body);
      if (body["type"] != "session") continue;
      for (const auto& row : body["data"]["rows"]) {
        const auto created = row["session"]["created_at"].get<millis>();
        const auto modified = row["session"]["modified_at"].get<millis>();
        auto it = std::find_if(session_of.begin(), session_of.end(), [&](const auto& s) {
          return s.second.first == row["identifier"] && s.second.second == created;
        });
        ASSERT_NE(it, session_of.end()) << row;
        const millis expected =
            mode == session_modified::created ? created : p.start_time + latest[it->first];
        EXPECT_EQ(modified, expected) << row;
        EXPECT_LT(modified, p.start_time + request.at);
        later += modified > created ? 1 : 0;
        ++rows;
        session_of.erase(it);
      }
    }
    EXPECT_GT(rows, 100);
    if (mode == session_modified::latest_event) {
      EXPECT_GT(later, rows / 4);  // many sessions did something before their row left
    } else {
      EXPECT_EQ(later, 0);
    }
  }
}

// delivery.flush eager: a stream with batch_rows rows waiting flushes at the next look
// (every min_gap), not at its tick; rows wait less, and none is lost or added.
TEST(engine, eager_flush_sends_a_full_page_at_the_next_look_not_at_the_tick) {
  auto p = small_profile(1, 300'000, 20.0);  // about 40 rows a second: no backlog
  p.orgs[0].deployments[0].types = {true, false, false};  // variables only
  p.viewers.count = 100'000;
  p.delivery.batch_rows = 50;
  p.delivery.align_ticks = true;
  p.delivery.scope = pacing_scope::stream;
  harness periodic(p);
  run_to_end(*periodic.work, periodic.time);
  p.delivery.flush = flush_mode::eager;
  harness eager(p);
  run_to_end(*eager.work, eager.time);
  const auto& a = periodic.work->stats();
  const auto& b = eager.work->stats();
  EXPECT_EQ(a.events_generated, b.events_generated);
  expect_accounted(b);
  EXPECT_EQ(b.rows_delivered, b.rows_generated);
  EXPECT_LT(b.lag_ms.max(), a.lag_ms.max() / 4);
  int between_ticks = 0;
  millis previous = -1;
  for (const auto& r : eager.sender.sent) {
    const auto rows = nlohmann::json::parse(r.body)["data"]["rows"].size();
    EXPECT_LE(rows, 50u);
    if (r.at % p.delivery.max_delay != 0 && r.at != p.duration) {
      // A look's flush, at a multiple of min_gap: a full page, or the rest of the rows
      // that waited with one, sent the gap after it.
      EXPECT_EQ(r.at % p.delivery.min_gap, 0) << r.at;
      if (rows < 50u) EXPECT_EQ(previous, r.at - p.delivery.min_gap) << r.at;
      ++between_ticks;
    }
    previous = r.at;
  }
  EXPECT_GT(between_ticks, 10);
}

// Runs h to its end with every request answered `after` ms after it was sent.
void run_answering_each_after(harness& h, millis after) {
  h.sender.hold = true;
  for (int step = 0; step < 10'000'000; ++step) {
    h.work->run_due();
    if (h.work->done()) return;
    auto next = h.work->next_wakeup();
    if (!h.sender.held.empty()) {
      const millis answer = h.sender.sent[h.sender.held.front().sent_index].at + after;
      next = next ? std::min(*next, answer) : answer;
    }
    ASSERT_TRUE(next) << "nothing due, nothing in flight, and not done";
    h.time.set(std::max(*next, h.time.now()));
    std::size_t due = 0;
    while (due < h.sender.held.size() &&
           h.sender.sent[h.sender.held[due].sent_index].at + after <= h.time.now()) {
      ++due;
    }
    h.sender.release_held(due);
  }
  FAIL() << "the run never ended";
}

// delivery.loop closed: the receiver sets the pace. A queue whose slot frees gets a
// fresh full page at once, the scenario running ahead of the clock as far as that takes;
// at the loop's end generation stops and what waits goes out as it is.
TEST(engine, a_closed_loop_sends_full_pages_as_fast_as_the_answers_come) {
  auto p = small_profile(2, 10'000, 20.0);
  p.viewers.count = 100'000;
  p.delivery.batch_rows = 20;
  p.delivery.min_gap = 0;
  p.delivery.in_flight = 2;
  p.delivery.scope = pacing_scope::stream;
  p.delivery.loop = load_loop::closed;
  std::int64_t variables_requests[2] = {0, 0};
  std::int64_t generated[2] = {0, 0};
  for (int i = 0; i < 2; ++i) {
    const millis answer_after = i == 0 ? 100 : 50;
    harness h(p, false, p.duration);
    run_answering_each_after(h, answer_after);
    const auto& s = h.work->stats();
    expect_accounted(s);
    EXPECT_EQ(s.rows_delivered, s.rows_generated);
    EXPECT_EQ(s.lag_ms.count(), 0);  // not measured: the scenario ran at the receiver's pace
    // A page cut for another queue of the deployment goes as soon as that queue has a
    // free slot, not at its next answer: the sender is never late.
    EXPECT_EQ(s.start_delay_us.max(), 0);
    std::map<std::uint32_t, std::vector<millis>> starts;
    for (const auto& r : h.sender.sent) {
      const auto rows = nlohmann::json::parse(r.body)["data"]["rows"].size();
      // Full pages until the end; then what waited, as it is.
      if (r.at < p.duration) {
        EXPECT_EQ(rows, 20u) << r.at;
        starts[r.stream].push_back(r.at);
      } else {
        EXPECT_LE(rows, 20u);
      }
    }
    // The busiest stream of each deployment (variables) keeps both slots busy from the
    // start to the end: a request every answer_after per slot, no more (in_flight), and
    // a freed slot waits for nothing but, now and then, one answer of another queue of
    // its deployment that had a page waiting per slot (the deployment's mix is kept).
    for (const auto& [stream, at] : starts) {
      if (h.model.streams()[stream].type != webhook_type::variables) continue;
      EXPECT_LE(static_cast<millis>(at.size()), 2 * p.duration / answer_after) << stream;
      EXPECT_GE(static_cast<millis>(at.size()), 2 * p.duration / answer_after - 5) << stream;
      for (std::size_t k = 2; k < at.size(); ++k) EXPECT_EQ(at[k], at[k - 2] + answer_after);
      variables_requests[i] += static_cast<std::int64_t>(at.size());
    }
    generated[i] = s.rows_generated;
  }
  // Twice as fast an answer, twice the traffic: the receiver sets the pace. The open
  // loop's 10 s at 20 sessions/s makes a small share of it.
  EXPECT_NEAR(
      static_cast<double>(variables_requests[1]) / static_cast<double>(variables_requests[0]), 2.0,
      0.02);
  EXPECT_GT(generated[1], generated[0] * 3 / 2);
  p.delivery.loop = load_loop::open;
  harness open(p);
  run_to_end(*open.work, open.time);
  EXPECT_LT(open.work->stats().rows_generated * 4, generated[0]);
}

// One queue for the org (webhook scope): its deployments feed it in turn, and a stop
// counts what was generated ahead as unsent.
TEST(engine, a_closed_loop_feeds_a_shared_queue_from_each_deployment_and_stops_cleanly) {
  auto p = small_profile(3, 10'000, 20.0);
  p.viewers.count = 100'000;
  p.delivery.batch_rows = 20;
  p.delivery.min_gap = 0;
  p.delivery.loop = load_loop::closed;
  harness h(p, true, p.duration);
  h.sender.hold = true;
  std::map<std::uint32_t, int> by_stream;
  for (int k = 0; k < 300; ++k) {
    h.work->run_due();
    ASSERT_EQ(h.sender.held.size(), 1u) << "one queue, one slot: one request at a time";
    by_stream[h.sender.sent.back().stream] += 1;
    h.time.set(h.time.now() + 10);
    h.sender.release_held();
  }
  std::set<std::uint32_t> deployments;
  for (const auto& [stream, n] : by_stream)
    deployments.insert(h.model.streams()[stream].deployment);
  EXPECT_EQ(deployments.size(), 3u);
  h.work->stop();
  EXPECT_FALSE(h.work->done());  // the request in flight is still to come
  h.sender.release_held();
  run_to_end(*h.work, h.time);
  ASSERT_TRUE(h.work->done());
  const auto& s = h.work->stats();
  expect_accounted(s);
  EXPECT_EQ(s.requests_attempted, 301);
  EXPECT_GT(s.rows_unsent, 0);
}

// Coordinated omission: latency counts from when a request was meant to start. A first
// answer 5 s late holds back every page queued behind it; each of those is answered at
// once, yet started 4.8 s past its turn (the 5 s less the 200 ms gap it was due after),
// and that is its latency. Counted from its actual start it would look instant.
TEST(engine, a_late_answer_raises_the_latency_of_every_request_queued_behind_it) {
  auto p = one_stream_in_backlog();
  p.delivery.align_ticks = true;
  p.delivery.batch_rows = 2;  // each tick's pages take longer to send than a tick lasts
  harness h(p);
  run_answering_after(h, [](std::size_t request) { return millis{request == 0 ? 5'000 : 0}; });
  ASSERT_TRUE(h.work->done());
  const auto& s = h.work->stats();
  expect_accounted(s);
  ASSERT_GT(s.requests_attempted, 100);
  // From the actual start: the first request took 5 s, every other one nothing.
  EXPECT_EQ(s.latency_uncorrected_us.max(), 5'000'000);
  EXPECT_EQ(s.latency_uncorrected_us.percentile(99), 0);
  // From the intended start: the queue stays in backlog to the end (a tick's pages take
  // longer to send than the tick lasts) and never makes up the 4.8 s, so every request
  // after the first is that late.
  EXPECT_EQ(s.latency_us.min(), 4'800'000);
  EXPECT_EQ(s.latency_us.max(), 5'000'000);
  EXPECT_GT(s.latency_us.percentile(99), s.latency_uncorrected_us.percentile(99));
}

// A wall clock as a worker sees it: real time in µs, scenario time its whole ms, and
// every wake-up a few hundred µs late (a thread wakes when the kernel lets it), so that
// request starts fall between milliseconds.
class jittery_wall_clock final : public clock {
 public:
  millis now() const override { return us_ / 1000; }
  std::int64_t real_now_us() const override { return us_; }
  std::int64_t real_at_us(millis t) const override { return t * 1000; }
  void wake_at(std::int64_t us) {
    state_ = state_ * 6364136223846793005ULL + 1442695040888963407ULL;
    us_ = std::max(us_, us + static_cast<std::int64_t>((state_ >> 33) % 1000));
  }

 private:
  std::int64_t us_ = 0;
  std::uint64_t state_ = 7;
};

// Answers every request at once, and keeps each stream's real start times.
class real_start_sender final : public request_sender {
 public:
  explicit real_start_sender(const clock& time) : time_(time) {}
  void attach(engine& e) { engine_ = &e; }
  void send(std::uint32_t queue, std::uint32_t slot, std::string_view) override {
    static const request_outcome ok{outcome_kind::delivered, 200, failure_kind::none, {}};
    starts[queue].push_back(time_.real_now_us());
    engine_->complete(queue, slot, ok, time_.real_now_us(), time_.real_now_us());
  }
  std::map<std::uint32_t, std::vector<std::int64_t>> starts;

 private:
  const clock& time_;
  engine* engine_ = nullptr;
};

// The pacer counts whole milliseconds; a live run's starts do not fall on them. The gap
// is kept in real µs: a request that started 0.6 ms into its millisecond holds the next
// one until 200.6 ms later, not 199.6.
TEST(engine, starts_between_milliseconds_stay_min_gap_apart_in_real_time) {
  auto p = one_stream_in_backlog();
  scenario model(p);
  encoder body_encoder(model);
  jittery_wall_clock time;
  real_start_sender sender(time);
  engine work(engine_setup{&model, &body_encoder, {0}, nullptr}, time, sender);
  sender.attach(work);
  while (auto t = work.next_wakeup_real_us()) {
    time.wake_at(*t);
    work.run_due();
  }
  ASSERT_TRUE(work.done());
  expect_accounted(work.stats());
  const std::int64_t gap_us = p.delivery.min_gap * 1000;
  int between_ms = 0, held_by_the_gap = 0;
  for (const auto& [stream, starts] : sender.starts) {
    ASSERT_GT(starts.size(), 100u);
    for (std::size_t i = 1; i < starts.size(); ++i) {
      const std::int64_t gap = starts[i] - starts[i - 1];
      ASSERT_GE(gap, gap_us) << "request " << i << " of stream " << stream;
      if (starts[i] % 1000 != 0) ++between_ms;
      if (gap < gap_us + 1000) ++held_by_the_gap;
    }
  }
  // The test has teeth: starts fell between milliseconds, and the gap is what held them.
  EXPECT_GT(between_ms, 50);
  EXPECT_GT(held_by_the_gap, 50);
}

// A simulated clock whose real time is not whole milliseconds: the engine then holds
// pages for the real-time gap, which the dry run's loop (scenario wake-ups) never sends.
class uneven_simulated_clock final : public simulated_clock {
 public:
  std::int64_t real_now_us() const override { return now() * 1000 + (now() * 7919) % 1000; }
};

// A run that ends with pages neither sent nor counted is gmsim's own failure, said in
// one line with the counts, never a quiet summary.
TEST(engine, a_run_left_with_a_held_page_fails_naming_the_counts) {
  auto p = one_stream_in_backlog();
  scenario model(p);
  encoder body_encoder(model);
  uneven_simulated_clock time;
  recording_sender sender(time);
  engine work(engine_setup{&model, &body_encoder, {0}, nullptr}, time, sender);
  sender.attach(work);
  try {
    run_simulated(work, time);
    FAIL() << "the run ended with " << work.backlog_rows() << " rows waiting, and no error";
  } catch (const accounting_error& e) {
    EXPECT_FALSE(work.done());
    const std::string what = e.what();
    EXPECT_NE(what.find("rows generated " + std::to_string(work.stats().rows_generated)),
              std::string::npos)
        << what;
    EXPECT_NE(what.find("left waiting"), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
  }
}

TEST(engine, counts_that_do_not_add_up_are_an_accounting_error) {
  run_stats s;
  s.rows_generated = 10;
  s.rows_delivered = 10;
  s.requests_attempted = s.requests_delivered = 1;
  s.requests_by_type[0] = 1;
  EXPECT_NO_THROW(check_accounting(s));
  EXPECT_THROW(check_accounting(s, 0, 2), accounting_error);  // a replay line never sent
  s.rows_delivered = 9;
  EXPECT_THROW(check_accounting(s), accounting_error);
  s.rows_unsent = 1;
  EXPECT_NO_THROW(check_accounting(s));
  s.requests_delivered = 0;  // attempted, without an outcome
  EXPECT_THROW(check_accounting(s), accounting_error);
}

std::string slurp(const std::string& path);

// U+2028 and U+2029 are valid raw in JSON, but line readers (Python's splitlines,
// editors, log shippers) break lines at them: the recording and the lost-rows file
// escape them, and each line still decodes to the text that was sent.
TEST(engine, recording_and_lost_rows_lines_hold_no_raw_line_separators) {
  auto p = small_profile(1, 120'000, 1.0);
  p.edge_cases = {{"text-line-separators", 3}};
  harness h(p, true);
  h.sender.answer = [](const testing::sent_request&) {
    return request_outcome{outcome_kind::rejected, 500, failure_kind::none, {}};
  };
  run_to_end(*h.work, h.time);
  testing::scratch_dir dir;
  merge_ledger_sinks({h.ledgers.get()}, "", dir.file("record.ndjson"), dir.file("lost.ndjson"));
  const std::string separators[] = {"\u2028", "\u2029"};
  auto has_separator = [&](const std::string& text) {
    return text.find(separators[0]) != std::string::npos ||
           text.find(separators[1]) != std::string::npos;
  };

  const std::string recording = slurp(dir.file("record.ndjson"));
  EXPECT_FALSE(has_separator(recording));
  std::multiset<std::string> sent, recorded;
  for (const auto& r : h.sender.sent) sent.insert(r.body);
  std::istringstream lines(recording);
  for (std::string line; std::getline(lines, line);) {
    recorded.insert(nlohmann::json::parse(line)["body"].get<std::string>());
  }
  EXPECT_EQ(recorded, sent);
  EXPECT_TRUE(std::any_of(sent.begin(), sent.end(), has_separator));  // there were some

  const std::string lost_rows = slurp(dir.file("lost.ndjson"));
  EXPECT_FALSE(has_separator(lost_rows));
  std::istringstream lost_lines(lost_rows);
  std::int64_t rows = 0, with_separator = 0;
  for (std::string line; std::getline(lost_lines, line);) {
    ++rows;
    const auto identifier = nlohmann::json::parse(line)["identifier"];
    if (identifier.is_string() && has_separator(identifier.get<std::string>())) {
      ++with_separator;
      EXPECT_NE(identifier.get<std::string>().find("-line\u2028sep@edge.example"),
                std::string::npos);
    }
  }
  EXPECT_EQ(rows, h.work->stats().rows_rejected);
  EXPECT_GT(with_separator, 0);
}

// A receiver that accepts the auth edge cases' probes (no Authorization, or a wrong one)
// is a security finding: each probe answered 2xx counts as accepted, none refused does.
TEST(engine, auth_probes_answered_2xx_are_counted_as_accepted) {
  auto p = small_profile(1, 120'000, 1.0);
  p.edge_cases = {{"auth-missing", 2}, {"auth-wrong", 2}};
  harness open(p);
  run_to_end(*open.work, open.time);
  const auto& accepted = open.work->stats();
  EXPECT_GT(accepted.auth_probes, 0);
  EXPECT_EQ(accepted.auth_probes_accepted, accepted.auth_probes);

  harness strict(p);
  strict.sender.answer = [](const testing::sent_request&) {
    return request_outcome{outcome_kind::rejected, 401, failure_kind::none, {}};
  };
  run_to_end(*strict.work, strict.time);
  EXPECT_EQ(strict.work->stats().auth_probes, accepted.auth_probes);
  EXPECT_EQ(strict.work->stats().auth_probes_accepted, 0);
}

// Issue 18: an auth probe is a check of its own. A receiver that refuses it (the right
// answer) loses no rows and has no errors; its rows are counted apart, and listed in the
// ledger marked as a probe's.
TEST(engine, auth_probes_are_counted_apart_from_the_traffic) {
  auto p = small_profile(1, 120'000, 1.0);
  p.edge_cases = {{"auth-missing", 2}, {"auth-wrong", 2}};
  harness strict(p, true);
  // The probes are the requests without the run's auth: the engine says which.
  strict.sender.answer = [](const testing::sent_request& r) {
    return r.auth == request_auth::normal
               ? request_outcome{outcome_kind::delivered, 200, failure_kind::none, {}}
               : request_outcome{outcome_kind::rejected, 401, failure_kind::none, "status 401"};
  };
  run_to_end(*strict.work, strict.time);
  const auto& s = strict.work->stats();
  expect_accounted(s);
  EXPECT_GT(s.auth_probes, 0);
  EXPECT_EQ(s.auth_probes_accepted, 0);
  EXPECT_GT(s.auth_probe_rows, 0);
  EXPECT_EQ(s.rows_lost(), 0);
  EXPECT_EQ(s.requests_rejected, 0);
  EXPECT_EQ(s.by_status.count(401), 0u);
  EXPECT_TRUE(s.causes.empty());
  EXPECT_EQ(s.rows_delivered + s.auth_probe_rows, s.rows_generated);

  testing::scratch_dir dir;
  merge_ledger_sinks({strict.ledgers.get()}, "", "", dir.file("lost.ndjson"));
  std::ifstream in(dir.file("lost.ndjson"));
  std::int64_t lines = 0;
  for (std::string line; std::getline(in, line); ++lines) {
    const auto row = nlohmann::json::parse(line);
    EXPECT_EQ(row["auth_probe"], true) << line;
    EXPECT_EQ(row["reason"], "status 401") << line;
  }
  EXPECT_EQ(lines, s.auth_probe_rows);
}

// Issue 18: a request whose body went out whole and got no answer is unacknowledged:
// an error, not a loss; each cause counted with an example.
TEST(engine, unacknowledged_rows_are_not_lost_and_causes_keep_an_example) {
  auto p = small_profile(2, 300'000, 2.0);
  harness h(p, true);
  int n = 0;
  h.sender.answer = [&](const testing::sent_request&) {
    ++n;
    if (n % 3 == 0) {
      return request_outcome{outcome_kind::rejected, 500, failure_kind::none,
                             "status 500: {\"error\":\"storage failed\"}"};
    }
    if (n % 3 == 1) {
      return request_outcome{outcome_kind::unacknowledged, 0, failure_kind::timeout,
                             "no complete response within 30000 ms"};
    }
    return request_outcome{outcome_kind::delivered, 200, failure_kind::none, {}};
  };
  run_to_end(*h.work, h.time);
  const auto& s = h.work->stats();
  expect_accounted(s);
  EXPECT_GT(s.rows_unacknowledged, 0);
  EXPECT_EQ(s.rows_failed, 0);
  EXPECT_EQ(s.rows_lost(), s.rows_rejected + s.rows_unsent);
  EXPECT_EQ(s.by_error[static_cast<int>(failure_kind::timeout)], s.requests_unacknowledged);
  ASSERT_EQ(s.causes.size(), 2u);
  const auto& status = s.causes.at("status 500");
  EXPECT_EQ(status.requests, s.requests_rejected);
  EXPECT_EQ(status.rows, s.rows_rejected);
  EXPECT_EQ(status.example, "status 500: {\"error\":\"storage failed\"}");
  EXPECT_EQ(s.causes.at("unacknowledged: timeout").rows, s.rows_unacknowledged);
  // Per type: each type's rows by outcome add up to that type's rows.
  for (int t = 0; t < webhook_type_count; ++t) {
    std::int64_t sum = 0;
    for (const auto v : s.rows_by_type_outcome[t]) sum += v;
    EXPECT_EQ(sum, s.rows_by_type[t]) << t;
  }

  testing::scratch_dir dir;
  merge_ledger_sinks({h.ledgers.get()}, "", "", dir.file("lost.ndjson"));
  std::ifstream in(dir.file("lost.ndjson"));
  std::int64_t unacknowledged = 0;
  for (std::string line; std::getline(in, line);) {
    const auto row = nlohmann::json::parse(line);
    if (row["outcome"] == "unacknowledged") {
      ++unacknowledged;
      EXPECT_EQ(row["reason"], "timeout");
      EXPECT_EQ(row["cause"], "no complete response within 30000 ms");
    } else if (row["outcome"] == "rejected") {
      EXPECT_EQ(row["cause"], "status 500: {\"error\":\"storage failed\"}");
    }
  }
  EXPECT_EQ(unacknowledged, s.rows_unacknowledged);
}

TEST(engine, rejected_and_failed_requests_lose_their_rows_to_the_ledger) {
  auto p = small_profile(2, 300'000, 2.0);
  harness h(p, true);
  int n = 0;
  h.sender.answer = [&](const testing::sent_request&) {
    ++n;
    if (n % 3 == 0) return request_outcome{outcome_kind::rejected, 413, failure_kind::none, {}};
    if (n % 3 == 1) return request_outcome{outcome_kind::failed, 0, failure_kind::timeout, {}};
    return request_outcome{outcome_kind::delivered, 200, failure_kind::none, {}};
  };
  run_to_end(*h.work, h.time);
  const auto& s = h.work->stats();
  expect_accounted(s);
  EXPECT_GT(s.rows_rejected, 0);
  EXPECT_GT(s.rows_failed, 0);
  EXPECT_EQ(s.by_status.at(413), s.requests_rejected);
  EXPECT_EQ(s.by_error[static_cast<int>(failure_kind::timeout)], s.requests_failed);

  testing::scratch_dir dir;
  const auto path = dir.file("lost.ndjson");
  merge_ledger_sinks({h.ledgers.get()}, "", "", path);
  std::ifstream in(path);
  std::string line;
  std::int64_t lines = 0, rejected = 0;
  while (std::getline(in, line)) {
    auto row = nlohmann::json::parse(line);
    ++lines;
    EXPECT_TRUE(row.contains("identifier"));
    EXPECT_TRUE(row.contains("intended_ms"));
    if (row["reason"] == "status 413")
      ++rejected;
    else
      EXPECT_EQ(row["reason"], "timeout");
  }
  EXPECT_EQ(lines, s.rows_rejected + s.rows_failed);
  EXPECT_EQ(rejected, s.rows_rejected);
}

// What happened since the last ticks is generated at the stop too, but only once the
// answers in flight are in: generating can take long, and an answer read after it would
// be measured late by as much.
// gmsim's memory bound (delivery.max_queued_rows): a backlog that outgrows it loses its
// oldest pages, each counted unsent and dropped, each row in the ledger with the reason;
// the queue never holds more, and every row is still accounted for.
TEST(engine, a_backlog_past_max_queued_rows_drops_its_oldest_pages_to_the_ledger) {
  auto p = one_stream_in_backlog();
  p.delivery.max_queued_rows = 40;
  harness h(p, true);
  run_to_end(*h.work, h.time);
  const auto& s = h.work->stats();
  expect_accounted(s);
  EXPECT_GT(s.rows_dropped, 0);
  EXPECT_GT(s.requests_dropped, 0);
  EXPECT_LE(s.rows_dropped, s.rows_unsent);
  EXPECT_EQ(s.rows_delivered + s.rows_dropped, s.rows_generated);  // nothing else lost
  EXPECT_LE(s.queue_peak_rows, 40);
  testing::scratch_dir dir;
  const auto path = dir.file("lost.ndjson");
  merge_ledger_sinks({h.ledgers.get()}, "", "", path);
  std::ifstream in(path);
  std::string line;
  std::int64_t lines = 0;
  while (std::getline(in, line)) {
    ++lines;
    EXPECT_EQ(nlohmann::json::parse(line)["reason"], "dropped") << line;
  }
  EXPECT_EQ(lines, s.rows_dropped);
  // The oldest go first: what is delivered late is the newest, so lag stays bounded by
  // the bound, not by the run's length.
  harness unbounded(one_stream_in_backlog());
  run_to_end(*unbounded.work, unbounded.time);
  EXPECT_EQ(unbounded.work->stats().rows_dropped, 0);
  EXPECT_LT(s.lag_ms.max(), unbounded.work->stats().lag_ms.max());
}

TEST(engine, stop_counts_everything_pending_as_unsent_once_the_answers_in_flight_are_in) {
  auto p = small_profile(2, 600'000, 5.0);
  harness h(p);
  h.sender.hold = true;
  run_until(h, 200'000);
  ASSERT_GT(h.work->in_flight(), 0);
  const auto events_before = h.work->stats().events_generated;
  h.work->stop();
  EXPECT_EQ(h.work->stats().events_generated, events_before);
  EXPECT_FALSE(h.work->next_wakeup());  // no tick is run or waited for after a stop
  EXPECT_FALSE(h.work->done());         // requests still in flight
  h.sender.release_held();
  EXPECT_GT(h.work->stats().events_generated, events_before);
  EXPECT_TRUE(h.work->done());
  const auto& s = h.work->stats();
  expect_accounted(s);
  EXPECT_GT(s.rows_unsent, 0);
}

// A worker that fell behind its ticks (more generation than its core does at the time
// scale) and is stopped cuts the rows of the ticks it missed as they would have been cut
// on time: the same rows and pages as a worker that ran every tick, all of them unsent.
// Stopped within the duration, and past it (a drain deadline: the last ticks are at the
// duration).
TEST(engine, a_stop_behind_the_ticks_cuts_rows_as_the_ticks_would_have) {
  auto p = small_profile(2, 600'000, 5.0);
  for (const millis stop_at : {millis{400'000}, millis{700'000}}) {
    harness on_time(p);
    on_time.sender.hold = true;  // the first page of each stream stays in flight
    run_until(on_time, stop_at);
    on_time.work->stop();
    on_time.sender.release_held();
    ASSERT_TRUE(on_time.work->done());

    harness behind(p);
    behind.time.set(stop_at);  // no tick has run
    behind.work->stop();
    ASSERT_TRUE(behind.work->done());

    const auto& a = on_time.work->stats();
    const auto& b = behind.work->stats();
    expect_accounted(a);
    expect_accounted(b);
    EXPECT_EQ(b.requests_attempted, 0);
    EXPECT_EQ(b.rows_unsent, b.rows_generated);
    EXPECT_EQ(b.events_generated, a.events_generated) << stop_at;
    EXPECT_EQ(b.rows_generated, a.rows_generated) << stop_at;
    EXPECT_EQ(b.requests_unsent, a.requests_attempted + a.requests_unsent) << stop_at;
  }
}

// Request bodies also share their buffers: one goes back to the engine when its request
// ends, and to the next request of any stream. A buffer in flight (a transport reads it
// until the answer) must never be written: requests end oldest first, half of them at a
// time, so that new ones are encoded while others are in flight.
TEST(engine, several_in_flight_per_stream_never_exceed_the_limit_nor_share_a_buffer) {
  auto p = small_profile(1, 120'000, 50.0);
  p.delivery.in_flight = 3;
  p.delivery.min_gap = 0;
  p.delivery.batch_rows = 10;
  p.delivery.scope = pacing_scope::stream;  // three queues of three slots
  harness h(p);
  h.sender.hold = true;
  std::size_t most = 0;
  for (;;) {
    auto t = h.work->next_wakeup();
    if (!t && h.sender.held.empty()) break;
    if (t) {
      h.time.set(*t);
      h.work->run_due();
    }
    ASSERT_LE(h.work->in_flight(), 3 * 3);  // three streams
    ASSERT_TRUE(h.sender.held_bodies_intact()) << "at " << h.time.now();
    most = std::max(most, h.sender.held.size());
    h.sender.release_held(t ? (h.sender.held.size() + 1) / 2 : h.sender.held.size());
    ASSERT_TRUE(h.sender.held_bodies_intact()) << "at " << h.time.now();
  }
  EXPECT_GT(most, 3u);  // the limit was reached, not just respected
  expect_accounted(h.work->stats());
  EXPECT_EQ(h.work->stats().rows_delivered, h.work->stats().rows_generated);
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(engine, the_same_seed_gives_the_same_bytes_with_one_or_two_workers) {
  testing::scratch_dir dir;
  std::string bytes[2];
  run_result results[2];
  for (int w = 1; w <= 2; ++w) {
    run_config c;
    c.settings = small_profile(5, 300'000, 5.0);
    c.dry_run = true;
    c.workers = w;
    c.record_path = dir.file("record_" + std::to_string(w) + ".ndjson");
    results[w - 1] = run(c);
    bytes[w - 1] = slurp(c.record_path);
  }
  EXPECT_GT(bytes[0].size(), 10'000u);
  EXPECT_EQ(bytes[0], bytes[1]);
  EXPECT_EQ(results[0].stats.rows_generated, results[1].stats.rows_generated);
  EXPECT_EQ(results[0].stats.events_generated, results[1].stats.events_generated);
}

// Past delivery.queue_memory_rows queued pages wait on disk (page_spill): what goes out,
// when, and what the ledgers list are the same to the byte as with every page in memory,
// through the queue bound's drops too; a directory that cannot take them leaves the pages
// in memory and says why.
TEST(engine, pages_past_queue_memory_rows_wait_on_disk_and_nothing_that_goes_out_changes) {
  testing::scratch_dir dir;
  struct outputs {
    std::string record, lost;
    run_result result;
  };
  const auto run_with = [&](const std::string& name, std::int64_t memory_rows,
                            std::int64_t max_rows, const std::string& spill_dir) {
    run_config c;
    c.settings = one_stream_in_backlog();
    c.settings.delivery.queue_memory_rows = memory_rows;
    c.settings.delivery.max_queued_rows = max_rows;
    c.dry_run = true;
    c.workers = 1;
    c.spill_dir = spill_dir;
    c.record_path = dir.file(name + ".record");
    c.lost_rows_path = dir.file(name + ".lost");
    run_result r = run(c);
    return outputs{slurp(c.record_path), slurp(c.lost_rows_path), r};
  };
  const auto in_memory = run_with("memory", 1'000'000, 1'000'000, dir.path());
  const auto on_disk = run_with("disk", 1, 1'000'000, dir.path());
  EXPECT_EQ(in_memory.result.stats.rows_spilled, 0);
  EXPECT_GT(on_disk.result.stats.queue_peak_rows, 100);  // a backlog, all of it on disk
  EXPECT_GT(on_disk.result.stats.rows_spilled, on_disk.result.stats.queue_peak_rows);
  EXPECT_GT(on_disk.result.stats.spill_peak_bytes, 0);
  EXPECT_TRUE(on_disk.result.stats.spill_failure.empty()) << on_disk.result.stats.spill_failure;
  EXPECT_GT(in_memory.record.size(), 10'000u);
  EXPECT_EQ(on_disk.record, in_memory.record);
  EXPECT_EQ(on_disk.result.stats.rows_delivered, in_memory.result.stats.rows_delivered);
  expect_accounted(on_disk.result.stats);

  // The bound drops the oldest pages, some of them on disk: the same pages, the same
  // ledger lines.
  const auto dropped = run_with("dropped", 1'000'000, 40, dir.path());
  const auto dropped_from_disk = run_with("dropped_disk", 10, 40, dir.path());
  EXPECT_GT(dropped.result.stats.rows_dropped, 0);
  EXPECT_GT(dropped_from_disk.result.stats.rows_spilled, 0);
  EXPECT_EQ(dropped_from_disk.result.stats.rows_dropped, dropped.result.stats.rows_dropped);
  EXPECT_FALSE(dropped.lost.empty());
  EXPECT_EQ(dropped_from_disk.lost, dropped.lost);
  EXPECT_EQ(dropped_from_disk.record, dropped.record);

  // Nowhere to go: the pages stay in memory, the run is the same, the summary says why.
  const auto nowhere = run_with("nowhere", 1, 1'000'000, dir.file("no-such-directory"));
  EXPECT_EQ(nowhere.result.stats.rows_spilled, 0);
  EXPECT_NE(nowhere.result.stats.spill_failure.find("no-such-directory: cannot create a file"),
            std::string::npos)
      << nowhere.result.stats.spill_failure;
  EXPECT_EQ(nowhere.record, in_memory.record);
}

// A stop with pages on disk: each is read back for the ledger (its rows are listed
// unsent) and counted as with every page in memory.
TEST(engine, a_stop_counts_the_pages_on_disk_as_unsent_and_lists_their_rows) {
  testing::scratch_dir dir;
  std::string lost[2];
  run_stats stats[2];
  for (int spill = 0; spill < 2; ++spill) {
    auto p = one_stream_in_backlog();
    p.delivery.queue_memory_rows = spill == 1 ? 1 : 1'000'000;
    harness h(p, true);
    h.sender.hold = true;
    run_until(h, 25'000);
    h.work->stop();
    h.sender.release_held();
    ASSERT_TRUE(h.work->done());
    stats[spill] = h.work->stats();
    const auto path = dir.file("lost" + std::to_string(spill) + ".ndjson");
    merge_ledger_sinks({h.ledgers.get()}, "", "", path);
    lost[spill] = slurp(path);
  }
  expect_accounted(stats[1]);
  EXPECT_GT(stats[1].rows_spilled, 0);
  EXPECT_GT(stats[1].rows_unsent, 0);
  EXPECT_EQ(stats[1].rows_unsent, stats[0].rows_unsent);
  EXPECT_EQ(stats[1].rows_generated, stats[0].rows_generated);
  EXPECT_FALSE(lost[0].empty());
  EXPECT_EQ(lost[1], lost[0]);
}

TEST(engine, the_recording_has_a_header_and_a_line_per_request_in_intended_order) {
  run_config c;
  c.settings = small_profile(3, 200'000, 3.0);
  c.dry_run = true;
  c.workers = 2;
  testing::scratch_dir dir;
  c.record_path = dir.file("record.ndjson");
  auto r = run(c);
  std::ifstream in(c.record_path);
  std::string line;
  std::getline(in, line);
  auto header = nlohmann::json::parse(line);
  EXPECT_EQ(header["gmsim_record"], 1);
  EXPECT_EQ(header["seed"], 42);
  std::int64_t requests = 0, rows = 0;
  millis last = 0;
  while (std::getline(in, line)) {
    auto rec = nlohmann::json::parse(line);
    ++requests;
    EXPECT_GE(rec["t_ms"].get<millis>(), last);
    last = rec["t_ms"];
    auto body = nlohmann::json::parse(rec["body"].get<std::string>());
    EXPECT_EQ(body["type"], rec["type"]);
    EXPECT_EQ(body["data"]["rows"].size(), rec["rows"].get<std::size_t>());
    rows += rec["rows"].get<std::int64_t>();
  }
  EXPECT_EQ(requests, r.stats.requests_attempted);
  EXPECT_EQ(rows, r.stats.rows_generated);
}

TEST(engine, an_hour_of_ten_thousand_viewers_dry_runs_and_accounts_for_every_row) {
  run_config c;
  c.settings = small_profile(10, 3'600'000, 10.0);
  c.settings.viewers.count = 10'000;
  c.dry_run = true;
  c.workers = 2;
  auto r = run(c);
  EXPECT_NEAR(r.stats.sessions_started, 36'000, 1'000);
  EXPECT_EQ(r.stats.rows_delivered, r.stats.rows_generated);
  EXPECT_LE(r.stats.lag_ms.max(), c.settings.delivery.max_delay);
  expect_accounted(r.stats);
}

}  // namespace
}  // namespace gmsim

namespace gmsim {
namespace {

// Every built-in profile dry-runs, accounts for every row, and sends valid bodies.
TEST(engine, every_built_in_profile_dry_runs_with_valid_bodies) {
  testing::scratch_dir dir;
  for (const auto& builtin : embedded_profiles()) {
    SCOPED_TRACE(std::string(builtin.name));
    run_config c;
    c.settings = load_profile(builtin.name);
    c.dry_run = true;
    c.workers = 2;
    c.record_path = dir.file("builtin.ndjson");
    auto r = run(c);
    EXPECT_GT(r.stats.rows_generated, 0);
    // Auth probes (edge-cases, wrong-auth) are counted apart from the traffic.
    EXPECT_EQ(r.stats.rows_delivered + r.stats.auth_probe_rows, r.stats.rows_generated);
    EXPECT_LE(r.stats.page_rows.max(), c.settings.delivery.batch_rows);
    std::ifstream in(c.record_path);
    std::string line;
    std::getline(in, line);
    for (int checked = 0; checked < 40 && std::getline(in, line); ++checked) {
      auto body = nlohmann::json::parse(line)["body"].get<std::string>();
      auto faults = validate_body(body);
      ASSERT_TRUE(faults.empty()) << faults[0].path << ": " << faults[0].reason;
    }
  }
}

}  // namespace
}  // namespace gmsim

namespace gmsim {
namespace {

std::multiset<std::string> bodies_of(const std::string& path) {
  std::multiset<std::string> out;
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);  // the header
  while (std::getline(in, line)) out.insert(nlohmann::json::parse(line)["body"].get<std::string>());
  return out;
}

// Shards split deployments, so streams stay whole: the union of the shards' bodies is
// exactly the unsharded run's, and their counts add up to it.
TEST(engine, the_union_of_the_shards_is_the_whole_run) {
  testing::scratch_dir dir;
  auto settings = small_profile(7, 300'000, 4.0);
  auto run_shard = [&](int index, int count, std::multiset<std::string>& bodies) {
    run_config c;
    c.settings = settings;
    c.dry_run = true;
    c.workers = 2;
    c.shard = {index, count};
    c.record_path = dir.file("shard_" + std::to_string(index) + ".ndjson");
    auto r = run(c);
    auto b = bodies_of(c.record_path);
    bodies.insert(b.begin(), b.end());
    return r;
  };
  std::multiset<std::string> whole, parts;
  auto all = run_shard(1, 1, whole);
  std::int64_t rows = 0, events = 0;
  std::size_t deployments = 0;
  for (int i = 1; i <= 3; ++i) {
    auto r = run_shard(i, 3, parts);
    rows += r.stats.rows_generated;
    events += r.stats.events_generated;
    deployments += r.deployments;
  }
  EXPECT_EQ(parts, whole);
  EXPECT_EQ(rows, all.stats.rows_generated);
  EXPECT_EQ(events, all.stats.events_generated);
  EXPECT_EQ(deployments, 7u);
}

}  // namespace
}  // namespace gmsim
