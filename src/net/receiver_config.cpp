#include "net/receiver_config.hpp"

#include <nlohmann/json.hpp>

namespace gmsim {

using json = nlohmann::json;

nlohmann::json to_json(const receiver_counts& c) {
  json by_type = json::object(), by_status = json::object();
  for (const auto& [type, rows] : c.rows_by_type) by_type[type] = rows;
  for (const auto& [status, n] : c.by_status) by_status[std::to_string(status)] = n;
  return {{"connections", c.connections},
          {"requests", c.requests},
          {"bytes", c.bytes},
          {"valid", c.valid},
          {"invalid", c.invalid},
          {"unauthorized", c.unauthorized},
          {"too_large", c.too_large},
          {"gap_violations", c.gap_violations},
          {"dropped", c.dropped},
          {"busy", c.busy},
          {"unanswered_at_stop", c.unanswered_at_stop},
          {"queues_tracked", c.queues_tracked},
          {"rows_accepted", c.rows_accepted},
          {"rows_by_type", by_type},
          {"by_status", by_status}};
}

}  // namespace gmsim
