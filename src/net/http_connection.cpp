// http_connection: the TLS context, and the connection itself, a Beast HTTP/1.1
// client shaped like Beast's example/http/client/async-ssl: a session in a shared_ptr
// kept alive by its pending handler, a chain of do_x / on_x steps, each handler checking
// its error first, and a deadline set before every operation. Every io_context that
// runs connections is run by one thread (a worker's), so the steps need no strand: its
// mutex and type-erased dispatch were a cost on every completion. About 500 lines, and
// kept whole: the steps are one state machine, read in order.
#include "net/http_connection.hpp"

#include <openssl/bio.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <sys/socket.h>

#include <array>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>

#include "core/json_writer.hpp"

namespace gmsim {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using clock_type = std::chrono::steady_clock;

// A response parser that keeps the status and drops the fields and the body: nothing
// else of the receiver's answer is used, and Beast's response_parser allocated every
// field (eight for nginx's answer) and kept a body type per stream. Framing, keep-alive
// and the header and body limits are the base's.
class status_parser final : public http::basic_parser<false> {
 public:
  // The first bytes of the body of an answer other than 2xx: the summary's causes and the
  // ledger show them ({"error":"storage failed"}). A 2xx body is not kept.
  static constexpr std::size_t excerpt_bytes = 200;

  int status() const { return status_; }
  const std::string& excerpt() const { return excerpt_; }

 private:
  void on_request_impl(http::verb, beast::string_view, beast::string_view, int,
                       error_code&) override {}
  void on_response_impl(int code, beast::string_view, int, error_code&) override { status_ = code; }
  void on_field_impl(http::field, beast::string_view, beast::string_view, error_code&) override {}
  void on_header_impl(error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>&, error_code&) override {}
  std::size_t on_body_impl(beast::string_view body, error_code&) override {
    keep(body);
    return body.size();
  }
  void on_chunk_header_impl(std::uint64_t, beast::string_view, error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, beast::string_view body, error_code&) override {
    keep(body);
    return body.size();
  }
  void on_finish_impl(error_code&) override {}

  void keep(beast::string_view body) {
    if (status_ / 100 == 2 || excerpt_.size() >= excerpt_bytes) return;
    excerpt_.append(body.data(), std::min(body.size(), excerpt_bytes - excerpt_.size()));
  }

