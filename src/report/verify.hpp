// `gmsim verify`: did the rows arrive intact? Compares what a run delivered (its
// recording) with what the receiver stored (an export of the store, NDJSON rows in the
// webhook's own row shapes), fact by fact, and says which rows are missing, duplicated or
// altered (numbers rounded, strings truncated or re-encoded, types changed). The format
// and the export one-liners are in docs/verify.md.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "profile/profile.hpp"

namespace gmsim {

// A recording or an export that cannot be read: "<path>:<line>: <reason>".
class verify_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// What the store is expected to keep of the variables and sessions sent: every value
// (an event log, the default), or the latest of each (an upsert by identifier and name,
// or by session uuid). Rule firings are events: every one, always.
enum class keep_mode : std::uint8_t { all, latest };

struct verify_options {
  std::string recording_path;
  std::string export_path;
  keep_mode keep = keep_mode::all;
  std::size_t examples = 5;  // per kind of finding and type
};

// Per webhook type, in facts: a variable's value (identifier, name), a rule firing
// (identifier, cid, timestamp), a session (uuid).
struct verify_counts {
  std::int64_t expected = 0;      // in delivered requests
  std::int64_t maybe = 0;         // in unacknowledged requests: may or may not be stored
  std::int64_t matched = 0;       // stored as sent
  std::int64_t maybe_stored = 0;  // of the maybe, stored as sent
  std::int64_t missing = 0;       // delivered, not in the store
  std::int64_t duplicated = 0;    // stored more times than sent
  std::int64_t altered = 0;       // stored, but not as sent
  std::int64_t unexpected = 0;    // in the store, never sent by this recording
};

struct verify_finding {
  std::string kind;  // missing, duplicated, altered, unexpected
  webhook_type type = webhook_type::variables;
  std::string fact;    // which: "hana@example.com variables.score"
  std::string detail;  // "number rounded: sent 9007199254740993, stored 9007199254740992"
};

struct verify_result {
  std::array<verify_counts, webhook_type_count> by_type{};
  // Altered facts by how: "number rounded", "string truncated", "string re-encoded",
  // "type changed", "field dropped", ...
  std::map<std::string, std::int64_t> alterations;
  std::vector<verify_finding> examples;  // up to options.examples per kind and type
  std::int64_t export_lines = 0;
  // Whether anything delivered is missing, duplicated or altered (unexpected facts alone
  // are not: a store shared with other runs holds theirs).
  bool differs() const;
};

// Throws verify_error on a file that cannot be read or is not what it should be.
verify_result verify(const verify_options& options);

// The console report and the JSON one (--json).
std::string verify_text(const verify_options& options, const verify_result& result);
nlohmann::json verify_json(const verify_result& result);

}  // namespace gmsim
