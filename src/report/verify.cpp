#include "report/verify.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "core/bounded_json.hpp"

namespace gmsim {
namespace {

using json = nlohmann::json;

std::string type_name(webhook_type t) { return std::string(to_string(t)); }

// JSON nested at most max_json_depth deep, or discarded (too_deep says why).
json parse_bounded(const std::string& text, bool& too_deep) {
  too_deep = false;
  try {
    return parse_json_bounded(text);
  } catch (const json_too_deep&) {
    too_deep = true;
  } catch (const json::exception&) {
  }
  return json(json::value_t::discarded);
}

// Numbers are equal when they are the same number: 1 and 1.0 are, 9007199254740993 and
// 9007199254740992.0 are not (compared in long double, exact for every int64 and double).
long double as_long_double(const json& v) {
  if (v.is_number_unsigned()) return static_cast<long double>(v.get<std::uint64_t>());
  if (v.is_number_integer()) return static_cast<long double>(v.get<std::int64_t>());
  return static_cast<long double>(v.get<double>());
}

bool same(const json& a, const json& b) {
  if (a.is_number() && b.is_number()) return as_long_double(a) == as_long_double(b);
  if (a.type() != b.type()) return false;
  if (a.is_object()) {
    if (a.size() != b.size()) return false;
    for (const auto& [key, value] : a.items()) {
      const auto other = b.find(key);
      if (other == b.end() || !same(value, *other)) return false;
    }
    return true;
  }
  if (a.is_array()) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (!same(a[i], b[i])) return false;
    }
    return true;
  }
  return a == b;
}

// A part of a fact's key: the value's JSON, an integral float written as the integer (a
// store may give back 1767225600021.0 for a timestamp it kept as REAL).
std::string key_part(const json& v) {
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.2e18) {
      return std::to_string(static_cast<std::int64_t>(d));
    }
  }
  return v.dump();
}

std::string json_type(const json& v) {
  if (v.is_number()) return "number";
  return v.type_name();
}

std::string shown(const json& v) {
  // An integral float as the integer it is: "stored 9007199254740992", not 9.007e+15.
  std::string text =
      v.is_number_float() ? key_part(v) : v.dump(-1, ' ', false, json::error_handler_t::replace);
  if (text.size() > 80) text = text.substr(0, 77) + "...";
  return text;
}

bool unusual_text(const std::string& s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u >= 0x80 || u < 0x20 || c == '\\' || c == '"';
  });
}

// How stored differs from sent, at the first place they differ: "number rounded: ...".
std::string how_altered(const json& sent, const json& stored, const std::string& path) {
  const std::string at = path.empty() ? "" : " at " + path;
  if (sent.is_number() && stored.is_number()) {
    // Rounded: the stored number is the sent one as a double holds it (JSON.parse, a REAL
    // column); anything else changed it.
    const bool rounded =
        static_cast<double>(as_long_double(sent)) == static_cast<double>(as_long_double(stored));
    return std::string(rounded ? "number rounded" : "number changed") + at + ": sent " +
           shown(sent) + ", stored " + shown(stored);
  }
  if (json_type(sent) != json_type(stored)) {
    return "type changed" + at + ": sent " + json_type(sent) + " " + shown(sent) + ", stored " +
           json_type(stored) + " " + shown(stored);
  }
  if (sent.is_string()) {
    const auto& a = sent.get_ref<const std::string&>();
    const auto& b = stored.get_ref<const std::string&>();
    if (b.size() < a.size() && a.compare(0, b.size(), b) == 0) {
      return "string truncated" + at + ": sent " + std::to_string(a.size()) +
             " bytes, stored the first " + std::to_string(b.size());
    }
    return std::string(unusual_text(a) ? "string re-encoded" : "string changed") + at + ": sent " +
           shown(sent) + ", stored " + shown(stored);
  }
  if (sent.is_object()) {
    for (const auto& [key, value] : sent.items()) {
      const auto other = stored.find(key);
      if (other == stored.end()) return "field dropped" + std::string(" at ") + path + "/" + key;
      if (!same(value, *other)) return how_altered(value, *other, path + "/" + key);
    }
    for (const auto& [key, value] : stored.items()) {
      if (!sent.contains(key)) return "field added at " + path + "/" + key + ": " + shown(value);
    }
  }
  if (sent.is_array()) {
    if (sent.size() != stored.size()) {
      return "array changed" + at + ": sent " + std::to_string(sent.size()) + " items, stored " +
             std::to_string(stored.size());
    }
    for (std::size_t i = 0; i < sent.size(); ++i) {
      if (!same(sent[i], stored[i])) {
        return how_altered(sent[i], stored[i], path + "/" + std::to_string(i));
      }
    }
  }
  return "value changed" + at + ": sent " + shown(sent) + ", stored " + shown(stored);
}

