// Transport: where requests go and how each one ended. The Beast client itself lives
// in src/http_connection.hpp, private, so that Asio stays out of public headers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gmsim/duration.hpp"

namespace gmsim {

struct target_url {
  std::string text;    // as the user wrote it, for display (never holds credentials)
  bool tls = false;    // https
  std::string host;    // without brackets for IPv6 literals
  std::string port;    // "80" / "443" when the URL has none
  std::string target;  // path and query, "/" when empty
};

// Parses an http:// or https:// URL with Boost.URL. Throws std::invalid_argument with
// the reason (bad syntax, other scheme, user info in the URL, no host).
target_url parse_target(std::string_view url);

struct transport_config {
  target_url target;
  std::string auth_string;  // sent as "Authorization: Basic <auth_string>" when not empty
  // Extra headers, sent after ours in order (Beast keeps fields of one name together).
  // Host, Content-Type, User-Agent or Authorization here replace ours; Content-Length
  // and Transfer-Encoding are ignored: framing is the transport's.
  std::vector<std::pair<std::string, std::string>> headers;
  millis connect_timeout = 10'000;  // TCP connect and TLS handshake
  millis request_timeout = 30'000;  // from the request's first byte to the response's last
  bool insecure = false;            // skip certificate verification
  std::string ca_file;              // verify against this PEM bundle instead of the system's
  std::size_t max_response_body = 1 << 20;  // read and discarded up to this; more is an error
};

// How one request ended. Exactly one per request.
enum class outcome_kind : std::uint8_t {
  delivered,  // a 2xx status
  rejected,   // any other status
  failed,     // no status: see failure_kind
  unsent,     // the run stopped before the request went out
};

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
};
inline constexpr int failure_kind_count = 9;

std::string_view to_string(outcome_kind kind);
std::string_view to_string(failure_kind kind);  // "connect_refused", ... as in summaries

struct request_outcome {
  outcome_kind kind = outcome_kind::unsent;
  int status = 0;  // the HTTP status, when there was one
  failure_kind error = failure_kind::none;
  std::string detail;  // a human-readable cause, for logs; never holds secrets
};

}  // namespace gmsim
