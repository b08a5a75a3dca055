#include "profile/profile_json.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>
#include <vector>

#include "core/did_you_mean.hpp"
#include "profile/profile_error.hpp"

namespace gmsim::detail {
namespace {

std::string join(std::span<const std::string_view> names, std::string_view quote) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ", ";
    out += quote;
    out += names[i];
    out += quote;
  }
  return out;
}

std::string quote_json(std::string_view text) { return profile_json(std::string(text)).dump(); }

}  // namespace

std::string format_number(double value) {
  if (std::isinf(value)) return value > 0 ? "infinity" : "-infinity";
  if (value == std::floor(value) && std::fabs(value) < 1e18) {
    return std::to_string(static_cast<long long>(value));
  }
  char buffer[32];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, result.ptr);
}

profile_node::profile_node(const located_json& doc, const profile_json& value, std::string path)
    : doc_(&doc), value_(&value), path_(std::move(path)) {}

int profile_node::line() const {
  const auto it = doc_->lines.find(path_);
  return it == doc_->lines.end() ? 0 : it->second;
}

std::string profile_node::describe() const {
  if (value_->is_object()) return "an object";
  if (value_->is_array()) return "an array";
  std::string text = value_->dump();
  if (text.size() > 60) text = text.substr(0, 57) + "...";
  return text;
}

void profile_node::fail(std::string_view reason) const { fail_at(line(), reason); }

void profile_node::fail_at(int line, std::string_view reason) const {
  std::string message = doc_->source;
  if (line > 0) message += ":" + std::to_string(line);
  message += ": ";
  if (!path_.empty()) message += path_ + ": ";
  message += reason;
  throw profile_error(one_line(message));
}

void profile_node::expect_object(std::span<const std::string_view> allowed,
                                 std::span<const std::string_view> known_elsewhere,
                                 std::string_view context) const {
  if (!value_->is_object()) fail("expected an object, got " + describe());
  for (const auto& [key, value] : value_->items()) {
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    const auto key_line = doc_->lines.find(member_path(path_, key));
    const int line = key_line == doc_->lines.end() ? this->line() : key_line->second;
    if (std::find(known_elsewhere.begin(), known_elsewhere.end(), key) != known_elsewhere.end()) {
      fail_at(line, "key '" + key + "' does not apply to " + std::string(context));
    }
    const std::string_view near = nearest_name(key, allowed);
    if (!near.empty()) {
      fail_at(line, "unknown key '" + key + "'; did you mean '" + std::string(near) + "'?");
    }
    fail_at(line, "unknown key '" + key + "'; valid keys: " + join(allowed, ""));
  }
}

std::optional<profile_node> profile_node::get(std::string_view key) const {
  const auto it = value_->find(std::string(key));
  if (it == value_->end()) return std::nullopt;
  return profile_node(*doc_, *it, member_path(path_, key));
}

profile_node profile_node::required(std::string_view key, std::string_view hint) const {
  if (auto child = get(key)) return *child;
  std::string reason = "missing '" + std::string(key) + "'";
  if (!hint.empty()) reason += "; " + std::string(hint);
  fail(reason);
}

void profile_node::expect_array() const {
  if (!value_->is_array()) fail("expected an array, got " + describe());
}

profile_node profile_node::operator[](std::size_t index) const {
  return profile_node(*doc_, (*value_)[index], element_path(path_, index));
}

bool profile_node::as_bool() const {
  if (!value_->is_boolean()) fail("expected true or false, got " + describe());
  return value_->get<bool>();
}

std::string profile_node::as_string() const {
  if (!value_->is_string()) fail("expected a string, got " + describe());
  return value_->get<std::string>();
}

std::string profile_node::as_nonempty_string() const {
  std::string text = as_string();
  if (text.empty()) fail("must not be empty");
  return text;
}

double profile_node::as_number(double min, double max) const {
  if (!value_->is_number()) fail("expected a number, got " + describe());
  const double value = value_->get<double>();
  if (value < min || value > max) {
    if (max == std::numeric_limits<double>::infinity()) {
      fail("must be at least " + format_number(min) + ", got " + describe());
    }
    fail("must be from " + format_number(min) + " to " + format_number(max) + ", got " +
         describe());
  }
  return value;
}