// The kind of an alteration: its first words, before " at " or ':'.
std::string alteration_kind(const std::string& how) {
  const auto end = std::min(how.find(" at "), how.find(':'));
  return how.substr(0, end);
}

struct fact_values {
  webhook_type type = webhook_type::variables;
  std::string shown;  // which fact, for people
  std::vector<json> sent, maybe, stored;
};

class fact_table {
 public:
  // Every fact of one row, sent (or maybe sent) or stored. Returns a reason when the row
  // is not in one of the webhook's row shapes.
  std::string add_row(const json& row, int source) {
    if (!row.is_object()) return "a row must be an object, got " + json_type(row);
    const auto id = row.find("identifier");
    if (id == row.end()) return "a row has no \"identifier\"";
    const std::string who = shown(*id);
    if (const auto vars = row.find("variables"); vars != row.end()) {
      if (!vars->is_object()) return "\"variables\" must be an object";
      for (const auto& [name, value] : vars->items()) {
        put(webhook_type::variables, "v|" + key_part(*id) + "|" + name, who + " variables." + name,
            value, source);
      }
      return {};
    }
    if (const auto rules = row.find("rules"); rules != row.end()) {
      if (!rules->is_array()) return "\"rules\" must be an array";
      for (const auto& firing : *rules) {
        if (!firing.is_object()) return "a rule firing must be an object";
        const json cid = firing.value("cid", json());
        const json ts = firing.value("timestamp", json());
        put(webhook_type::rules, "r|" + key_part(*id) + "|" + key_part(cid) + "|" + key_part(ts),
            who + " rule cid " + key_part(cid) + " at " + key_part(ts), firing, source);
      }
      return {};
    }
    if (const auto session = row.find("session"); session != row.end()) {
      if (!session->is_object()) return "\"session\" must be an object";
      const json uuid = session->value("uuid", json());
      put(webhook_type::session, "s|" + key_part(uuid), who + " session " + key_part(uuid),
          json{{"identifier", *id}, {"session", *session}}, source);
      return {};
    }
    return "a row has none of \"variables\", \"rules\" or \"session\"";
  }

  std::unordered_map<std::string, fact_values>& facts() { return facts_; }

 private:
  void put(webhook_type type, const std::string& key, const std::string& who, const json& value,
           int source) {
    auto& f = facts_[key];
    if (f.shown.empty()) {
      f.type = type;
      f.shown = who;
    }
    (source == 0 ? f.sent : source == 1 ? f.maybe : f.stored).push_back(value);
  }

  std::unordered_map<std::string, fact_values> facts_;
};

constexpr int sent_source = 0, maybe_source = 1, stored_source = 2;

// The rows of the recording's delivered requests (sent) and unacknowledged ones (maybe).
void read_recording(const std::string& path, fact_table& table) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw verify_error(path + ": cannot read the recording");
  std::string line;
  std::size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty()) continue;
    auto fail = [&](const std::string& why) {
      return verify_error(path + ":" + std::to_string(number) + ": " + why);
    };
    bool too_deep = false;
    const json doc = parse_bounded(line, too_deep);
    if (too_deep) throw fail("nested deeper than " + std::to_string(max_json_depth) + " levels");
    if (doc.is_discarded() || !doc.is_object()) throw fail("not JSON: not a recording");
    if (number == 1) {
      if (!doc.contains("gmsim_record")) {
        throw fail("not a recording: a recording starts with a {\"gmsim_record\":1,...} line");
      }
      continue;
    }
    const std::string outcome = doc.value("outcome", "");
    const int source = outcome == "delivered"        ? sent_source
                       : outcome == "unacknowledged" ? maybe_source
                                                     : -1;
    if (source < 0) continue;
    if (!doc.contains("body") || !doc["body"].is_string()) throw fail("a request without a body");
    const json body = parse_bounded(doc["body"].get_ref<const std::string&>(), too_deep);
    if (body.is_discarded() || !body.is_object() || !body.contains("data") ||
        !body["data"].is_object() || !body["data"].contains("rows") ||
        !body["data"]["rows"].is_array()) {
      continue;  // an invalid body on purpose (an edge case): nothing a store could keep
    }
    // A row out of shape (an edge case sends some on purpose) has no fact to look for.
    for (const auto& row : body["data"]["rows"]) table.add_row(row, source);
  }
  if (number == 0) throw verify_error(path + ": empty: not a recording");
}

