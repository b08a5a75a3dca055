#include "core/duration.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

namespace gmsim {
namespace {

// The reason parse_* gives for text, or "" if it parsed.
template <typename Parse>
std::string reason(Parse parse, std::string_view text) {
  try {
    parse(text);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

std::string duration_reason(std::string_view text) { return reason(parse_duration, text); }
std::string start_reason(std::string_view text) { return reason(parse_start_time, text); }
std::string rate_reason(std::string_view text) { return reason(parse_rate, text); }

TEST(duration_parse, single_units) {
  EXPECT_EQ(parse_duration("250ms"), 250);
  EXPECT_EQ(parse_duration("30s"), 30'000);
  EXPECT_EQ(parse_duration("10m"), 600'000);
  EXPECT_EQ(parse_duration("1h"), 3'600'000);
  EXPECT_EQ(parse_duration("0ms"), 0);
  EXPECT_EQ(parse_duration("0s"), 0);
}

TEST(duration_parse, bare_zero_needs_no_unit) {
  EXPECT_EQ(parse_duration("0"), 0);
  EXPECT_EQ(parse_duration("000"), 0);
  EXPECT_EQ(duration_reason("30"), "missing unit in '30'; use ms, s, m or h");
}

TEST(duration_parse, fractions_are_exact) {
  EXPECT_EQ(parse_duration("1.5s"), 1'500);
  EXPECT_EQ(parse_duration("0.25h"), 900'000);
  EXPECT_EQ(parse_duration(".5s"), 500);
  EXPECT_EQ(parse_duration("1.001s"), 1'001);
  EXPECT_EQ(parse_duration("2.50000000000s"), 2'500);  // trailing zeros do not count
  EXPECT_EQ(parse_duration("0.0001h"), 360);
  EXPECT_EQ(duration_reason("0.5ms"), "'0.5ms' is not a whole number of milliseconds");
  EXPECT_EQ(duration_reason("1.0001s"), "'1.0001s' is not a whole number of milliseconds");
  EXPECT_EQ(duration_reason("1.s"), "expected a duration such as \"60s\", got \"1.s\"");
  EXPECT_EQ(duration_reason(".s"), "expected a duration such as \"60s\", got \".s\"");
}

TEST(duration_parse, sums) {
  EXPECT_EQ(parse_duration("1h30m"), 5'400'000);
  EXPECT_EQ(parse_duration("1m30s"), 90'000);
  EXPECT_EQ(parse_duration("1s500ms"), 1'500);
  EXPECT_EQ(parse_duration("2h1m1s1ms"), 7'261'001);
  EXPECT_EQ(duration_reason("1h30"), "missing unit in '1h30'; use ms, s, m or h");
}

TEST(duration_parse, rejects_with_a_reason) {
  EXPECT_EQ(duration_reason(""), "expected a duration such as \"60s\", got \"\"");
  EXPECT_EQ(duration_reason("-5s"), "duration '-5s' is negative");
  EXPECT_EQ(duration_reason("5x"), "unknown unit 'x' in '5x'; use ms, s, m or h");
  EXPECT_EQ(duration_reason("5sec"), "unknown unit 'sec' in '5sec'; use ms, s, m or h");
  EXPECT_EQ(duration_reason("5S"), "unknown unit 'S' in '5S'; use ms, s, m or h");
  EXPECT_EQ(duration_reason("6o s"), "expected a duration such as \"60s\", got \"6o s\"");
  EXPECT_EQ(duration_reason(" 5s"), "expected a duration such as \"60s\", got \" 5s\"");
  EXPECT_EQ(duration_reason("+5s"), "expected a duration such as \"60s\", got \"+5s\"");
  EXPECT_EQ(duration_reason("s"), "expected a duration such as \"60s\", got \"s\"");
  EXPECT_EQ(duration_reason("1..5s"), "expected a duration such as \"60s\", got \"1..5s\"");
}

TEST(duration_parse, overflow) {
  EXPECT_EQ(parse_duration("9223372036854775807ms"), std::numeric_limits<millis>::max());
  EXPECT_EQ(duration_reason("9223372036854775808ms"),
            "duration '9223372036854775808ms' is too large");
  EXPECT_EQ(duration_reason("2562047788016h"), "duration '2562047788016h' is too large");
  EXPECT_EQ(duration_reason("2562047788015215h2562047788015215h"),
            "duration '2562047788015215h2562047788015215h' is too large");
  EXPECT_EQ(duration_reason("99999999999999999999999s"),
            "duration '99999999999999999999999s' is too large");
}

TEST(duration_format, shortest_exact_form) {
  EXPECT_EQ(format_duration(250), "250ms");
  EXPECT_EQ(format_duration(90'000), "1m30s");
  EXPECT_EQ(format_duration(3'600'000), "1h");
  EXPECT_EQ(format_duration(1'500), "1s500ms");
  EXPECT_EQ(format_duration(0), "0s");
  EXPECT_EQ(format_duration(7'261'001), "2h1m1s1ms");
  EXPECT_EQ(format_duration(90'000'000), "25h");
  EXPECT_EQ(format_duration(-1'500), "-1s500ms");
}

TEST(duration_format, round_trips) {
  for (millis ms : {millis{1}, millis{999}, millis{1'000}, millis{59'999}, millis{86'400'000},
                    millis{123'456'789}, std::numeric_limits<millis>::max()}) {
    EXPECT_EQ(parse_duration(format_duration(ms)), ms) << ms;
  }
  EXPECT_EQ(format_duration(std::numeric_limits<millis>::min()), "-2562047788015h12m55s808ms");
}

TEST(duration_start_time, iso8601_utc) {
  EXPECT_EQ(parse_start_time("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_start_time("2026-01-01T00:00:00Z"), 1'767'225'600'000);
  EXPECT_EQ(parse_start_time("2000-02-29T12:34:56Z"), 951'827'696'000);
  EXPECT_EQ(parse_start_time("2024-12-31T23:59:59Z"), 1'735'689'599'000);
  EXPECT_EQ(parse_start_time("2100-03-01T00:00:00Z"), 4'107'542'400'000);
}

TEST(duration_start_time, fractions) {
  EXPECT_EQ(parse_start_time("2026-01-01T00:00:00.5Z"), 1'767'225'600'500);
  EXPECT_EQ(parse_start_time("2026-01-01T00:00:00.123Z"), 1'767'225'600'123);
  EXPECT_EQ(parse_start_time("2026-01-01T00:00:00.123999Z"), 1'767'225'600'123);
  EXPECT_EQ(parse_start_time("2026-01-01T00:00:00.000000001Z"), 1'767'225'600'000);
}

TEST(duration_start_time, epoch_millis) {
  EXPECT_EQ(parse_start_time("0"), 0);
  EXPECT_EQ(parse_start_time("1767225600000"), 1'767'225'600'000);
  EXPECT_EQ(start_reason("99999999999999999999"), "start time '99999999999999999999' is too large");
}

// Found by fuzz_duration (tests/fuzz/corpus/duration/regression-year-37290823): epoch ms past
// year 9999 parsed, but format_iso8601 wrote them in a form that did not read back.
TEST(duration_start_time, the_last_is_the_end_of_year_9999) {
  constexpr millis last = 253'402'300'799'999;
  EXPECT_EQ(format_iso8601(last), "9999-12-31T23:59:59.999Z");
  EXPECT_EQ(parse_start_time("9999-12-31T23:59:59.999Z"), last);
  EXPECT_EQ(parse_start_time(std::to_string(last)), last);
  EXPECT_EQ(start_reason("253402300800000"),
            "start time '253402300800000' is after 9999-12-31T23:59:59.999Z");
  EXPECT_EQ(start_reason("1176722560301010000"),
            "start time '1176722560301010000' is after 9999-12-31T23:59:59.999Z");
}

TEST(duration_start_time, rejects_with_a_reason) {
  const std::string shape =
      "expected an ISO 8601 UTC time such as \"2026-01-01T00:00:00Z\" or epoch milliseconds, got ";
  EXPECT_EQ(start_reason(""), shape + "\"\"");
  EXPECT_EQ(start_reason("2026-01-01"), shape + "\"2026-01-01\"");
  EXPECT_EQ(start_reason("2026-1-01T00:00:00Z"), shape + "\"2026-1-01T00:00:00Z\"");
  EXPECT_EQ(start_reason("2026-01-01 00:00:00Z"), shape + "\"2026-01-01 00:00:00Z\"");
  EXPECT_EQ(start_reason("2026-01-01T00:00:00.Z"), shape + "\"2026-01-01T00:00:00.Z\"");
  EXPECT_EQ(start_reason("2026-01-01T00:00:00Zx"), shape + "\"2026-01-01T00:00:00Zx\"");
  EXPECT_EQ(start_reason("12.5"), shape + "\"12.5\"");
  EXPECT_EQ(start_reason("2026-01-01T00:00:00"),
            "start time '2026-01-01T00:00:00' has no time zone; write it in UTC, ending in 'Z'");
  EXPECT_EQ(start_reason("2026-01-01T00:00:00+01:00"),
            "start time '2026-01-01T00:00:00+01:00' is not UTC; write it in UTC, ending in 'Z'");
  EXPECT_EQ(start_reason("2025-02-29T00:00:00Z"),
            "start time '2025-02-29T00:00:00Z' is not a valid date and time");
  EXPECT_EQ(start_reason("1900-02-29T00:00:00Z"),
            "start time '1900-02-29T00:00:00Z' is not a valid date and time");
  EXPECT_EQ(start_reason("2026-13-01T00:00:00Z"),
            "start time '2026-13-01T00:00:00Z' is not a valid date and time");
  EXPECT_EQ(start_reason("2026-01-01T24:00:00Z"),
            "start time '2026-01-01T24:00:00Z' is not a valid date and time");
  EXPECT_EQ(start_reason("2026-01-01T00:60:00Z"),
            "start time '2026-01-01T00:60:00Z' is not a valid date and time");
  EXPECT_EQ(start_reason("2026-01-01T00:00:60Z"),
            "start time '2026-01-01T00:00:60Z' is not a valid date and time");
  EXPECT_EQ(start_reason("1969-12-31T23:59:59Z"),
            "start time '1969-12-31T23:59:59Z' is before 1970");
  EXPECT_EQ(start_reason("-1000"), "start time '-1000' is before 1970");
}

TEST(duration_start_time, format_iso8601) {
  EXPECT_EQ(format_iso8601(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_iso8601(1'767'225'600'000), "2026-01-01T00:00:00.000Z");
  EXPECT_EQ(format_iso8601(951'827'696'789), "2000-02-29T12:34:56.789Z");
  EXPECT_EQ(format_iso8601(-1), "1969-12-31T23:59:59.999Z");
}

TEST(duration_start_time, round_trips_every_day_for_four_centuries) {
  // Every day from 1970 to 2370 crosses all leap-year rules; the time of day varies too.
  for (millis day = 0; day < 146'097; ++day) {
    const millis ms = day * 86'400'000 + (day * 7'919'123) % 86'400'000;
    const std::string text = format_iso8601(ms);
    ASSERT_EQ(parse_start_time(text), ms) << text;
  }
}

TEST(duration_rate, units) {
  EXPECT_DOUBLE_EQ(parse_rate("10/s"), 10.0);
  EXPECT_DOUBLE_EQ(parse_rate("600/m"), 10.0);
  EXPECT_DOUBLE_EQ(parse_rate("36000/h"), 10.0);
  EXPECT_DOUBLE_EQ(parse_rate("2.5"), 2.5);
  EXPECT_DOUBLE_EQ(parse_rate("0"), 0.0);
  EXPECT_DOUBLE_EQ(parse_rate("1/h"), 1.0 / 3600.0);
  EXPECT_DOUBLE_EQ(parse_rate(".5/s"), 0.5);
  EXPECT_DOUBLE_EQ(parse_rate("1e3/m"), 1000.0 / 60.0);
}

TEST(duration_rate, rejects_with_a_reason) {
  const std::string shape = "expected a rate such as \"10/s\", \"600/m\" or 2.5 (per second), got ";
  EXPECT_EQ(rate_reason(""), shape + "\"\"");
  EXPECT_EQ(rate_reason("/s"), shape + "\"/s\"");
  EXPECT_EQ(rate_reason("10/"), shape + "\"10/\"");
  EXPECT_EQ(rate_reason("ten/s"), shape + "\"ten/s\"");
  EXPECT_EQ(rate_reason("10 /s"), shape + "\"10 /s\"");
  EXPECT_EQ(rate_reason("inf"), shape + "\"inf\"");
  EXPECT_EQ(rate_reason("nan"), shape + "\"nan\"");
  EXPECT_EQ(rate_reason("+5"), shape + "\"+5\"");
  EXPECT_EQ(rate_reason("10/d"), "unknown rate unit 'd' in '10/d'; use /s, /m or /h");
  EXPECT_EQ(rate_reason("10/sec"), "unknown rate unit 'sec' in '10/sec'; use /s, /m or /h");
  EXPECT_EQ(rate_reason("-1/s"), "rate '-1/s' is negative");
  EXPECT_EQ(rate_reason("1e999"), "rate '1e999' is too large");
}

}  // namespace
}  // namespace gmsim

namespace gmsim {
namespace {

// One rule for every percentage a person reads (console, HTML): a loss never shows as
// 0.0%, a near-total delivery never as 100.0%.
TEST(format_percent, never_rounds_a_loss_away) {
  EXPECT_EQ(format_percent(0, 0), "-");
  EXPECT_EQ(format_percent(0, 10), "0%");
  EXPECT_EQ(format_percent(10, 10), "100.0%");
  EXPECT_EQ(format_percent(99'999, 100'000), ">99.99%");
  EXPECT_EQ(format_percent(1, 100'000), "<0.01%");
  EXPECT_EQ(format_percent(5, 100), "5.00%");
  EXPECT_EQ(format_percent(143, 286), "50.0%");
}

}  // namespace
}  // namespace gmsim
