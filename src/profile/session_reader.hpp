// Reading a profile's "session" section: values and their distributions, variables,
// rules, browsers and platforms. Internal to profile/: profile.cpp reads the document,
// its orgs, viewers, arrival and delivery, and calls this for the session.
#pragma once

#include <limits>

#include "profile/profile.hpp"
#include "profile/profile_json.hpp"

namespace gmsim::detail {

inline constexpr double unbounded = std::numeric_limits<double>::infinity();

session_spec read_session(const profile_node& node);
// The session of a profile that has none: a few variables and rules, common browsers.
session_spec default_session();

}  // namespace gmsim::detail
