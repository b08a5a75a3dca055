// Reports of a run: the end summary on the console and the summary JSON (a contract,
// documented in docs/reports.md).
#pragma once

#include <cstdio>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>

#include "net/transport.hpp"
#include "run/runner.hpp"

namespace gmsim {

// The summary document: DESIGN.md's contract fields and more.
nlohmann::json summary_json(const run_config& config, const run_result& result);

// A percentile block of the summary from h, values times scale: p50, p90, p99, p999 (when
// with_p999), max, mean (rounded to 3 decimals) and count. `gmsim merge` recomputes the
// blocks of merged histograms with it, so that they match an unsharded run's exactly.
nlohmann::json percentiles_json(const histogram& h, double scale, bool with_p999);

// The end summary, for people: delivery by outcome and type, lag, latency, losses.
std::string summary_text(const run_config& config, const run_result& result);

// Writes text to path, or throws std::runtime_error naming the path and the reason.
void write_file(const std::string& path, const std::string& text);

// "1.23ms", "4.5s", "2m3s": a latency or lag for people.
std::string format_ms(double ms);

// Secrets (docs/security.md). A header "looks secret" when its name, case-insensitive, is
// Authorization, Proxy-Authorization, Cookie or Set-Cookie, or contains token, secret, key,
// auth, password, passwd, session, signature or credential. Its value is never shown: every
// report, summary and message shows `redacted` instead.
inline constexpr const char* redacted = "[redacted]";
bool looks_secret(std::string_view header_name);
// The value as reports show it: `redacted` when the name looks secret.
std::string shown_header_value(std::string_view name, std::string_view value);
// The extra headers and the Authorization header a run sends, as reports show them:
// {"Authorization": "[redacted]", "X-Env": "staging"}; empty when there are none.
nlohmann::json shown_headers(const transport_config& transport);
// A target URL as reports show it: the whole query (and fragment) `redacted`, and each path
// segment that looks like a token: one that names a secret (token, key, sig, ...: as
// looks_secret, percent-decoded first), has a ;parameter (from the ';'), or is a long
// run of letters and digits (16 or more with a digit, as Slack's /services/T0/B0/XXXX,
// or 24 or more). Idempotent: a shown URL shows the same.
std::string shown_target_url(std::string_view url);

}  // namespace gmsim
