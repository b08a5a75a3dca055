#include "delivery/aggregator.hpp"

#include <gtest/gtest.h>

namespace gmsim {
namespace {

stream_info stream_of(webhook_type type) {
  stream_info s;
  s.index = 7;
  s.type = type;
  return s;
}

event var(millis t, std::uint32_t viewer, std::uint32_t variable, std::uint64_t value) {
  return event{t, 0, value, viewer, variable, webhook_type::variables};
}

TEST(aggregator, variables_merge_per_identifier_and_the_last_value_wins) {
  aggregator a(stream_of(webhook_type::variables), 500);
  a.add(var(1, 10, 0, 100));
  a.add(var(2, 20, 1, 200));
  a.add(var(3, 10, 1, 101));
  a.add(var(4, 10, 0, 102));  // overwrites viewer 10's variable 0
  std::vector<page> pages;
  merge_scratch scratch;
  a.flush(60'000, pages, scratch);
  ASSERT_EQ(pages.size(), 1u);
  const page& p = pages[0];
  EXPECT_EQ(p.stream, 7u);
  EXPECT_EQ(p.ready, 60'000);
  ASSERT_EQ(p.rows.size(), 2u);
  // Rows in order of first appearance; variables in the order first set.
  EXPECT_EQ(p.rows[0].viewer, 10u);
  ASSERT_EQ(p.rows[0].item_count, 2u);
  EXPECT_EQ(p.items[p.rows[0].first_item].index, 0u);
  EXPECT_EQ(p.items[p.rows[0].first_item].payload, 102u);
  EXPECT_EQ(p.items[p.rows[0].first_item + 1].index, 1u);
  EXPECT_EQ(p.items[p.rows[0].first_item + 1].payload, 101u);
  EXPECT_EQ(p.rows[0].event_count, 3u);
  EXPECT_EQ(p.rows[0].oldest, 1);
  EXPECT_EQ(p.rows[1].viewer, 20u);
  EXPECT_EQ(p.rows[1].item_count, 1u);
  EXPECT_EQ(a.pending_events(), 0u);
}

// delivery.variables every_change: no merge, each change its own row in time order,
// none lost to a later value; rules and sessions are not affected.
TEST(aggregator, every_change_gives_one_row_per_change_in_time_order) {
  aggregator a(stream_of(webhook_type::variables), 500, variables_rows::every_change);
  a.add(var(1, 10, 0, 100));
  a.add(var(2, 20, 1, 200));
  a.add(var(3, 10, 1, 101));
  a.add(var(4, 10, 0, 102));
  std::vector<page> pages;
  merge_scratch scratch;
  a.flush(60'000, pages, scratch);
  ASSERT_EQ(pages.size(), 1u);
  const page& p = pages[0];
  ASSERT_EQ(p.rows.size(), 4u);
  const std::uint32_t viewers[] = {10, 20, 10, 10};
  const std::uint64_t values[] = {100, 200, 101, 102};
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(p.rows[i].viewer, viewers[i]);
    ASSERT_EQ(p.rows[i].item_count, 1u);
    EXPECT_EQ(p.items[p.rows[i].first_item].payload, values[i]);
    EXPECT_EQ(p.rows[i].event_count, 1u);
    EXPECT_EQ(p.rows[i].oldest, static_cast<millis>(i + 1));
  }
  aggregator rules(stream_of(webhook_type::rules), 500, variables_rows::every_change);
  rules.add(event{1, 1, 0, 10, 0, webhook_type::rules});
  rules.add(event{2, 2, 0, 10, 1, webhook_type::rules});
  pages.clear();
  rules.flush(60'000, pages, scratch);
  ASSERT_EQ(pages.size(), 1u);
  EXPECT_EQ(pages[0].rows.size(), 1u);  // one viewer, two firings in one row, as ever
}

// delivery.variables snapshot: each row carries every variable the viewer has set in
// its session so far, current values; a new session of the viewer starts afresh.
TEST(aggregator, snapshot_rows_carry_every_variable_set_so_far_in_the_session) {
  aggregator a(stream_of(webhook_type::variables), 500, variables_rows::snapshot, 600'000);
  auto in_session = [](millis t, millis session, std::uint32_t viewer, std::uint32_t variable,
                       std::uint64_t value) {
    return event{t, session, value, viewer, variable, webhook_type::variables};
  };
  merge_scratch scratch;
  std::vector<page> pages;
  a.add(in_session(1, 1, 10, 0, 100));
  a.add(in_session(2, 1, 10, 1, 200));
  a.add(in_session(3, 2, 20, 0, 300));
  a.flush(60'000, pages, scratch);
  // Second flush: viewer 10 changes variable 1 only; its row still holds variable 0.
  a.add(in_session(60'001, 1, 10, 1, 201));
  a.add(in_session(60'002, 2, 20, 2, 400));
  a.flush(120'000, pages, scratch);
  ASSERT_EQ(pages.size(), 2u);
  auto values = [](const page& p, std::size_t r) {
    std::vector<std::pair<std::uint32_t, std::uint64_t>> out;
    for (std::uint32_t i = 0; i < p.rows[r].item_count; ++i) {
      const auto& item = p.items[p.rows[r].first_item + i];
      out.emplace_back(item.index, item.payload);
    }
    return out;
  };
  using v = std::vector<std::pair<std::uint32_t, std::uint64_t>>;
  ASSERT_EQ(pages[1].rows.size(), 2u);
  EXPECT_EQ(values(pages[1], 0), (v{{0, 100}, {1, 201}}));
  EXPECT_EQ(values(pages[1], 1), (v{{0, 300}, {2, 400}}));
  // Only the change is an event of this flush: lag is measured from it.
  EXPECT_EQ(pages[1].rows[0].event_count, 1u);
  EXPECT_EQ(pages[1].rows[0].oldest, 60'001);
  // Viewer 10's next session (it began at 100,000): its values start again.
  a.add(in_session(120'001, 100'000, 10, 2, 500));
  a.flush(180'000, pages, scratch);
  ASSERT_EQ(pages.size(), 3u);
  EXPECT_EQ(values(pages[2], 0), (v{{2, 500}}));
  // changed (the default) sends only what changed in the flush.
  aggregator changed(stream_of(webhook_type::variables), 500);
  changed.add(in_session(1, 1, 10, 0, 100));
  changed.flush(60'000, pages, scratch);
  changed.add(in_session(60'001, 1, 10, 1, 201));
  changed.flush(120'000, pages, scratch);
  EXPECT_EQ(values(pages.back(), 0), (v{{1, 201}}));
}

// delivery.flush eager asks whether batch_rows rows wait: rows, not events (a viewer's
// changes are one row).
TEST(aggregator, a_full_page_counts_rows_not_events) {
  merge_scratch scratch;
  aggregator a(stream_of(webhook_type::variables), 3);
  a.add(var(1, 10, 0, 1));
  a.add(var(2, 10, 1, 1));
  a.add(var(3, 20, 0, 1));
  EXPECT_FALSE(a.has_full_page(scratch));  // 3 events, 2 rows
  a.add(var(4, 30, 0, 1));
  EXPECT_TRUE(a.has_full_page(scratch));
  aggregator every(stream_of(webhook_type::variables), 3, variables_rows::every_change);
  every.add(var(1, 10, 0, 1));
  every.add(var(2, 10, 1, 1));
  EXPECT_FALSE(every.has_full_page(scratch));
  every.add(var(3, 10, 0, 1));
  EXPECT_TRUE(every.has_full_page(scratch));
}

// A look for a full page that remembers the last one (it skips while too few events came
// to make a page) answers as a first look at the same events would, at every event: the
// first look that can find a page finds it, and flush_full and flush start afresh.
TEST(aggregator, a_look_after_each_event_finds_a_full_page_as_soon_as_the_events_make_it) {
  merge_scratch scratch;
  for (const std::size_t batch : {1u, 2u, 5u, 17u}) {
    aggregator looked(stream_of(webhook_type::variables), static_cast<int>(batch));
    std::vector<event> events;
    std::vector<page> pages;
    std::uint64_t state = 12345 + batch;
    for (int n = 0; n < 2'000; ++n) {
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      // Few viewers, so that rows merge and fall behind events; now and then a run of
      // new viewers, so that a page comes exactly when enough events have.
      const auto viewer = static_cast<std::uint32_t>(n % 97 < 60 ? (state >> 33) % 7 : 1000 + n);
      const event e = var(n, viewer, static_cast<std::uint32_t>((state >> 20) % 3), state >> 40);
      looked.add(e);
      events.push_back(e);
      aggregator first(stream_of(webhook_type::variables), static_cast<int>(batch));
      for (const auto& pending : events) first.add(pending);
      const bool full = first.has_full_page(scratch);
      ASSERT_EQ(looked.has_full_page(scratch), full) << "batch " << batch << ", event " << n;
      if (full) {
        looked.flush_full(n, pages, scratch);  // the rest waits, looked at afresh
        events.erase(events.begin(),
                     events.end() - static_cast<std::ptrdiff_t>(looked.pending_events()));
      }
      if (n % 500 == 499) {
        looked.flush(n, pages, scratch);
        events.clear();
      }
    }
    EXPECT_GT(pages.size(), 10u) << batch;
  }
}

// delivery.loop closed: only full pages, each the merge of the shortest prefix of the
// events that makes batch_rows rows; a viewer's later events wait for the next page.
TEST(aggregator, flush_full_cuts_full_pages_only_and_the_rest_waits) {
  aggregator a(stream_of(webhook_type::variables), 3);
  // Viewers 1, 2, 1, 3, 4, 2, 5, 6: rows 1, 2, 3 end before viewer 4's first event.
  millis t = 0;
  for (std::uint32_t viewer : {1, 2, 1, 3, 4, 2, 5, 6}) a.add(var(t++, viewer, 0, viewer));
  std::vector<page> pages;
  merge_scratch scratch;
  a.flush_full(1'000, pages, scratch);
  ASSERT_EQ(pages.size(), 2u);
  ASSERT_EQ(pages[0].rows.size(), 3u);
  EXPECT_EQ(pages[0].rows[0].viewer, 1u);
  EXPECT_EQ(pages[0].rows[0].event_count, 2u);  // both of viewer 1's: before viewer 4's
  EXPECT_EQ(pages[0].rows[2].viewer, 3u);
  // Viewer 2's second event came after the first page's last row began: the next page.
  ASSERT_EQ(pages[1].rows.size(), 3u);
  EXPECT_EQ(pages[1].rows[0].viewer, 4u);
  EXPECT_EQ(pages[1].rows[1].viewer, 2u);
  EXPECT_EQ(pages[1].rows[2].viewer, 5u);
  EXPECT_EQ(pages[1].sequence, pages[0].sequence + 1);
  // Viewer 6 makes one row: not a page; it waits for more, or the tick.
  EXPECT_EQ(a.pending_events(), 1u);
  a.flush_full(2'000, pages, scratch);
  EXPECT_EQ(pages.size(), 2u);
  a.flush(3'000, pages, scratch);
  ASSERT_EQ(pages.size(), 3u);
  EXPECT_EQ(pages[2].rows.size(), 1u);
  EXPECT_EQ(pages[2].rows[0].viewer, 6u);
}

TEST(aggregator, rules_are_appended_in_time_order) {
  aggregator a(stream_of(webhook_type::rules), 500);
  a.add(event{5, 5, 1, 3, 0, webhook_type::rules});
  a.add(event{6, 6, 0, 4, 1, webhook_type::rules});
  a.add(event{7, 7, 2, 3, 0, webhook_type::rules});  // the same rule again: kept
  std::vector<page> pages;
  merge_scratch scratch;
  a.flush(10, pages, scratch);
  ASSERT_EQ(pages.size(), 1u);
  const page& p = pages[0];
  ASSERT_EQ(p.rows.size(), 2u);
  ASSERT_EQ(p.rows[0].item_count, 2u);
  EXPECT_EQ(p.items[p.rows[0].first_item].t, 5);
  EXPECT_EQ(p.items[p.rows[0].first_item + 1].t, 7);
  EXPECT_EQ(p.items[p.rows[0].first_item + 1].payload, 2u);
}

TEST(aggregator, sessions_give_one_row_per_session_not_per_viewer) {
  aggregator a(stream_of(webhook_type::session), 500);
  a.add(event{100, 100, 1, 3, 0, webhook_type::session});
  a.add(event{150, 150, 2, 3, 0, webhook_type::session});  // same viewer, other session
  a.add(event{900, 100, 1, 3, 0, webhook_type::session});  // session 1 ends
  std::vector<page> pages;
  merge_scratch scratch;
  a.flush(1'000, pages, scratch);
  ASSERT_EQ(pages[0].rows.size(), 2u);
  EXPECT_EQ(pages[0].rows[0].session, 1u);
  EXPECT_EQ(pages[0].rows[0].created, 100);
  EXPECT_EQ(pages[0].rows[0].newest, 900);
  EXPECT_EQ(pages[0].rows[1].session, 2u);
  EXPECT_EQ(pages[0].rows[1].newest, 150);
}

TEST(aggregator, pages_hold_at_most_batch_rows_and_number_on) {
  aggregator a(stream_of(webhook_type::variables), 500);
  for (std::uint32_t v = 0; v < 1001; ++v) a.add(var(v, v, 0, v));
  std::vector<page> pages;
  merge_scratch scratch;
  a.flush(2'000, pages, scratch);
  ASSERT_EQ(pages.size(), 3u);
  EXPECT_EQ(pages[0].rows.size(), 500u);
  EXPECT_EQ(pages[1].rows.size(), 500u);
  EXPECT_EQ(pages[2].rows.size(), 1u);
  EXPECT_EQ(pages[2].rows[0].viewer, 1000u);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(pages[i].sequence, i);
  a.add(var(2'001, 1, 0, 1));
  a.flush(3'000, pages, scratch);
  EXPECT_EQ(pages.back().sequence, 3u);
}

// The engine's streams share one scratch: a stream's merge must not see what another
// stream's larger tick left in it.
TEST(aggregator, aggregators_sharing_a_scratch_merge_as_if_alone) {
  auto fill = [](aggregator& a) {
    a.add(var(1, 30, 0, 1));
    a.add(var(2, 10, 1, 2));
    a.add(var(3, 30, 1, 3));
    a.add(var(4, 20, 0, 4));
    a.add(var(5, 10, 1, 5));
  };
  aggregator alone(stream_of(webhook_type::variables), 500);
  fill(alone);
  std::vector<page> expected;
  merge_scratch fresh;
  alone.flush(9'000, expected, fresh);

  // The same viewers in another order, as many events: the table has the same size, so
  // keys left in it would be found again (with their old rows), and a larger tick
  // before leaves longer arrays behind.
  merge_scratch shared;
  aggregator larger(stream_of(webhook_type::rules), 2);
  for (std::uint32_t v = 0; v < 1001; ++v)
    larger.add(event{v, v, 1, 1000 - v, 0, webhook_type::rules});
  std::vector<page> other_pages;
  larger.flush(7'000, other_pages, shared);
  ASSERT_EQ(other_pages.size(), 501u);
  aggregator busy(stream_of(webhook_type::variables), 2);
  for (std::uint32_t viewer : {20u, 10u, 30u, 20u, 10u}) busy.add(var(1, viewer, 1, 9));
  busy.flush(8'000, other_pages, shared);

  aggregator quiet(stream_of(webhook_type::variables), 500);
  fill(quiet);
  std::vector<page> pages;
  quiet.flush(9'000, pages, shared);
  ASSERT_EQ(pages.size(), 1u);
  ASSERT_EQ(pages[0].rows.size(), 3u);
  ASSERT_EQ(pages[0].items.size(), expected[0].items.size());
  for (std::size_t r = 0; r < 3; ++r) {
    EXPECT_EQ(pages[0].rows[r].viewer, expected[0].rows[r].viewer);
    EXPECT_EQ(pages[0].rows[r].item_count, expected[0].rows[r].item_count);
    EXPECT_EQ(pages[0].rows[r].event_count, expected[0].rows[r].event_count);
  }
  for (std::size_t i = 0; i < pages[0].items.size(); ++i) {
    EXPECT_EQ(pages[0].items[i].index, expected[0].items[i].index);
    EXPECT_EQ(pages[0].items[i].payload, expected[0].items[i].payload);
  }
  EXPECT_EQ(pages[0].rows[0].viewer, 30u);  // the order of first appearance
  EXPECT_EQ(pages[0].rows[1].viewer, 10u);
}

TEST(aggregator, an_empty_tick_cuts_no_page) {
  aggregator a(stream_of(webhook_type::rules), 500);
  std::vector<page> pages;
  merge_scratch scratch;
  a.flush(1, pages, scratch);
  EXPECT_TRUE(pages.empty());
}

}  // namespace
}  // namespace gmsim