  int status_ = 0;
  std::string excerpt_;
};

// What a response may make gmsim hold, whatever the receiver sends: the status line and
// fields are Beast's 8 KiB header limit; a chunk header with its extensions, and the
// trailers, wait whole in the read buffer until their end, so the buffer's bound is
// theirs (an endless chunk extension grew a run to 1.5 GB before it); the body is
// read through and dropped but for max_response_body and an excerpt.
constexpr std::size_t max_buffered_response = 64 * 1024;
// Interim answers (100 Continue, 103 Early Hints) a request may get before its answer:
// a server sends one or two; a flood of them is a fault, not an answer.
constexpr int max_interim_responses = 16;

// A response body's first bytes as one line of valid UTF-8 for a report: control
// characters become spaces, bytes that are not UTF-8 (or a character cut at the end)
// '?', and the auth string, should the receiver echo it, "[redacted]".
std::string shown_excerpt(std::string text, const std::string& auth_string) {
  if (!auth_string.empty()) {
    for (auto at = text.find(auth_string); at != std::string::npos;
         at = text.find(auth_string, at + 10)) {
      text.replace(at, auth_string.size(), "[redacted]");
    }
  }
  std::string out;
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  for (std::size_t i = 0; i < n;) {
    const unsigned char c = p[i];
    if (c < 0x80) {
      out += c < 0x20 || c == 0x7f ? ' ' : static_cast<char>(c);
      ++i;
      continue;
    }
    const std::size_t length = utf8_sequence_length(p + i, n - i);
    if (length > 0) {
      out.append(text, i, length);
      i += length;
    } else {
      out += '?';
      ++i;
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// A request's head and body as one buffer sequence. Not a std::array: asio's writer
// handles that type on its own and, once the head is sent, offers an empty first
// buffer, from which Beast's ssl_stream writes nothing and the write ends after the
// head (a test sends a large body over TLS).
struct head_and_body {
  std::array<asio::const_buffer, 2> parts;
  const asio::const_buffer* begin() const { return parts.data(); }
  const asio::const_buffer* end() const { return parts.data() + parts.size(); }
};

std::string host_field(const target_url& target) {
  std::string host = target.host.find(':') == std::string::npos
                         ? target.host
                         : "[" + target.host + "]";  // IPv6 literal
  const bool default_port = target.port == (target.tls ? "443" : "80");
  return default_port ? host : host + ":" + target.port;
}

bool is_http_error(const error_code& ec) {
  return ec.category() == http::make_error_code(http::error::end_of_stream).category();
}

// RFC 9112 lets a recipient take a status line without its reason phrase (even without
// the space before it) and a bare LF for CRLF; Beast takes neither. When Beast refuses a
// response, its start line is read here: "HTTP/1.x NNN" then a space, CR or LF. The status
// code, or 0 when the bytes are not such a line. What follows the first empty line,
// however it ends, is the body's start.
struct tolerated_response {
  int status = 0;
  std::string_view body;
};
tolerated_response tolerant_status_line(std::string_view bytes) {
  const auto line_end = bytes.find('\n');
  if (line_end == std::string_view::npos || bytes.size() < 12) return {};
  if (bytes.substr(0, 7) != "HTTP/1." || (bytes[7] != '0' && bytes[7] != '1') || bytes[8] != ' ')
    return {};
  int status = 0;
  for (std::size_t i = 9; i < 12; ++i) {
    if (bytes[i] < '0' || bytes[i] > '9') return {};
    status = status * 10 + (bytes[i] - '0');
  }
  if (bytes[12] != ' ' && bytes[12] != '\r' && bytes[12] != '\n') return {};
  tolerated_response response{status, {}};
  for (auto at = line_end; at != std::string_view::npos; at = bytes.find('\n', at + 1)) {
    std::size_t next = at + 1;
    if (next < bytes.size() && bytes[next] == '\r') ++next;
    if (next < bytes.size() && bytes[next] == '\n') {
      response.body = bytes.substr(next + 1);
      break;
    }
  }
  return response;
}

// A failure of this machine, not of the receiver: out of descriptors (`ulimit -n`), of
// local ports, of buffers or memory.
bool is_local_resource(const error_code& ec) {
  return ec == asio::error::no_descriptors ||
         ec == boost::system::errc::too_many_files_open_in_system ||
         ec == asio::error::no_buffer_space || ec == asio::error::no_memory ||
         ec == boost::system::errc::address_not_available;
}

bool is_peer_gone(const error_code& ec) {
  return ec == http::error::end_of_stream || ec == http::error::partial_message ||
         ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::error::connection_aborted || ec == asio::error::broken_pipe ||
         ec == ssl::error::stream_truncated;
}

}  // namespace

std::shared_ptr<ssl::context> make_tls_context(const transport_config& config) {
  auto context = std::make_shared<ssl::context>(ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(context->native_handle(), TLS1_2_VERSION);
  context->set_options(ssl::context::default_workarounds | ssl::context::no_compression);
  if (!config.ca_file.empty()) {
    error_code ec;
    context->load_verify_file(config.ca_file, ec);
    if (ec) {
      throw std::invalid_argument("--ca-file: " + config.ca_file +
                                  ": not a PEM certificate bundle: " + ec.message());
    }
  } else {
    // A missing system store is not fatal here: verification then fails on the first
    // handshake, with a reason that says so.
    error_code ignored;
    context->set_default_verify_paths(ignored);
  }
  context->set_verify_mode(config.insecure ? ssl::verify_none : ssl::verify_peer);
  return context;
}

// One request at a time: start() picks a reusable connection or opens one, then the
// steps run in order; finish() resets the state and calls done, last.
struct http_connection::session : std::enable_shared_from_this<session> {
  enum class phase : std::uint8_t { idle, resolve, connect, handshake, write, read };

  session(asio::io_context& io, const transport_config& config, std::shared_ptr<ssl::context> tls)
      : config_(config),
        tls_context_(std::move(tls)),
        executor_(io.get_executor()),
        resolver_(executor_),
        resolve_timer_(executor_) {
    const target_url& target = config_.target;
    http::fields fields;  // written out once, below
    fields.set(http::field::host, host_field(target));
    fields.set(http::field::content_type, "application/json");
    fields.set(http::field::user_agent, "gmsim/" GMSIM_VERSION);
    if (config_.auth_string.find_first_of("\r\n") != std::string::npos) {
      throw std::invalid_argument("the auth string has a line break");  // never quoted
    }
    if (!config_.auth_string.empty()) {
      fields.set(http::field::authorization, "Basic " + config_.auth_string);
    }
    for (const auto& [name, value] : config_.headers) {
      // Fields are written as given: a line break would smuggle in headers of its own.
      if (name.empty() || name.find_first_of(":\r\n") != std::string::npos ||
          value.find_first_of("\r\n") != std::string::npos) {
        throw std::invalid_argument("header '" + name + "' has a bad name or a line break");
      }
      const http::field field = http::string_to_field(name);
      // Framing is ours: a second length would make the request ambiguous.
      if (field == http::field::content_length || field == http::field::transfer_encoding) {
        continue;
      }
      // A user's Host, Content-Type, User-Agent or Authorization replaces ours; any other
      // name is added, so a repeated header is sent repeated.
      if (field == http::field::host || field == http::field::content_type ||
          field == http::field::user_agent || field == http::field::authorization) {
        fields.set(name, value);
      } else {
        fields.insert(name, value);
      }
    }
    // The request's head is the same every time but for its Content-Length, written
    // last: Beast's serializer rebuilt it, and reallocated that field, for every request.
    head_ = "POST " + target.target + " HTTP/1.1\r\n";
    for (const auto& field : fields) {
      head_.append(field.name_string()).append(": ").append(field.value()).append("\r\n");
    }
    head_ += "Content-Length: ";
    fixed_head_size_ = head_.size();
  }

  void start(std::string_view body, completion done) {
    if (phase_ != phase::idle) {
      asio::post(executor_, [done = std::move(done)] {
        done({outcome_kind::failed, 0, failure_kind::other,
              "a request is already in flight on this connection"});
      });
      return;
    }
    closing_ = false;
    body_ = body;
    done_ = std::move(done);
    if (connection_is_reusable()) {
      do_write();
    } else {
      drop_connection();
      do_resolve();
    }
  }

  // Runs on the io_context's thread. Pending operations complete at once with
  // operation_aborted (a resolve is abandoned through its timer), and their handlers see
  // closing_.
  void close() {
    if (phase_ != phase::idle) closing_ = true;
    resolver_.cancel();
    resolve_timer_.cancel();
    close_socket();
  }

 private:
  // Whether the open connection can carry the next request. Checked before writing, so
  // that a connection the server closed while idle is replaced instead of failing a
  // request that was never sent. Bytes the server sent unasked (a close_notify, a 408)
  // also retire the connection.
  bool connection_is_reusable() {
    if (!has_stream() || !keep_alive_ || !tcp_layer().socket().is_open()) return false;
    if (buffer_.size() != 0) return false;
    if (tls_) {
      SSL* handle = tls_->native_handle();
      if (SSL_pending(handle) > 0 || BIO_ctrl_pending(SSL_get_rbio(handle)) > 0) return false;
    }
    // One non-blocking peek. Asio's non_blocking(true) / (false) around a receive would
    // cost an ioctl each, and clearing the mode makes the next async operation set it
    // again: four system calls per request where one does.
    char byte = 0;
    const auto n = ::recv(tcp_layer().socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }

  void do_resolve() {
    phase_ = phase::resolve;
    connect_deadline_ = clock_type::now() + std::chrono::milliseconds(config_.connect_timeout);
    const std::uint64_t attempt = ++resolve_attempt_;
    // Asio cannot interrupt getaddrinfo, so the timer, not the resolver, bounds a resolve.
    resolve_timer_.expires_at(connect_deadline_);
    resolve_timer_.async_wait(
        beast::bind_front_handler(&session::on_resolve_timer, shared_from_this(), attempt));
    resolver_.async_resolve(
        config_.target.host, config_.target.port,
        beast::bind_front_handler(&session::on_resolve, shared_from_this(), attempt));
  }

  void on_resolve_timer(std::uint64_t attempt, error_code ec) {
    if (attempt != resolve_attempt_ || phase_ != phase::resolve) return;  // resolved already
    if (ec == asio::error::operation_aborted && !closing_) return;
    resolver_.cancel();
    if (closing_) return fail(failure_kind::reset, "connection closed by gmsim while resolving");
    fail(failure_kind::dns, "resolving '" + config_.target.host + "' took longer than " +
                                std::to_string(config_.connect_timeout) + " ms");
  }

  void on_resolve(std::uint64_t attempt, error_code ec, tcp::resolver::results_type results) {
    if (attempt != resolve_attempt_ || phase_ != phase::resolve) return;  // abandoned
    resolve_timer_.cancel();
    if (closing_) return fail(failure_kind::reset, "connection closed by gmsim while resolving");
    if (ec) {
      return fail(failure_kind::dns,
                  "cannot resolve '" + config_.target.host + "': " + ec.message());
    }
    do_connect(results);
  }

  void do_connect(const tcp::resolver::results_type& results) {
    phase_ = phase::connect;
    if (config_.target.tls) {
      tls_.emplace(executor_, *tls_context_);
    } else {
      tcp_.emplace(executor_);
    }
    // The socket first, here: out of descriptors, the range connect below reports only
    // "Operation canceled", and the run would blame the receiver (`other`).
    if (!results.empty()) {
      error_code ec;
      tcp_layer().socket().open(results.begin()->endpoint().protocol(), ec);
      if (ec) {
        return fail(is_local_resource(ec) ? failure_kind::local_resource : failure_kind::other,
                    "opening a socket to " + authority() + ": " + ec.message());
      }
    }
    tcp_layer().expires_at(connect_deadline_);
    tcp_layer().async_connect(results,
                              beast::bind_front_handler(&session::on_connect, shared_from_this()));
  }

  void on_connect(error_code ec, const tcp::endpoint&) {
    if (closing_) return fail(failure_kind::reset, "connection closed by gmsim while connecting");
    if (ec == beast::error::timeout) {
      return fail(failure_kind::connect_timeout,
                  "connecting to " + authority() + " took longer than " +
                      std::to_string(config_.connect_timeout) + " ms");
    }
    if (ec == asio::error::connection_refused) {
      return fail(failure_kind::connect_refused, "connection refused by " + authority());
    }
    // A server that accepts and resets at once: its RST may arrive before the connect
    // completes or just after the request is written. Same server, same kind: `reset`, or
    // for https `tls`, as a reset during the handshake is.
    if (ec == asio::error::connection_reset || ec == asio::error::connection_aborted) {
      return fail(config_.target.tls ? failure_kind::tls : failure_kind::reset,
                  "connection to " + authority() + " reset by the server as it was accepted");
    }
    if (ec) {
      return fail(is_local_resource(ec) ? failure_kind::local_resource : failure_kind::other,
                  "connecting to " + authority() + ": " + ec.message());
    }
    if (tls_) {
      do_handshake();
    } else {
      do_write();
    }
  }

  void do_handshake() {
    phase_ = phase::handshake;
    const std::string& host = config_.target.host;
    error_code not_an_address;
    asio::ip::make_address(host, not_an_address);
    // SNI carries names only (RFC 6066), never address literals.
    if (not_an_address && !SSL_set_tlsext_host_name(tls_->native_handle(), host.c_str())) {
      return fail(failure_kind::tls, "cannot set the TLS server name '" + host + "'");
    }
    name_mismatch_ = false;
    if (!config_.insecure) {
      // The wrapper only remembers why verification failed, for the detail. The stream
      // owns the callback, so `this` outlives it.
      tls_->set_verify_callback([this, check = ssl::host_name_verification(host)](
                                    bool preverified, ssl::verify_context& context) {
        const bool ok = check(preverified, context);
        if (preverified && !ok) name_mismatch_ = true;
        return ok;
      });
    }
    tcp_layer().expires_at(connect_deadline_);
    tls_->async_handshake(ssl::stream_base::client,
                          beast::bind_front_handler(&session::on_handshake, shared_from_this()));
  }

  void on_handshake(error_code ec) {
    if (closing_)
      return fail(failure_kind::reset, "connection closed by gmsim during TLS handshake");
    if (ec == beast::error::timeout) {
      return fail(failure_kind::connect_timeout,
                  "connecting to " + authority() + " (TLS handshake) took longer than " +
                      std::to_string(config_.connect_timeout) + " ms");
    }
    if (ec) {
      return fail(failure_kind::tls,
                  "TLS handshake with " + authority() + " failed: " + tls_reason(ec));
    }
    do_write();
  }

  void do_write() {
    phase_ = phase::write;
    head_.resize(fixed_head_size_);
    char digits[24];
    head_.append(digits, std::to_chars(digits, digits + sizeof digits, body_.size()).ptr);
    head_ += "\r\n\r\n";
    // One deadline from the first byte written to the last byte read, interim answers
    // included.
    request_deadline_ = clock_type::now() + std::chrono::milliseconds(config_.request_timeout);
    interim_responses_ = 0;
    tcp_layer().expires_at(request_deadline_);
    // Everything in each write the socket takes: asio's transfer_all would cut a body
    // into 64 KiB writes, a trip through the scheduler each.
    const auto whole = [](const error_code& ec, std::size_t) -> std::size_t {
      return ec ? 0 : std::numeric_limits<std::size_t>::max();
    };
    with_stream([&](auto& stream) {
      asio::async_write(stream, head_and_body{{asio::buffer(head_), asio::buffer(body_)}}, whole,
                        beast::bind_front_handler(&session::on_write, shared_from_this()));
    });
  }

  // From here on the request may have reached the server: any failure ends it. It is
  // never written again, on this connection or another.
  void on_write(error_code ec, std::size_t) {
    if (closing_) return fail(failure_kind::reset, "connection closed by gmsim while sending");
    if (ec) return fail_exchange(ec, "sending the request");
    do_read();
  }

  void do_read() {
    phase_ = phase::read;
    parser_.emplace();
    parser_->body_limit(static_cast<std::uint64_t>(config_.max_response_body));
    with_stream([this](auto& stream) {
      http::async_read(stream, buffer_, *parser_,
                       beast::bind_front_handler(&session::on_read, shared_from_this()));
    });
  }

  void on_read(error_code ec, std::size_t) {
    if (closing_) return fail(failure_kind::reset, "connection closed by gmsim while reading");
    if (ec) return fail_exchange(ec, "reading the response");
    const int status = parser_->status();
    // Interim answers (100 Continue, 103 Early Hints) precede the real one, within the
    // request's one deadline (read from a buffer, they would never meet the timer) and
    // up to max_interim_responses. 101 would switch protocols, which we never asked for:
    // it ends the request as rejected.
    if (status / 100 == 1 && status != 101) {
      if (clock_type::now() >= request_deadline_) {
        return fail(failure_kind::timeout,
                    "no final response from " + authority() + " within " +
                        std::to_string(config_.request_timeout) + " ms (" +
                        std::to_string(interim_responses_ + 1) + " interim responses)");
      }
      if (++interim_responses_ > max_interim_responses) {
        return fail(failure_kind::malformed_response,
                    "more than " + std::to_string(max_interim_responses) +
                        " interim (1xx) responses from " + authority() + " to one request");
      }
      return do_read();
    }
    keep_alive_ = parser_->keep_alive() && status != 101;
    tcp_layer().expires_never();
    if (!keep_alive_) close_socket();
    if (status / 100 == 2) return finish({outcome_kind::delivered, status, failure_kind::none, ""});
    std::string detail = "status " + std::to_string(status);
    if (!parser_->excerpt().empty()) {
      detail += ": " + shown_excerpt(parser_->excerpt(), config_.auth_string);
    }
    finish({outcome_kind::rejected, status, failure_kind::none, std::move(detail)});
  }

  // A failure after the connection was established, while writing or reading.
  void fail_exchange(const error_code& ec, const std::string& what) {
    if (ec == beast::error::timeout) {
      return fail(failure_kind::timeout, "no complete response from " + authority() + " within " +
                                             std::to_string(config_.request_timeout) + " ms");
    }
    const std::string detail = what + " to " + authority() + ": " + ec.message();
    if (is_peer_gone(ec)) return fail(failure_kind::reset, detail);
    if (ec == http::error::body_limit) {
      return fail(failure_kind::malformed_response,
                  "response body from " + authority() + " is over the " +
                      std::to_string(config_.max_response_body) + "-byte limit");
    }
    if (ec == http::error::buffer_overflow || ec == http::error::header_limit) {
      return fail(failure_kind::malformed_response,
                  "response from " + authority() +
                      (ec == http::error::header_limit
                           ? " has a status line and header over the 8192-byte limit"
                           : " has a chunk header or trailers over the " +
                                 std::to_string(max_buffered_response) + "-byte limit"));
    }
    if (is_http_error(ec)) {
      if (phase_ == phase::read && tolerate(ec)) return;
      return fail(failure_kind::malformed_response, detail);
    }
    if (ec.category() == asio::error::get_ssl_category()) return fail(failure_kind::tls, detail);
    fail(is_local_resource(ec) ? failure_kind::local_resource : failure_kind::other, detail);
  }

  // A final answer that Beast refused for its start line or its line ends (the tolerant
  // forms of RFC 9112) is the answer its status says. Where it ends is not known: the
  // connection closes after it.
  bool tolerate(const error_code& ec) {
    // Only errors of the start line: Beast consumes nothing of a response before its
    // header is whole, so the buffer starts with the status line. After a bad field it
    // starts at that field, and a stray "HTTP/1.1 200 OK" header would read as the status.
    if (ec != http::error::bad_reason && ec != http::error::bad_status) return false;
    const auto data = buffer_.cdata();
    const tolerated_response response =
        tolerant_status_line(std::string_view(static_cast<const char*>(data.data()), data.size()));
    if (response.status < 200) return false;
    keep_alive_ = false;
    close_socket();
    if (response.status / 100 == 2) {
      finish({outcome_kind::delivered, response.status, failure_kind::none, ""});
      return true;
    }
    std::string detail = "status " + std::to_string(response.status);
    const auto excerpt = response.body.substr(0, status_parser::excerpt_bytes);
    if (!excerpt.empty()) {
      detail += ": " + shown_excerpt(std::string(excerpt), config_.auth_string);
    }
    finish({outcome_kind::rejected, response.status, failure_kind::none, std::move(detail)});
    return true;
  }

  std::string tls_reason(const error_code& ec) {
    std::string reason = ec.message();
    if (ec.category() != asio::error::get_ssl_category()) return reason;
    if (name_mismatch_)
      return reason + ": the certificate does not match '" + config_.target.host + "'";
    const long verify = SSL_get_verify_result(tls_->native_handle());
    if (verify != X509_V_OK) reason += std::string(": ") + X509_verify_cert_error_string(verify);
    return reason;
  }

  void fail(failure_kind kind, std::string detail) {
    // The body went out whole and no answer came: the receiver may have stored the rows.
    const bool unacknowledged =
        phase_ == phase::read && (kind == failure_kind::timeout || kind == failure_kind::reset);
    close_socket();
    finish({unacknowledged ? outcome_kind::unacknowledged : outcome_kind::failed, 0, kind,
            std::move(detail)});
  }

  // Leaves the session ready for the next send before done runs: done may call send.
  void finish(request_outcome outcome) {
    phase_ = phase::idle;
    closing_ = false;
    body_ = {};
    parser_.reset();
    completion done = std::move(done_);
    done_ = nullptr;
    done(outcome);
  }

  template <class F>
  void with_stream(F&& f) {
    if (tls_) {
      f(*tls_);
    } else {
      f(*tcp_);
    }
  }
  bool has_stream() const { return tls_.has_value() || tcp_.has_value(); }
  beast::tcp_stream& tcp_layer() { return tls_ ? beast::get_lowest_layer(*tls_) : *tcp_; }
  // host:port for details; never the target, whose query might carry a token.
  std::string authority() const {
    const target_url& target = config_.target;
    const bool literal_v6 = target.host.find(':') != std::string::npos;
    return (literal_v6 ? "[" + target.host + "]" : target.host) + ":" + target.port;
  }

  // Closing is enough to end pending operations; the stream objects are replaced only
  // in start(), when none is pending.
  void close_socket() {
    if (has_stream()) tcp_layer().close();
    keep_alive_ = false;
  }
  void drop_connection() {
    close_socket();
    tls_.reset();
    tcp_.reset();
    buffer_.clear();
  }

 public:
  const transport_config config_;  // a copy: pending handlers may outlive the owner's
  std::shared_ptr<ssl::context> tls_context_;
  asio::io_context::executor_type executor_;

 private:
  tcp::resolver resolver_;
  asio::steady_timer resolve_timer_;
  std::optional<beast::tcp_stream> tcp_;                     // http://
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls_;  // https://
  beast::flat_buffer buffer_{max_buffered_response};
  std::string head_;  // the request line and fields, then Content-Length: N and a blank line
  std::size_t fixed_head_size_ = 0;  // up to "Content-Length: "
  std::optional<status_parser> parser_;

  phase phase_ = phase::idle;
  bool closing_ = false;        // close() was called during this request
  bool keep_alive_ = false;     // the last response allows another request
  bool name_mismatch_ = false;  // the handshake failed on the host name
  std::uint64_t resolve_attempt_ = 0;
  clock_type::time_point connect_deadline_;
  clock_type::time_point request_deadline_;  // from the write to the final answer
  int interim_responses_ = 0;                // 1xx answers to this request so far
  std::string_view body_;
  completion done_;
};

http_connection::http_connection(asio::io_context& io, const transport_config& config,
                                 std::shared_ptr<ssl::context> tls) {
  if (config.target.tls && !tls) tls = make_tls_context(config);
  session_ = std::make_shared<session>(io, config, std::move(tls));
}

http_connection::~http_connection() { close(); }

void http_connection::send(std::string_view body, completion done) {
  asio::dispatch(session_->executor_, [session = session_, body, done = std::move(done)]() mutable {
    session->start(body, std::move(done));
  });
}

void http_connection::close() {
  asio::dispatch(session_->executor_, [session = session_] { session->close(); });
}

request_outcome post_once(const transport_config& config, std::string_view body) {
  boost::asio::io_context io;
  request_outcome result;
  http_connection connection(io, config, nullptr);
  connection.send(body, [&](const request_outcome& outcome) {
    result = outcome;
    io.stop();  // a kept-alive connection would keep the io_context running
  });
  io.run();
  return result;
}

}  // namespace gmsim
