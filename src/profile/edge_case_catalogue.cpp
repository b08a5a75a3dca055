#include "profile/edge_case_catalogue.hpp"

#include <stdexcept>

namespace gmsim {
namespace {

const std::vector<edge_case_info> catalogue = {
    {"batch-exact-500", "batch", "off-by-one page handling: a page of exactly 500 rows"},
    {"batch-501", "batch", "receivers that assume one request per tick: 501 rows make a page of 500 and one of 1"},
    {"batch-one-row", "batch", "array-vs-object confusion and per-request overhead: a one-row page"},
    {"text-emoji", "text", "UTF-16 surrogate handling, byte-vs-character lengths, utf8 (3-byte) MySQL columns"},
    {"text-rtl", "text", "right-to-left text in identifiers, names and values: display, collation"},
    {"text-combining", "text", "NFC and NFD forms of the same name: two identifiers that look identical"},
    {"text-line-separators", "text", "U+2028/U+2029: break JavaScript source and JSONP, split 'lines' in logs"},
    {"text-control-chars", "text", "escaped control characters (\\u0000, \\t, \\n) in identifiers and values"},
    {"text-quotes-backslashes", "text", "quotes and backslashes: hand-rolled escaping, SQL and CSV injection"},
    {"number-big-int", "number", "integers above 2^53: JavaScript's JSON.parse and jq 1.6 silently round them"},
    {"number-negative", "number", "negative values where a receiver assumes unsigned"},
    {"number-zero", "number", "0 and -0.0: falsy checks, signed zero"},
    {"number-huge", "number", "1e308: overflow to Infinity when scaled, float column limits"},
    {"number-tiny", "number", "5e-324 and 1e-7: denormals, exponent notation a parser may refuse"},
    {"number-long-decimal", "number", "more digits than a double holds: silent rounding, decimal columns"},
    {"value-null", "value", "null values: NOT NULL columns, missing-vs-null confusion"},
    {"value-nested", "value", "nested objects and arrays where a scalar is expected"},
    {"value-empty-object", "value", "an empty object value"},
    {"value-empty-string", "value", "empty strings: falsy checks, empty-vs-missing"},
    {"value-long-string", "value", "a 100 kB string value: column sizes, log lines, body limits"},
    {"value-over-express-limit", "value", "a page just over 102,400 bytes: Express's default express.json() limit (413)"},
    {"identifier-empty", "identifier", "an empty identifier: primary keys, lookups"},
    {"identifier-long", "identifier", "a 10,000-character identifier: index and column limits"},
    {"identifier-not-email", "identifier", "an identifier that is not an e-mail address, where one is assumed"},
    {"identifier-uuid", "identifier", "a UUID identifier (anonymous or SSO deployments)"},
    {"identifier-phone", "identifier", "a phone-number identifier (+ and digits)"},
    {"identifier-multi-deployment", "identifier", "the same identifier in two deployments: keys without depSlug collide"},
    {"time-rules-out-of-order", "time", "rule timestamps out of order within a row: 'latest' taken as 'last'"},
    {"time-zero", "time", "a timestamp of 0 (1970): falsy checks, date pickers"},
    {"time-future", "time", "a timestamp a year ahead: clock-skew checks, expiry logic"},
    {"time-created-after-modified", "time", "a session whose created_at is after its modified_at"},
    {"repeat-row-consecutive-pages", "repeat", "the same row in consecutive requests: receivers must be idempotent (no event id)"},
    {"repeat-rule-twice", "repeat", "the same rule firing twice with the same timestamp: dedup by content loses one"},
    {"volume-tick-boundary-burst", "volume", "a burst straddling a flush tick: one viewer's events split over two requests"},
    {"volume-all-types", "volume", "one viewer in all three webhook types at once: concurrent upserts"},
    {"auth-missing", "auth", "a request without Authorization: a receiver that accepts it is a security finding"},
    {"auth-wrong", "auth", "a request with a wrong Authorization: a receiver that accepts it is a security finding"},
    {"session-docs-example", "session", "the documentation's own session: uuid \"12134-dffgs-2345-vfsd\" (not a UUID), device_id \"123\", browser \"CHROME 1\""},
    {"session-extra-fields", "session", "keys beyond the six (Record<string, any> allows them): strict schemas and fixed columns"},
    {"quirk-created-at-string", "quirk", "the docs' example `created_at: xyz`: a string where the type says number (invalid)", false},
};

}  // namespace

const std::vector<edge_case_info>& edge_case_catalogue() { return catalogue; }

const edge_case_info* find_edge_case(std::string_view name) {
  for (const auto& c : catalogue) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

std::vector<edge_case_selection> expand_edge_cases(const std::vector<edge_case_selection>& selected) {
  std::vector<edge_case_selection> out;
  for (const auto& s : selected) {
    if (s.name == "all") {
      for (const auto& c : catalogue) {
        if (c.valid) out.push_back({std::string(c.name), s.count});
      }
    } else if (find_edge_case(s.name) != nullptr) {
      out.push_back(s);
    } else {
      std::string close;
      for (const auto& c : catalogue) {
        if (c.name.substr(0, c.name.find('-')) == s.name.substr(0, s.name.find('-'))) {
          close += close.empty() ? "" : ", ";
          close += c.name;
        }
      }
      throw std::invalid_argument("unknown edge case '" + s.name + "'" +
                                  (close.empty() ? std::string("; see `gmsim edge-cases`")
                                                 : "; in its group: " + close));
    }
  }
  return out;
}

}  // namespace gmsim
