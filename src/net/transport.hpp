// Transport: where requests go and how. The Beast client itself lives in
// net/http_connection.hpp, so that Asio stays out of every other header; how a request
// ended is delivery/outcome.hpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/duration.hpp"
#include "delivery/outcome.hpp"

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
  // Reports show the target as given (--show-url), not with its query and secret-looking
  // path segments redacted (report/report.hpp: shown_target_url).
  bool show_url = false;
};

// One POST of body on an io_context of its own, on the calling thread (not a run's: for
// --metrics-push): its outcome as a request of the run would have it, within
// config.connect_timeout and request_timeout. Throws as http_connection's constructor does
// (net/http_connection.cpp).
request_outcome post_once(const transport_config& config, std::string_view body);

}  // namespace gmsim
