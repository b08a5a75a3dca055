#include "core/bounded_json.hpp"

#include <string>

namespace gmsim {

json_too_deep::json_too_deep()
    : std::runtime_error("nested deeper than " + std::to_string(max_json_depth) + " levels") {}

nlohmann::json parse_json_bounded(std::string_view text, bool allow_exceptions) {
  using json = nlohmann::json;
  std::size_t depth = 0;
  bool too_deep = false;
  // A value the callback declines is not built, nor anything within it: the parser keeps
  // a flag a level, not the document.
  auto bound = [&](int, json::parse_event_t event, json&) {
    if (event == json::parse_event_t::object_start || event == json::parse_event_t::array_start) {
      too_deep = too_deep || ++depth > max_json_depth;
    } else if (event == json::parse_event_t::object_end ||
               event == json::parse_event_t::array_end) {
      --depth;
    }
    return !too_deep;
  };
  json doc;
  try {
    doc = json::parse(text, bound, allow_exceptions);
  } catch (const json::exception&) {
    // Too deep first: an unended 200,000-deep document is that before it is cut short.
    if (!too_deep) throw;
  }
  if (!too_deep) return doc;
  if (allow_exceptions) throw json_too_deep();
  return json(json::value_t::discarded);
}

}  // namespace gmsim
