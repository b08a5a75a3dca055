#include "delivery/outcome.hpp"

namespace gmsim {

std::string_view to_string(outcome_kind kind) {
  switch (kind) {
    case outcome_kind::delivered:
      return "delivered";
    case outcome_kind::rejected:
      return "rejected";
    case outcome_kind::failed:
      return "failed";
    case outcome_kind::unacknowledged:
      return "unacknowledged";
    case outcome_kind::unsent:
      return "unsent";
  }
  return "unknown";
}

std::string_view to_string(failure_kind kind) {
  switch (kind) {
    case failure_kind::none:
      return "none";
    case failure_kind::dns:
      return "dns";
    case failure_kind::connect_refused:
      return "connect_refused";
    case failure_kind::connect_timeout:
      return "connect_timeout";
    case failure_kind::tls:
      return "tls";
    case failure_kind::timeout:
      return "timeout";
    case failure_kind::reset:
      return "reset";
    case failure_kind::malformed_response:
      return "malformed_response";
    case failure_kind::other:
      return "other";
    case failure_kind::local_resource:
      return "local_resource";
  }
  return "unknown";
}

}  // namespace gmsim
