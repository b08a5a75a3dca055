#include "delivery/pacer.hpp"

#include <gtest/gtest.h>

namespace gmsim {
namespace {

page page_at(millis ready, std::size_t rows = 1) {
  page p;
  p.ready = ready;
  p.rows.resize(rows);
  return p;
}

TEST(pacer, one_in_flight_and_at_least_min_gap_between_starts) {
  pacer pace(200, 1);
  EXPECT_FALSE(pace.next_start());
  pace.push(page_at(1'000, 3));
  pace.push(page_at(1'000, 2));
  EXPECT_EQ(pace.backlog_rows(), 5u);
  ASSERT_EQ(pace.next_start(), 1'000);
  auto first = pace.start(1'000);
  EXPECT_EQ(first.intended, 1'000);
  EXPECT_FALSE(pace.next_start());  // the first has not answered
  pace.finish();
  ASSERT_EQ(pace.next_start(), 1'200);
  auto second = pace.start(1'200);
  EXPECT_EQ(second.intended, 1'200);
  pace.finish();
  EXPECT_TRUE(pace.idle());
}

TEST(pacer, intended_times_ignore_a_slow_receiver_actual_times_do_not) {
  pacer pace(200, 1);
  for (int i = 0; i < 3; ++i) pace.push(page_at(0));
  auto a = pace.start(0);
  pace.finish();  // answered after 1 s, say: the next goes at 1000, not 200
  auto b = pace.start(1'000);
  EXPECT_EQ(b.intended, 200);  // latency is measured from here
  pace.finish();
  ASSERT_EQ(pace.next_start(), 1'200);
  auto c = pace.start(1'200);
  EXPECT_EQ(c.intended, 400);
  (void)a;
}

TEST(pacer, several_in_flight_still_keep_the_gap) {
  pacer pace(100, 3);
  for (int i = 0; i < 5; ++i) pace.push(page_at(0));
  pace.start(0);
  ASSERT_EQ(pace.next_start(), 100);
  pace.start(100);
  pace.start(200);
  EXPECT_EQ(pace.in_flight(), 3);
  EXPECT_FALSE(pace.next_start());
  pace.finish();
  EXPECT_EQ(pace.next_start(), 300);
}

TEST(pacer, a_page_waits_for_its_tick) {
  pacer pace(200, 1);
  pace.push(page_at(5'000));
  EXPECT_EQ(pace.next_start(), 5'000);
}

TEST(pacer, drain_takes_every_waiting_page) {
  pacer pace(0, 1);
  pace.push(page_at(0, 4));
  pace.push(page_at(0, 6));
  auto left = pace.drain();
  EXPECT_EQ(left.size(), 2u);
  EXPECT_EQ(pace.backlog_rows(), 0u);
  EXPECT_TRUE(pace.idle());
}

}  // namespace
}  // namespace gmsim
