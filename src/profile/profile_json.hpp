// A profile's values with typed accessors whose errors name the file, the line and the
// field (profile_node), over the located JSON of located_json.hpp. Private to profile/.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/duration.hpp"
#include "profile/located_json.hpp"

namespace gmsim::detail {

// One value of a located document, with typed accessors whose errors read
// "<source>:<line>: <path>: <reason>". They throw profile_error.
class profile_node {
 public:
  profile_node(const located_json& doc, const profile_json& value, std::string path);

  const profile_json& json() const { return *value_; }
  const std::string& path() const { return path_; }
  int line() const;
  // The value as the user would recognise it: "6o s" quoted, 5, an object, an array.
  std::string describe() const;

  [[noreturn]] void fail(std::string_view reason) const;

  // Objects. expect_object() refuses keys outside `allowed`: a key in `known_elsewhere`
  // "does not apply to <context>", any other is unknown (with the nearest allowed name).
  void expect_object(std::span<const std::string_view> allowed,
                     std::span<const std::string_view> known_elsewhere = {},
                     std::string_view context = {}) const;
  void expect_object(std::initializer_list<std::string_view> allowed) const {
    expect_object(std::span<const std::string_view>(allowed.begin(), allowed.size()));
  }
  std::optional<profile_node> get(std::string_view key) const;
  profile_node required(std::string_view key, std::string_view hint = {}) const;

  // Arrays.
  void expect_array() const;
  std::size_t size() const { return value_->size(); }
  profile_node operator[](std::size_t index) const;

  bool as_bool() const;
  std::string as_string() const;
  std::string as_nonempty_string() const;
  // Any number; an integer counts. Bounds are inclusive.
  double as_number(double min, double max) const;
  // An integer, also written as 1e3 or 5.0. Bounds are inclusive.
  std::int64_t as_integer(std::int64_t min, std::int64_t max) const;
  // A non-negative integer up to 2^64 - 1, as a number or as a string of digits (for the
  // values above 2^53 that some JSON tools round).
  std::uint64_t as_uint64() const;
  // "250ms" or a number of milliseconds; never negative.
  millis as_duration() const;
  // "10/s", "600/m" or a number per second; never negative.
  double as_rate() const;
  // The index of the string in `names`, with a suggestion if it is a near miss.
  std::size_t as_choice(std::span<const std::string_view> names) const;
  std::size_t as_choice(std::initializer_list<std::string_view> names) const {
    return as_choice(std::span<const std::string_view>(names.begin(), names.size()));
  }

 private:
  [[noreturn]] void fail_at(int line, std::string_view reason) const;

  const located_json* doc_;
  const profile_json* value_;
  std::string path_;
};

// A number as people write it: integers without a fraction, others in the shortest form.
std::string format_number(double value);

// Refuses a slug or name seen before in `seen`, naming the line of the first one. A hash
// map: a list searched at each entry made 50,000 orgs take minutes.
using seen_names = std::unordered_map<std::string, int>;
void check_unique(const profile_node& item, const std::string& name, std::string_view what,
                  seen_names& seen);

}  // namespace gmsim::detail
