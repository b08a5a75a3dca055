// The one error a profile raises, from its JSON reader (profile_json) and from the
// checks of its fields (profile) alike.
#pragma once

#include <stdexcept>

namespace gmsim {

// A profile that cannot be used. what() is one line:
// "<source>:<line>: <field path>: <reason>" (the line when it is known).
class profile_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace gmsim
