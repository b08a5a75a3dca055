// How a request ended: the one fact about a request that the engine, the transport, the
// ledger and the reports all speak of. Its own header, so that the engine and the
// statistics need nothing of the network layer.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace gmsim {

// How one request ended. Exactly one per request.
enum class outcome_kind : std::uint8_t {
  delivered,  // a 2xx status
  rejected,   // any other status
  failed,     // no status: see failure_kind
  // The body was written whole and no answer came (a timeout or a reset while reading):
  // the receiver may have stored the rows, so they are not counted lost.
  unacknowledged,
  unsent,  // the run stopped before the request went out
};
inline constexpr int outcome_kind_count = 5;

enum class failure_kind : std::uint8_t {
  none,
  dns,                 // the host name did not resolve
  connect_refused,     // nothing listens there
  connect_timeout,     // connect or TLS handshake took longer than connect_timeout
  tls,                 // handshake or certificate verification failed
  timeout,             // no complete response within request_timeout
  reset,               // the peer closed or reset the connection mid-request
  malformed_response,  // not HTTP/1.1 as Beast reads it, or a body over the cap
  other,
  // gmsim's own machine ran out of something (descriptors: EMFILE, ENFILE; local ports:
  // EADDRNOTAVAIL; buffers, memory): not the receiver's fault, and the report says so.
  local_resource,
};
inline constexpr int failure_kind_count = 10;

std::string_view to_string(outcome_kind kind);
std::string_view to_string(failure_kind kind);  // "connect_refused", ... as in summaries

struct request_outcome {
  outcome_kind kind = outcome_kind::unsent;
  int status = 0;  // the HTTP status, when there was one
  failure_kind error = failure_kind::none;
  // A human-readable cause for the summary's causes and the ledger: the error's text, or
  // for a status other than 2xx the first bytes of the response body. Never holds secrets.
  std::string detail;
};

}  // namespace gmsim
