#include "delivery/schema.hpp"

#include <algorithm>
#include <cstdint>
#include <exception>
#include <nlohmann/json.hpp>
#include <string>

namespace gmsim {
namespace {

using nlohmann::json;

// Builds the document like json::parse does, but keeps the error position for every kind
// of error (json::parse reports "number overflow" without one) and refuses absurd nesting
// before it is built. sax_parse calls these statically, so shadowing the base's members
// is enough.
class dom_builder : public nlohmann::detail::json_sax_dom_parser<json> {
 public:
  dom_builder(json& doc, std::size_t max_depth)
      : json_sax_dom_parser(doc, /*allow_exceptions=*/false), max_depth_(max_depth) {}

  bool start_object(std::size_t len) { return enter() && json_sax_dom_parser::start_object(len); }
  bool start_array(std::size_t len) { return enter() && json_sax_dom_parser::start_array(len); }
  bool end_object() {
    --depth_;
    return json_sax_dom_parser::end_object();
  }
  bool end_array() {
    --depth_;
    return json_sax_dom_parser::end_array();
  }

  template <class exception>
  bool parse_error(std::size_t position, const std::string& /*last_token*/, const exception& ex) {
    position_ = position;
    message_ = ex.what();
    return false;
  }

  // Why parsing stopped, for the fault's reason.
  std::string error() const {
    if (too_deep_) {
      return "nesting deeper than " + std::to_string(max_depth_) + " levels";
    }
    // nlohmann counts the bytes read, the offending one included (end of input counts as
    // one): minus one is the 0-based offset of the byte where parsing stopped.
    return "not JSON: " + printable(strip_prefix(message_)) + " (at byte " +
           std::to_string(position_ > 0 ? position_ - 1 : 0) + ")";
  }

 private:
  bool enter() {
    if (++depth_ > max_depth_) too_deep_ = true;
    return !too_deep_;
  }

  // "[json.exception.parse_error.101] parse error at line 1, column 5: syntax error ..."
  // keeps "syntax error ...": the byte offset says where, and bodies are rarely multi-line.
  static std::string_view strip_prefix(std::string_view what) {
    if (what.starts_with("[json.exception.")) {
      what.remove_prefix(std::min(what.find("] ") + 2, what.size()));
    }
    if (what.starts_with("parse error")) {
      if (const auto colon = what.find(": "); colon != what.npos) what.remove_prefix(colon + 2);
    }
    return what;
  }

  // nlohmann quotes the offending token raw, which may be invalid UTF-8 (that may be the
  // very error) or long: the reason must stay short and safe to print or to put in JSON.
  static std::string printable(std::string_view text) {
    constexpr std::size_t max_length = 160;
    std::string out;
    for (const char c : text.substr(0, max_length)) {
      const auto byte = static_cast<unsigned char>(c);
      if (byte >= 0x20 && byte < 0x7f) {
        out.push_back(c);
      } else {
        constexpr char hex[] = "0123456789abcdef";
        out += "\\x";
        out.push_back(hex[byte >> 4]);
        out.push_back(hex[byte & 0xf]);
      }
    }
    if (text.size() > max_length) out += "...";
    return out;
  }

  std::size_t max_depth_;
  std::size_t depth_ = 0;
  bool too_deep_ = false;
  std::size_t position_ = 0;
  std::string message_;
};

// Where a value sits, as a chain of frames on the checker's stack: a JSON Pointer string is
// only built when a fault is reported, so a valid body costs no allocation for paths.
struct path_node {
  const path_node* parent = nullptr;
  std::string_view key;
  std::size_t index = 0;
  bool is_index = false;
};

path_node child(const path_node* parent, std::string_view key) { return {parent, key, 0, false}; }
path_node child(const path_node* parent, std::size_t index) { return {parent, {}, index, true}; }

void append_pointer(std::string& out, const path_node* node) {
  if (node == nullptr) return;
  append_pointer(out, node->parent);
  out.push_back('/');
  if (node->is_index) {
    out += std::to_string(node->index);
    return;
  }
  for (const char c : node->key) {  // RFC 6901: '~' and '/' are escaped in a token
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out.push_back(c);
    }
  }
}

// A key or value quoted in a reason: at most a few dozen bytes, cut on a UTF-8 boundary
// (the parser has already checked the encoding), control characters shown as '?'.
std::string quote(std::string_view text, char mark) {
  constexpr std::size_t max_length = 40;
  std::size_t cut = std::min(text.size(), max_length);
  while (cut < text.size() && cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xc0) == 0x80) {
    --cut;
  }
  std::string out(1, mark);
  for (const char c : text.substr(0, cut)) {
    out.push_back(static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? '?' : c);
  }
  if (cut < text.size()) out += "...";
  out.push_back(mark);
  return out;
}

