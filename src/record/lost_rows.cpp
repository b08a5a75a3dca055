#include "record/lost_rows.hpp"

#include "core/json_writer.hpp"

namespace gmsim {

std::string lost_reason(const request_outcome& outcome) {
  switch (outcome.kind) {
    case outcome_kind::rejected:
      return "status " + std::to_string(outcome.status);
    case outcome_kind::unsent:
      // Dropped by gmsim's queue bound, or still queued when the run stopped.
      return outcome.detail.starts_with("dropped") ? "dropped" : "unsent";
    default:
      return std::string(to_string(outcome.error));
  }
}

void write_lost_lines(std::string& out, const lost_page& page,
                      const std::function<void(json_writer&, std::size_t)>& identifier,
                      const std::function<std::int64_t(std::size_t)>& events) {
  const std::string why = lost_reason(*page.outcome);
  json_writer w(out, json_writer::overwrite);
  for (std::size_t i = 0; i < static_cast<std::size_t>(page.rows); ++i) {
    w.raw("{\"org\":");
    w.string(page.org);
    w.raw(",\"dep\":");
    w.string(page.dep);
    w.raw(",\"type\":");
    w.string(to_string(page.type));
    w.raw(",\"identifier\":");
    identifier(w, i);
    w.raw(",\"page\":");
    w.unsigned_integer(page.sequence);
    w.raw(",\"row\":");
    w.integer(static_cast<std::int64_t>(i));
    if (events) {
      w.raw(",\"events\":");
      w.integer(events(i));
    }
    w.raw(",\"intended_ms\":");
    w.integer(page.intended);
    w.raw(",\"outcome\":");
    w.string(to_string(page.outcome->kind));
    w.raw(",\"reason\":");
    w.string(why);
    if (!page.outcome->detail.empty()) {
      w.raw(",\"cause\":");
      w.string(page.outcome->detail);
    }
    if (page.auth_probe) w.raw(",\"auth_probe\":true");
    w.raw("}\n");
  }
  w.flush();
}

}  // namespace gmsim
