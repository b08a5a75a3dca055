// "Did you mean ...?": the one rule for suggesting a name a user nearly typed, used by
// profile keys, edge cases, command-line options and commands alike.
#pragma once

#include <span>
#include <string_view>

namespace gmsim::detail {

// The candidate closest to `given` by edit distance (case-insensitive, a swap of two
// neighbours counting once), if it is close enough to be a likely typo; "" otherwise.
std::string_view nearest_name(std::string_view given, std::span<const std::string_view> names);

}  // namespace gmsim::detail
