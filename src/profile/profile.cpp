#include "profile/profile.hpp"

#include <iterator>

namespace gmsim {

std::string_view to_string(webhook_type type) {
  return webhook_type_names[static_cast<std::size_t>(type)];
}

bool parse_webhook_type(std::string_view name, webhook_type& out) {
  for (std::size_t i = 0; i < std::size(webhook_type_names); ++i) {
    if (webhook_type_names[i] == name) {
      out = static_cast<webhook_type>(i);
      return true;
    }
  }
  return false;
}

}  // namespace gmsim
