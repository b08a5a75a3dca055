#include "core/duration.hpp"

#include <chrono>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>
#include <string>

namespace gmsim {
namespace {

constexpr millis max_millis = std::numeric_limits<millis>::max();
constexpr const char* unit_hint = "use ms, s, m or h";

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

std::string quoted(std::string_view text) { return "'" + std::string(text) + "'"; }

[[noreturn]] void fail(const std::string& reason) { throw std::invalid_argument(reason); }

// Reasons for text that is not a duration at all name the accepted shape, so that the
// message stands alone once a caller prefixes the field.
[[noreturn]] void fail_shape(std::string_view text) {
  fail("expected a duration such as \"60s\", got \"" + std::string(text) + "\"");
}

millis unit_millis(std::string_view unit) {
  if (unit == "ms") return 1;
  if (unit == "s") return 1'000;
  if (unit == "m") return 60'000;
  if (unit == "h") return 3'600'000;
  return 0;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct civil_date {
  std::int64_t year;
  unsigned month;
  unsigned day;
};

civil_date civil_from_days(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2), m, d};
}

unsigned days_in_month(std::int64_t year, unsigned month) {
  static constexpr unsigned days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : days[month - 1];
}

// Reads exactly `count` digits at `pos`; false if any is not a digit.
bool read_fixed(std::string_view text, std::size_t pos, std::size_t count, unsigned& out) {
  if (pos + count > text.size()) return false;
  out = 0;
  for (std::size_t i = pos; i < pos + count; ++i) {
    if (!is_digit(text[i])) return false;
    out = out * 10 + static_cast<unsigned>(text[i] - '0');
  }
  return true;
}

}  // namespace

millis parse_duration(std::string_view text) {
  if (text.empty()) fail_shape(text);
  if (text.front() == '-') fail("duration " + quoted(text) + " is negative");
  // A bare zero needs no unit: nothing else is ambiguous about it.
  if (text.find_first_not_of('0') == std::string_view::npos) return 0;
  for (char c : text) {
    if (!is_digit(c) && !is_letter(c) && c != '.') fail_shape(text);
  }

  millis total = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    // number: digits, optionally a '.' and more digits.
    const std::size_t int_start = pos;
    while (pos < text.size() && is_digit(text[pos])) ++pos;
    const std::string_view int_part = text.substr(int_start, pos - int_start);
    std::string_view frac_part;
    if (pos < text.size() && text[pos] == '.') {
      const std::size_t frac_start = ++pos;
      while (pos < text.size() && is_digit(text[pos])) ++pos;
      frac_part = text.substr(frac_start, pos - frac_start);
      if (frac_part.empty()) fail_shape(text);
    }
    if (int_part.empty() && frac_part.empty()) fail_shape(text);

    const std::size_t unit_start = pos;
    while (pos < text.size() && is_letter(text[pos])) ++pos;
    const std::string_view unit = text.substr(unit_start, pos - unit_start);
    if (unit.empty()) fail("missing unit in " + quoted(text) + "; " + unit_hint);
    const millis scale = unit_millis(unit);
    if (scale == 0) {
      fail("unknown unit " + quoted(unit) + " in " + quoted(text) + "; " + unit_hint);
    }

    millis whole = 0;
    for (char c : int_part) {
      if (__builtin_mul_overflow(whole, 10, &whole) ||
          __builtin_add_overflow(whole, c - '0', &whole)) {
        fail("duration " + quoted(text) + " is too large");
      }
    }
    millis part = 0;
    if (__builtin_mul_overflow(whole, scale, &part)) {
      fail("duration " + quoted(text) + " is too large");
    }
    // The fraction is exact in integers: it must come to a whole number of ms.
    while (!frac_part.empty() && frac_part.back() == '0') frac_part.remove_suffix(1);
    if (!frac_part.empty()) {
      if (frac_part.size() > 9) {
        fail(quoted(text) + " is not a whole number of milliseconds");
      }
      millis numerator = 0;
      millis denominator = 1;
      for (char c : frac_part) {
        numerator = numerator * 10 + (c - '0');
        denominator *= 10;
      }
      numerator *= scale;  // < 1e9 * 3.6e6: no overflow
      if (numerator % denominator != 0) {
        fail(quoted(text) + " is not a whole number of milliseconds");
      }
      if (__builtin_add_overflow(part, numerator / denominator, &part)) {
        fail("duration " + quoted(text) + " is too large");
      }
    }
    if (__builtin_add_overflow(total, part, &total)) {
      fail("duration " + quoted(text) + " is too large");
    }
  }
  return total;
}

std::string format_duration(millis ms) {
  if (ms == 0) return "0s";
  std::string out;
  // Unsigned, so that the most negative value has a magnitude too.
  std::uint64_t rest = static_cast<std::uint64_t>(ms);
  if (ms < 0) {
    out = "-";
    rest = ~rest + 1;
  }
  static constexpr std::pair<std::uint64_t, const char*> units[] = {
      {3'600'000, "h"}, {60'000, "m"}, {1'000, "s"}, {1, "ms"}};
  for (const auto& [scale, name] : units) {
    if (rest >= scale) {
      out += std::to_string(rest / scale);
      out += name;
      rest %= scale;
    }
  }
  return out;
}

millis wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