std::int64_t read_export(const std::string& path, fact_table& table) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw verify_error(path + ": cannot read the export");
  std::string line;
  std::size_t number = 0;
  std::int64_t rows = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    auto fail = [&](const std::string& why) {
      return verify_error(path + ":" + std::to_string(number) + ": " + why +
                          " (docs/verify.md: one row a line, as the webhook sends it)");
    };
    bool too_deep = false;
    const json row = parse_bounded(line, too_deep);
    if (too_deep) throw fail("nested deeper than " + std::to_string(max_json_depth) + " levels");
    if (row.is_discarded()) throw fail("not JSON");
    if (const std::string why = table.add_row(row, stored_source); !why.empty()) throw fail(why);
    ++rows;
  }
  return rows;
}

// Takes the first value of pool equal to v out of it; whether there was one.
bool take(std::vector<json>& pool, const json& v) {
  for (auto it = pool.begin(); it != pool.end(); ++it) {
    if (same(*it, v)) {
      pool.erase(it);
      return true;
    }
  }
  return false;
}

bool contains_same(const std::vector<json>& pool, const json& v) {
  return std::any_of(pool.begin(), pool.end(), [&](const json& p) { return same(p, v); });
}

}  // namespace

bool verify_result::differs() const {
  return std::any_of(by_type.begin(), by_type.end(), [](const verify_counts& c) {
    return c.missing > 0 || c.duplicated > 0 || c.altered > 0;
  });
}

verify_result verify(const verify_options& options) {
  fact_table table;
  read_recording(options.recording_path, table);
  verify_result result;
  result.export_lines = read_export(options.export_path, table);

  // Examples per (kind, type), in a stable order: the facts sorted by key.
  std::vector<std::pair<const std::string*, fact_values*>> ordered;
  for (auto& [key, f] : table.facts()) ordered.emplace_back(&key, &f);
  std::sort(ordered.begin(), ordered.end(),
            [](const auto& a, const auto& b) { return *a.first < *b.first; });
  std::map<std::pair<std::string, int>, std::size_t> shown_per;
  auto note = [&](const std::string& kind, const fact_values& f, std::string detail) {
    auto& n = shown_per[{kind, static_cast<int>(f.type)}];
    if (n++ < options.examples) {
      result.examples.push_back(verify_finding{kind, f.type, f.shown, std::move(detail)});
    }
  };

  for (auto& [key, fp] : ordered) {
    fact_values& f = *fp;
    auto& c = result.by_type[static_cast<int>(f.type)];
    // An upserting store keeps the latest value: only that one is expected of it (the
    // variables and sessions; a rule firing is an event).
    if (options.keep == keep_mode::latest && f.type != webhook_type::rules && f.sent.size() > 1) {
      f.sent.erase(f.sent.begin(), f.sent.end() - 1);
    }
    c.expected += static_cast<std::int64_t>(f.sent.size());
    c.maybe += static_cast<std::int64_t>(f.maybe.size());
    std::vector<json> sent = f.sent, maybe = f.maybe, left;
    for (const auto& value : f.stored) {
      if (take(sent, value)) {
        ++c.matched;
      } else if (take(maybe, value)) {
        ++c.maybe_stored;
      } else {
        left.push_back(value);
      }
    }
    // What is left of the store: a copy of something already matched is a duplicate;
    // anything else is an altered value of what is left of the sent, in order, or (none
    // left) a fact this recording never sent.
    std::vector<json> unknown;
    for (auto& value : left) {
      if (contains_same(f.sent, value) || contains_same(f.maybe, value)) {
        ++c.duplicated;
        note("duplicated", f,
             "stored more times than sent (" + std::to_string(f.sent.size() + f.maybe.size()) +
                 " sent): " + shown(value));
      } else {
        unknown.push_back(std::move(value));
      }
    }
    std::size_t paired = 0;
    for (; paired < unknown.size() && paired < sent.size(); ++paired) {
      const std::string how = how_altered(sent[paired], unknown[paired], "");
      ++c.altered;
      ++result.alterations[alteration_kind(how)];
      note("altered", f, how);
    }
    for (std::size_t i = paired; i < sent.size(); ++i) {
      ++c.missing;
      note("missing", f,
           f.sent.size() > 1
               ? std::to_string(sent.size() - paired) + " of " + std::to_string(f.sent.size()) +
                     " sent not stored: " + shown(sent[i])
               : "sent, not stored: " + shown(sent[i]));
    }
    for (std::size_t i = paired; i < unknown.size(); ++i) {
      ++c.unexpected;
      note("unexpected", f, "stored, never sent by this recording: " + shown(unknown[i]));
    }
  }
  return result;
}

