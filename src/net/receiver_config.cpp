#include "net/receiver_config.hpp"

#include <nlohmann/json.hpp>

#include "core/exposition.hpp"

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

std::string prometheus_text(const receiver_counts& c) {
  exposition e;
  e.counter("gmsim_receiver_connections_total", "Connections accepted.", c.connections);
  e.counter("gmsim_receiver_requests_total", "Requests read whole, any method and path.",
            c.requests);
  e.counter("gmsim_receiver_body_bytes_total", "Body bytes of those requests.", c.bytes);
  e.counter("gmsim_receiver_valid_requests_total",
            "Webhook bodies that passed auth and validation, whatever fault was injected.",
            c.valid);
  e.counter("gmsim_receiver_invalid_requests_total",
            "Webhook bodies that failed validation (answered 400).", c.invalid);
  e.counter("gmsim_receiver_unauthorized_total", "Requests answered 401.", c.unauthorized);
  e.counter("gmsim_receiver_too_large_total", "Requests answered 413 (never read whole).",
            c.too_large);
  e.counter("gmsim_receiver_gap_violations_total",
            "Valid requests of a pacing queue that came sooner than min_gap after its last.",
            c.gap_violations);
  e.counter("gmsim_receiver_dropped_connections_total",
            "Connections closed on purpose (--close-ratio).", c.dropped);
  e.counter("gmsim_receiver_busy_total", "Requests answered 503: bodies in memory at the budget.",
            c.busy);
  e.family("gmsim_receiver_rows_accepted_total", "counter",
           "Rows in valid bodies answered 2xx, by webhook type.");
  for (const char* type : {"variables", "rules", "session"}) {
    const auto found = c.rows_by_type.find(type);
    e.sample("gmsim_receiver_rows_accepted_total", label("type", type),
             found == c.rows_by_type.end() ? std::int64_t{0} : found->second);
  }
  e.family("gmsim_receiver_responses_total", "counter", "Answers sent, by HTTP status.");
  for (const auto& [status, n] : c.by_status) {
    e.sample("gmsim_receiver_responses_total", label("status", std::to_string(status)), n);
  }
  e.gauge("gmsim_receiver_queues_tracked",
          "Pacing queues whose last request is kept for the gap check.", c.queues_tracked);
  return e.take();
}

}  // namespace gmsim
