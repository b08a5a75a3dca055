// JSON with comments and line numbers, for profiles: nlohmann::json forgets where a value
// was written, and a profile error must say the line. Private to profile/.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/shown_text.hpp"  // one_line, for the profile errors

namespace gmsim::detail {

// Ordered, so that object fields and enum values keep the order the user wrote them in.
using profile_json = nlohmann::ordered_json;

// A parsed document and the line of every value in it, by path: "delivery.max_delay",
// "session.variables[2].type"; "" is the document itself. An object member's line is the
// line of its key.
struct located_json {
  std::string source;
  profile_json value;
  std::unordered_map<std::string, int> lines;
};

// Parses strict JSON plus // and /* */ comments (and a leading UTF-8 BOM). Throws
// profile_error: "<source>:<line>:<col>: syntax error: <reason>" for bad syntax, and
// "<source>:<line>: <path>: duplicate key '<key>' (first at line N)".
located_json parse_located_json(std::string_view text, std::string_view source);

std::string member_path(std::string_view parent, std::string_view key);
std::string element_path(std::string_view parent, std::size_t index);

}  // namespace gmsim::detail
