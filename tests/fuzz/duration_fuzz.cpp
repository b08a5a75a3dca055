// Durations, start times and rates as users write them in profiles and on the command line.
// The first byte picks the parser, the rest is the text. Each either returns a value that
// its formatter prints back to the same value, or throws std::invalid_argument.
#include <cmath>
#include <stdexcept>

#include "core/duration.hpp"
#include "fuzz_target.hpp"

namespace gmsim::fuzz {
namespace {

void check_duration(std::string_view text) {
  millis ms = 0;
  try {
    ms = parse_duration(text);
  } catch (const std::invalid_argument&) {
    return;
  }
  expect(ms >= 0, "a parsed duration is never negative");
  expect(parse_duration(format_duration(ms)) == ms, "format_duration reads back the same");
}

void check_start_time(std::string_view text) {
  millis ms = 0;
  try {
    ms = parse_start_time(text);
  } catch (const std::invalid_argument&) {
    return;
  }
  expect(ms >= 0, "a start time is never before 1970");
  const std::string iso = format_iso8601(ms);
  expect(parse_start_time(iso) == ms, "format_iso8601 reads back the same");
}

void check_rate(std::string_view text) {
  double rate = 0;
  try {
    rate = parse_rate(text);
  } catch (const std::invalid_argument&) {
    return;
  }
  expect(std::isfinite(rate) && rate >= 0, "a rate is finite and never negative");
}

}  // namespace

int duration_entry(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view text = as_text(data + 1, size - 1);
  switch (data[0] % 3) {
    case 0:
      check_duration(text);
      break;
    case 1:
      check_start_time(text);
      break;
    default:
      check_rate(text);
      break;
  }
  return 0;
}

}  // namespace gmsim::fuzz

GMSIM_FUZZ_TARGET(duration_entry)
