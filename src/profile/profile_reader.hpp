// Reading a profile: JSON text (a file, or a built-in embedded at build time) into the
// profile of profile.hpp, every field checked and every default filled in.
#pragma once

#include <string_view>

#include "profile/profile.hpp"

namespace gmsim {

// Parses a profile's text. source names it in errors. Throws profile_error.
profile parse_profile(std::string_view text, std::string_view source);

// A built-in name ("quickstart") or a file path. Throws profile_error.
profile load_profile(std::string_view name_or_path);

}  // namespace gmsim