enum class body_type { unknown, variables, rules, session };

class body_checker {
 public:
  body_checker(const schema_limits& limits, std::vector<schema_fault>& faults)
      : limits_(limits), faults_(faults) {}

  void check_body(const json& body) {
    if (!body.is_object()) return expected(nullptr, "an object", body);
    const auto& members = body.get_ref<const json::object_t&>();
    if (const auto type = members.find("type"); type == members.end()) {
      fault(nullptr, "missing key 'type'");
    } else {
      check_type(type->second);
    }
    bool has_data = false;
    for (const auto& [key, value] : members) {
      const auto at = child(nullptr, key);
      if (key == "data") {
        has_data = true;
        check_data(value, &at);
      } else if (key != "type") {
        fault(&at, "unexpected key " + quote(key, '\'') + " in the body");
      }
    }
    if (!has_data) fault(nullptr, "missing key 'data'");
  }

 private:
  bool full() const { return faults_.size() >= limits_.max_faults; }

  void fault(const path_node* at, std::string reason) {
    if (full()) return;
    schema_fault& added = faults_.emplace_back();
    append_pointer(added.path, at);
    added.reason = std::move(reason);
  }

  void expected(const path_node* at, std::string_view what, const json& got) {
    fault(at, "expected " + std::string(what) + ", got " + got.type_name());
  }

  void check_type(const json& type) {
    const auto at = child(nullptr, "type");
    if (!type.is_string()) return expected(&at, "a string", type);
    const auto& name = type.get_ref<const std::string&>();
    if (name == "variables") {
      type_ = body_type::variables;
    } else if (name == "rules") {
      type_ = body_type::rules;
    } else if (name == "session") {
      type_ = body_type::session;
    } else {
      fault(&at, "expected \"variables\", \"rules\" or \"session\", got " + quote(name, '"'));
    }
  }

  void check_data(const json& data, const path_node* at) {
    if (!data.is_object()) return expected(at, "an object", data);
    bool has_org = false, has_dep = false, has_rows = false;
    for (const auto& [key, value] : data.get_ref<const json::object_t&>()) {
      const auto here = child(at, key);
      if (key == "orgSlug") {
        has_org = true;
        check_slug(value, &here);
      } else if (key == "depSlug") {
        has_dep = true;
        check_slug(value, &here);
      } else if (key == "rows") {
        has_rows = true;
        check_rows(value, &here);
      } else {
        fault(&here, "unexpected key " + quote(key, '\'') + " in data");
      }
    }
    if (!has_org) fault(at, "missing key 'orgSlug'");
    if (!has_dep) fault(at, "missing key 'depSlug'");
    if (!has_rows) fault(at, "missing key 'rows'");
  }

  void check_slug(const json& slug, const path_node* at) {
    if (!slug.is_string()) return expected(at, "a string", slug);
    if (slug.get_ref<const std::string&>().empty()) fault(at, "expected a non-empty string");
  }

  void check_string(const json& value, const path_node* at) {
    if (!value.is_string()) expected(at, "a string", value);
  }

  void check_integer(const json& value, const path_node* at, bool non_negative) {
    if (value.is_number_unsigned()) return;  // nlohmann's kind for a literal without '-'
    const std::string_view what = non_negative ? "a non-negative integer" : "an integer";
    if (value.is_number_integer()) {
      if (non_negative) {
        fault(at, "expected " + std::string(what) + ", got " +
                      std::to_string(value.get<std::int64_t>()));
      }
    } else if (value.is_number_float()) {
      // GMetri serialises with JSON.stringify, which never writes "1.0" for an integer.
      fault(at, "expected " + std::string(what) + ", got " + value.dump());
    } else {
      expected(at, what, value);
    }
  }

  void check_rows(const json& rows, const path_node* at) {
    if (!rows.is_array()) return expected(at, "an array", rows);
    const std::size_t count = rows.size();
    if (count == 0) {
      fault(at, "rows has 0 entries; at least 1");  // GMetri does not send empty batches
    } else if (count > limits_.max_rows) {
      fault(at, "rows has " + std::to_string(count) + " entries; at most " +
                    std::to_string(limits_.max_rows));
    }
    for (std::size_t i = 0; i < count && !full(); ++i) {
      const auto here = child(at, i);
      check_row(rows[i], &here);
    }
  }