std::int64_t profile_node::as_integer(std::int64_t min, std::int64_t max) const {
  const auto out_of_range = [&] {
    fail("must be from " + std::to_string(min) + " to " + std::to_string(max) + ", got " +
         describe());
  };
  if (value_->is_number_unsigned()) {
    const auto value = value_->get<std::uint64_t>();
    if (value > static_cast<std::uint64_t>(max)) out_of_range();
    if (static_cast<std::int64_t>(value) < min) out_of_range();
    return static_cast<std::int64_t>(value);
  }
  if (value_->is_number_integer()) {
    const auto value = value_->get<std::int64_t>();
    if (value < min || value > max) out_of_range();
    return value;
  }
  if (value_->is_number_float()) {
    const double value = value_->get<double>();
    if (value != std::floor(value)) fail("expected an integer, got " + describe());
    // Only doubles in [-2^63, 2^63) convert; comparing with double(max) would not do, as
    // INT64_MAX rounds up to 2^63.
    if (!(value >= -0x1p63 && value < 0x1p63)) out_of_range();
    const auto integer = static_cast<std::int64_t>(value);
    if (integer < min || integer > max) out_of_range();
    return integer;
  }
  fail("expected an integer, got " + describe());
}

std::uint64_t profile_node::as_uint64() const {
  constexpr const char* reason = "expected an integer from 0 to 18446744073709551615, got ";
  if (value_->is_number_unsigned()) return value_->get<std::uint64_t>();
  if (value_->is_string()) {
    const std::string text = value_->get<std::string>();
    std::uint64_t value = 0;
    const auto result = std::from_chars(text.data(), text.data() + text.size(), value);
    if (!text.empty() && text.front() >= '0' && text.front() <= '9' && result.ec == std::errc() &&
        result.ptr == text.data() + text.size()) {
      return value;
    }
  }
  if (value_->is_number_float()) {
    // Integers written as 1e3, but not those a double cannot hold exactly.
    const double value = value_->get<double>();
    if (value >= 0 && value == std::floor(value) && value <= 9007199254740992.0) {
      return static_cast<std::uint64_t>(value);
    }
  }
  fail(reason + describe());
}

millis profile_node::as_duration() const {
  constexpr const char* shape = "expected a duration such as \"60s\" or whole milliseconds, got ";
  if (value_->is_string()) {
    try {
      return parse_duration(value_->get<std::string>());
    } catch (const std::invalid_argument& e) {
      fail(e.what());
    }
  }
  if (!value_->is_number()) fail(shape + describe());
  const double value = value_->get<double>();
  if (value < 0) fail("must not be negative, got " + describe());
  if (value != std::floor(value)) fail(shape + describe());
  return as_integer(0, std::numeric_limits<millis>::max());
}

double profile_node::as_rate() const {
  if (value_->is_string()) {
    try {
      return parse_rate(value_->get<std::string>());
    } catch (const std::invalid_argument& e) {
      fail(e.what());
    }
  }
  if (value_->is_number()) return as_number(0, std::numeric_limits<double>::infinity());
  fail("expected a rate such as \"10/s\" or a number per second, got " + describe());
}

std::size_t profile_node::as_choice(std::span<const std::string_view> names) const {
  if (!value_->is_string()) fail("expected one of " + join(names, "\"") + ", got " + describe());
  const std::string text = value_->get<std::string>();
  const auto it = std::find(names.begin(), names.end(), text);
  if (it != names.end()) return static_cast<std::size_t>(it - names.begin());
  const std::string_view near = nearest_name(text, names);
  if (!near.empty()) {
    fail("unknown value " + quote_json(text) + "; did you mean " + quote_json(near) + "?");
  }
  fail("unknown value " + quote_json(text) + "; use " + join(names, "\""));
}

void check_unique(const profile_node& item, const std::string& name, std::string_view what,
                  seen_names& seen) {
  const auto [first, added] = seen.emplace(name, item.line());
  if (!added) {
    item.fail("duplicate " + std::string(what) + " '" + name + "' (also at line " +
              std::to_string(first->second) + ")");
  }
}

}  // namespace gmsim::detail
