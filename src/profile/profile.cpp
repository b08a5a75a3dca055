#include "profile/profile.hpp"

#include <iterator>

namespace gmsim {
namespace {

// The enum value whose name (names, in the enum's order) is name; false if none is.
template <class Enum, std::size_t N>
bool parse_name(const std::string_view (&names)[N], std::string_view name, Enum& out) {
  for (std::size_t i = 0; i < N; ++i) {
    if (names[i] == name) {
      out = static_cast<Enum>(i);
      return true;
    }
  }
  return false;
}

}  // namespace

std::string_view to_string(webhook_type type) {
  return webhook_type_names[static_cast<std::size_t>(type)];
}

bool parse_webhook_type(std::string_view name, webhook_type& out) {
  return parse_name(webhook_type_names, name, out);
}

std::string_view to_string(pacing_scope scope) {
  return pacing_scope_names[static_cast<std::size_t>(scope)];
}

bool parse_pacing_scope(std::string_view name, pacing_scope& out) {
  return parse_name(pacing_scope_names, name, out);
}

std::string_view to_string(final_flush flush) {
  return final_flush_names[static_cast<std::size_t>(flush)];
}

bool parse_final_flush(std::string_view name, final_flush& out) {
  return parse_name(final_flush_names, name, out);
}

}  // namespace gmsim
