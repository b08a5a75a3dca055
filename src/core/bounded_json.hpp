// JSON read with a depth limit: every document gmsim reads (summaries, recordings,
// bodies, exports) is input, and a deep one is torn down and printed by recursion: a
// 200,000-deep array in a recording crashed replay (SIGSEGV) building its error message.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string_view>

namespace gmsim {

// As deep as a profile may nest (profile/located_json.hpp's limit); gmsim writes 4.
inline constexpr std::size_t max_json_depth = 512;

class json_too_deep : public std::runtime_error {
 public:
  json_too_deep();
};

// Parses text as nlohmann::json::parse(text, nullptr, allow_exceptions) does, building at
// most max_json_depth levels: deeper, it throws json_too_deep ("nested deeper than 512
// levels") when allow_exceptions, else returns a discarded value, as for a syntax error.
nlohmann::json parse_json_bounded(std::string_view text, bool allow_exceptions = true);

}  // namespace gmsim