std::string verify_text(const verify_options& options, const verify_result& r) {
  std::string out =
      "\n  gmsim verify: " + options.recording_path + " against " + options.export_path + " (" +
      std::to_string(r.export_lines) + " rows stored; " +
      (options.keep == keep_mode::latest ? "the latest variables and sessions" : "every value") +
      " expected)\n\n";
  char line[256];
  std::snprintf(line, sizeof line, "  %-10s %9s %9s %9s %9s %10s %9s %10s\n", "type", "expected",
                "matched", "missing", "altered", "duplicated", "maybe", "unexpected");
  out += line;
  for (int t = 0; t < webhook_type_count; ++t) {
    const auto& c = r.by_type[t];
    std::snprintf(line, sizeof line, "  %-10s %9lld %9lld %9lld %9lld %10lld %9s %10lld\n",
                  type_name(static_cast<webhook_type>(t)).c_str(),
                  static_cast<long long>(c.expected), static_cast<long long>(c.matched),
                  static_cast<long long>(c.missing), static_cast<long long>(c.altered),
                  static_cast<long long>(c.duplicated),
                  (std::to_string(c.maybe_stored) + "/" + std::to_string(c.maybe)).c_str(),
                  static_cast<long long>(c.unexpected));
    out += line;
  }
  if (!r.alterations.empty()) {
    out += "\n  altered:";
    for (const auto& [kind, n] : r.alterations) out += "  " + kind + " x" + std::to_string(n);
    out += "\n";
  }
  if (!r.examples.empty()) out += "\n";
  for (const auto& e : r.examples) {
    out += "  " + e.kind + "  " + type_name(e.type) + "  " + e.fact + ": " + e.detail + "\n";
  }
  out += "\n  ";
  out += r.differs() ? "✗ the store differs from what was delivered"
                     : "✓ every delivered row is stored as sent";
  out +=
      "\n  (maybe: of the rows of unacknowledged requests, those stored; unexpected: stored "
      "rows this recording never sent, which do not fail the check)\n";
  return out;
}

json verify_json(const verify_result& r) {
  json types = json::object();
  for (int t = 0; t < webhook_type_count; ++t) {
    const auto& c = r.by_type[t];
    types[type_name(static_cast<webhook_type>(t))] = {
        {"expected", c.expected},         {"matched", c.matched},       {"missing", c.missing},
        {"altered", c.altered},           {"duplicated", c.duplicated}, {"maybe", c.maybe},
        {"maybe_stored", c.maybe_stored}, {"unexpected", c.unexpected}};
  }
  json examples = json::array();
  for (const auto& e : r.examples) {
    examples.push_back(
        {{"kind", e.kind}, {"type", type_name(e.type)}, {"fact", e.fact}, {"detail", e.detail}});
  }
  return {{"differs", r.differs()},
          {"export_rows", r.export_lines},
          {"by_type", types},
          {"alterations", r.alterations},
          {"examples", examples}};
}

}  // namespace gmsim
