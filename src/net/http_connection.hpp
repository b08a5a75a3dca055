// One keep-alive HTTP/1.1 (or HTTPS) connection to the target, as a stream uses it.
// Private: it brings Asio in. Included by transport.cpp and live_runner.cpp only.
#pragma once

// Every file that includes Asio must see the same configuration as gmsim_core, which
// compiles with BOOST_ASIO_NO_DEPRECATED: Asio's inline functions differ with it, and
// mixing both in one binary breaks the one-definition rule (wrong object layouts).
#ifndef BOOST_ASIO_NO_DEPRECATED
#error "define BOOST_ASIO_NO_DEPRECATED before including Asio, as gmsim_core does"
#endif

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <functional>
#include <memory>
#include <string_view>

#include "delivery/outcome.hpp"
#include "net/transport.hpp"

namespace gmsim {

// The TLS settings shared by every connection of a run: SNI, verification against the
// system store or config.ca_file, or none with config.insecure. Throws
// std::invalid_argument when ca_file cannot be read.
std::shared_ptr<boost::asio::ssl::context> make_tls_context(const transport_config& config);

class http_connection {
 public:
  using completion = std::function<void(const request_outcome&)>;

  // tls may be null: an https:// target then gets its own make_tls_context(config).
  // config is copied, and the request's headers are built once, here. Throws
  // std::invalid_argument for a header or auth string with a line break (it would
  // inject headers), or from make_tls_context. The io_context must outlive the
  // connection and be run by one thread (the steps share no strand); a request still
  // in flight when it is destroyed ends as failed/reset, its done called when the
  // io_context next runs.
  http_connection(boost::asio::io_context& io, const transport_config& config,
                  std::shared_ptr<boost::asio::ssl::context> tls);
  ~http_connection();
  http_connection(const http_connection&) = delete;
  http_connection& operator=(const http_connection&) = delete;

  // POSTs body once: connects (or reuses the open connection; reconnects once if the
  // server had closed it before this request's first byte was written), writes, reads
  // the response, discards its body. No retry, no redirect. done is called exactly
  // once, on the io_context's thread. body must stay valid until then. One request at
  // a time per connection.
  void send(std::string_view body, completion done);

  // Closes the socket; a request in flight completes as failed/reset. Idempotent. Not
  // final: a later send opens a new connection. Safe from any thread (from another
  // thread it is posted to the io_context; on its thread it runs at once), as is send.
  void close();

 private:
  struct session;
  std::shared_ptr<session> session_;
};

}  // namespace gmsim