millis parse_start_time(std::string_view text) {
  const std::string shape =
      "expected an ISO 8601 UTC time such as \"2026-01-01T00:00:00Z\" or epoch "
      "milliseconds, got \"" +
      std::string(text) + "\"";
  if (text.empty()) fail(shape);

  bool all_digits = true;
  for (char c : text) all_digits = all_digits && is_digit(c);
  if (all_digits) {
    millis ms = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), ms);
    if (ec != std::errc() || end != text.data() + text.size()) {
      fail("start time " + quoted(text) + " is too large");
    }
    // Later epoch ms would not read back, and leave little room for timestamps to grow.
    if (ms > last_instant) {
      fail("start time " + quoted(text) + " is after 9999-12-31T23:59:59.999Z");
    }
    return ms;
  }
  if (text.front() == '-') fail("start time " + quoted(text) + " is before 1970");

  // YYYY-MM-DDTHH:MM:SS[.fraction]Z
  unsigned year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!read_fixed(text, 0, 4, year) || text.size() < 19 || text[4] != '-' ||
      !read_fixed(text, 5, 2, month) || text[7] != '-' || !read_fixed(text, 8, 2, day) ||
      text[10] != 'T' || !read_fixed(text, 11, 2, hour) || text[13] != ':' ||
      !read_fixed(text, 14, 2, minute) || text[16] != ':' || !read_fixed(text, 17, 2, second)) {
    fail(shape);
  }
  std::size_t pos = 19;
  millis fraction_ms = 0;
  if (pos < text.size() && text[pos] == '.') {
    const std::size_t start = ++pos;
    while (pos < text.size() && is_digit(text[pos])) ++pos;
    const std::size_t digits = pos - start;
    if (digits == 0 || digits > 9) fail(shape);
    // Milliseconds are the engine's resolution: finer digits are dropped.
    for (std::size_t i = 0; i < 3; ++i) {
      fraction_ms = fraction_ms * 10 + (i < digits ? text[start + i] - '0' : 0);
    }
  }
  if (pos == text.size()) {
    fail("start time " + quoted(text) + " has no time zone; write it in UTC, ending in 'Z'");
  }
  if (text[pos] == '+' || text[pos] == '-') {
    fail("start time " + quoted(text) + " is not UTC; write it in UTC, ending in 'Z'");
  }
  if (text[pos] != 'Z' || pos + 1 != text.size()) fail(shape);

  if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) || hour > 23 ||
      minute > 59 || second > 59) {
    fail("start time " + quoted(text) + " is not a valid date and time");
  }
  if (year < 1970) fail("start time " + quoted(text) + " is before 1970");
  const std::int64_t days = days_from_civil(year, month, day);
  return ((days * 24 + hour) * 60 + minute) * 60'000 + second * 1'000LL + fraction_ms;
}

std::string format_iso8601(millis epoch_ms) {
  // Floor division, so that instants before 1970 print their real date.
  std::int64_t days = epoch_ms / 86'400'000;
  std::int64_t in_day = epoch_ms % 86'400'000;
  if (in_day < 0) {
    in_day += 86'400'000;
    --days;
  }
  const civil_date date = civil_from_days(days);
  char buffer[48];
  std::snprintf(
      buffer, sizeof buffer, "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%03lldZ",
      static_cast<long long>(date.year), date.month, date.day,
      static_cast<long long>(in_day / 3'600'000), static_cast<long long>(in_day / 60'000 % 60),
      static_cast<long long>(in_day / 1'000 % 60), static_cast<long long>(in_day % 1'000));
  return buffer;
}

double parse_rate(std::string_view text) {
  const std::string shape =
      "expected a rate such as \"10/s\", \"600/m\" or 2.5 (per second), got \"" +
      std::string(text) + "\"";
  const std::size_t slash = text.find('/');
  const std::string_view number = text.substr(0, slash);
  double per_unit = 1.0;
  if (slash != std::string_view::npos) {
    const std::string_view unit = text.substr(slash + 1);
    if (unit == "s") {
      per_unit = 1.0;
    } else if (unit == "m") {
      per_unit = 60.0;
    } else if (unit == "h") {
      per_unit = 3600.0;
    } else if (unit.empty()) {
      fail(shape);
    } else {
      fail("unknown rate unit " + quoted(unit) + " in " + quoted(text) + "; use /s, /m or /h");
    }
  }
  if (number.empty()) fail(shape);
  if (number.front() == '-') fail("rate " + quoted(text) + " is negative");
  // from_chars, unlike strtod, ignores the locale and refuses "inf", "nan" and hex.
  if (!is_digit(number.front()) && number.front() != '.') fail(shape);
  double value = 0;
  const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (ec == std::errc::result_out_of_range) fail("rate " + quoted(text) + " is too large");
  if (ec != std::errc() || end != number.data() + number.size()) fail(shape);
  if (!std::isfinite(value)) fail("rate " + quoted(text) + " is too large");
  return value / per_unit;
}

std::string format_percent(std::int64_t part, std::int64_t whole) {
  if (whole == 0) return "-";
  if (part == 0) return "0%";
  const double p = 100.0 * static_cast<double>(part) / static_cast<double>(whole);
  if (p > 0 && p < 0.01) return "<0.01%";
  if (p < 100 && p > 99.99) return ">99.99%";
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, p < 10 ? "%.2f%%" : "%.1f%%", p);
  return buffer;
}

}  // namespace gmsim