  void check_row(const json& row, const path_node* at) {
    if (!row.is_object()) return expected(at, "an object", row);
    std::string_view payload;
    switch (type_) {
      case body_type::variables:
        payload = "variables";
        break;
      case body_type::rules:
        payload = "rules";
        break;
      case body_type::session:
        payload = "session";
        break;
      case body_type::unknown:
        break;
    }
    bool has_identifier = false, has_payload = false;
    for (const auto& [key, value] : row.get_ref<const json::object_t&>()) {
      const auto here = child(at, key);
      if (key == "identifier") {
        has_identifier = true;
        check_string(value, &here);
      } else if (type_ == body_type::unknown) {
        // Without a valid type the row's payload cannot be judged; the type fault says why.
      } else if (key == payload) {
        has_payload = true;
        check_payload(value, &here);
      } else {
        fault(&here,
              "unexpected key " + quote(key, '\'') + " in a " + std::string(payload) + " row");
      }
    }
    if (!has_identifier) fault(at, "missing key 'identifier'");
    if (type_ != body_type::unknown && !has_payload) {
      fault(at, "missing key '" + std::string(payload) + "'");
    }
  }

  void check_payload(const json& value, const path_node* at) {
    switch (type_) {
      case body_type::variables:
        if (!value.is_object()) expected(at, "an object", value);
        return;
      case body_type::rules:
        return check_rules(value, at);
      case body_type::session:
        return check_session(value, at);
      case body_type::unknown:
        return;
    }
  }

  void check_rules(const json& rules, const path_node* at) {
    if (!rules.is_array()) return expected(at, "an array", rules);
    if (rules.empty()) return fault(at, "rules has 0 entries; at least 1");
    for (std::size_t i = 0; i < rules.size() && !full(); ++i) {
      const auto here = child(at, i);
      check_rule(rules[i], &here);
    }
  }

  void check_rule(const json& rule, const path_node* at) {
    if (!rule.is_object()) return expected(at, "an object", rule);
    bool has_cid = false, has_cname = false, has_scene = false, has_timestamp = false;
    for (const auto& [key, value] : rule.get_ref<const json::object_t&>()) {
      const auto here = child(at, key);
      if (key == "cid") {
        has_cid = true;
        check_integer(value, &here, false);
      } else if (key == "cname") {
        has_cname = true;
        check_string(value, &here);
      } else if (key == "scene_name") {
        has_scene = true;
        check_string(value, &here);
      } else if (key == "timestamp") {
        has_timestamp = true;
        check_integer(value, &here, true);
      } else {
        fault(&here, "unexpected key " + quote(key, '\'') + " in a rule");
      }
    }
    if (!has_cid) fault(at, "missing key 'cid'");
    if (!has_cname) fault(at, "missing key 'cname'");
    if (!has_scene) fault(at, "missing key 'scene_name'");
    if (!has_timestamp) fault(at, "missing key 'timestamp'");
  }

  // A Record<string, any>: other keys are allowed, the documented ones are typed.
  void check_session(const json& session, const path_node* at) {
    if (!session.is_object()) return expected(at, "an object", session);
    bool has_uuid = false;
    for (const auto& [key, value] : session.get_ref<const json::object_t&>()) {
      const auto here = child(at, key);
      if (key == "uuid") {
        has_uuid = true;
        check_string(value, &here);
      } else if (key == "browser" || key == "platform" || key == "device_id") {
        check_string(value, &here);
      } else if (key == "created_at" || key == "modified_at") {
        check_integer(value, &here, true);
      }
    }
    if (!has_uuid) fault(at, "missing key 'uuid'");
  }

  const schema_limits& limits_;
  std::vector<schema_fault>& faults_;
  body_type type_ = body_type::unknown;
};

}  // namespace

std::vector<schema_fault> validate_body(std::string_view body, const schema_limits& limits) {
  std::vector<schema_fault> faults;
  schema_limits effective = limits;
  effective.max_faults = std::max<std::size_t>(effective.max_faults, 1);
  try {
    json doc;
    dom_builder builder(doc, effective.max_depth);
    if (!json::sax_parse(body.begin(), body.end(), &builder)) {
      faults.push_back({"", builder.error()});
      return faults;
    }
    body_checker(effective, faults).check_body(doc);
  } catch (const std::exception& e) {
    // Only allocation can fail here; the caller gets a fault, not an exception.
    faults.clear();
    faults.push_back({"", std::string("could not check the body: ") + e.what()});
  }
  return faults;
}

}  // namespace gmsim
