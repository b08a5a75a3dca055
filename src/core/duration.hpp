// Units: durations, instants, rates and ratios as users write and read them ("250ms",
// "1h", "600/m", "99.5%").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace gmsim {

// Milliseconds, the engine's unit of time: GMetri's timestamps are epoch ms, and its
// delivery rules (60 s, 200 ms) are stated in ms.
using millis = std::int64_t;

// Parses "250ms", "30s", "10m", "1h", "1.5s" and sums such as "1h30m". A bare "0" is 0.
// Throws std::invalid_argument whose what() is the reason alone ("unknown unit 'x' in
// '5x'; use ms, s, m or h"); callers add the file and field.
millis parse_duration(std::string_view text);

// The shortest exact form: 250 -> "250ms", 90000 -> "1m30s", 3600000 -> "1h".
std::string format_duration(millis ms);

// ISO 8601 UTC ("2026-01-01T00:00:00Z", optional ".sss" fraction) or epoch
// milliseconds as digits. Throws std::invalid_argument with the reason.
millis parse_start_time(std::string_view text);
// The wall clock's now, in epoch ms.
millis wall_clock_ms();

// 9999-12-31T23:59:59.999Z in epoch ms: the last instant format_iso8601 writes as
// parse_start_time reads it (four-digit years). No start time, and no run's end, is later.
inline constexpr millis last_instant = 253'402'300'799'999;

// Epoch ms to "2026-01-01T00:00:00.000Z".
std::string format_iso8601(millis epoch_ms);

// A rate in events per second: "10/s", "600/m", "36000/h", or a bare number (per
// second). Throws std::invalid_argument with the reason; negative rates are refused.
double parse_rate(std::string_view text);

// part of whole as a percentage for people: "-" when whole is 0, "0%" when part is, two
// decimals under 10%, one above, and never a loss shown as 0.0% nor a near-total as
// 100.0% ("<0.01%", ">99.99%"). The console and the HTML report both say it so.
std::string format_percent(std::int64_t part, std::int64_t whole);

}  // namespace gmsim
