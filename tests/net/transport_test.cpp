// transport: parse_target, and http_connection against small servers on 127.0.0.1
// that run as coroutines on the test's own io_context. Every wait has a deadline.

// gmsim_core compiles Asio with this (privately); Asio's inline code differs with it, so
// a file that mixes with it must agree, or the linker keeps one TU's copy of functions
// such as basic_socket::close and the other TU's objects are read with the wrong layout
// (AddressSanitizer found it).
#ifndef BOOST_ASIO_NO_DEPRECATED
#define BOOST_ASIO_NO_DEPRECATED
#endif
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "net/http_connection.hpp"
#include "test_certificate.hpp"
#include "test_support.hpp"

namespace gmsim {
namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using namespace std::chrono_literals;

constexpr auto test_deadline = 10s;  // no test waits longer for anything

// ---------------------------------------------------------------------------------
// parse_target

TEST(transport_parse_target, http_with_port_path_and_query) {
  const target_url url = parse_target("http://127.0.0.1:8080/hooks/gmetri?token=a%20b#frag");
  EXPECT_FALSE(url.tls);
  EXPECT_EQ(url.host, "127.0.0.1");
  EXPECT_EQ(url.port, "8080");
  EXPECT_EQ(url.target, "/hooks/gmetri?token=a%20b");
  EXPECT_EQ(url.text, "http://127.0.0.1:8080/hooks/gmetri?token=a%20b#frag");
}

TEST(transport_parse_target, default_ports_and_root_target) {
  const target_url http = parse_target("http://example.com");
  EXPECT_EQ(http.port, "80");
  EXPECT_EQ(http.target, "/");
  const target_url https = parse_target("HTTPS://Example.com:/?");
  EXPECT_TRUE(https.tls);
  EXPECT_EQ(https.port, "443");
  EXPECT_EQ(https.target, "/?");
}

TEST(transport_parse_target, ipv6_host_without_brackets) {
  const target_url url = parse_target("https://[::1]:8443/x");
  EXPECT_EQ(url.host, "::1");
  EXPECT_EQ(url.port, "8443");
}

std::string parse_error(std::string_view text) {
  try {
    parse_target(text);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

TEST(transport_parse_target, refuses_bad_urls_with_a_reason) {
  EXPECT_NE(parse_error("ftp://example.com/").find("unsupported scheme 'ftp'"), std::string::npos);
  EXPECT_NE(parse_error("example.com/hook").find("not a valid absolute URL"), std::string::npos);
  EXPECT_NE(parse_error("http://exa mple.com/").find("not a valid absolute URL"),
            std::string::npos);
  EXPECT_NE(parse_error("http:///hook").find("no host"), std::string::npos);
  EXPECT_NE(parse_error("http:/hook").find("no host"), std::string::npos);
  EXPECT_NE(parse_error("http://example.com:99999/").find("out of range"), std::string::npos);
  EXPECT_NE(parse_error("http://example.com:0/").find("out of range"), std::string::npos);
  EXPECT_EQ(parse_error("http://example.com:8080/"), "");
}

// Issue 20: a port that is not all digits went elsewhere, Authorization and all:
// ":8O8O" to port 8, ":S3cr3t" to port 80. Refused, without quoting it.
TEST(transport_parse_target, refuses_a_port_that_is_not_a_number_without_echoing_it) {
  for (const char* url : {"http://127.0.0.1:8O8O/hook", "http://127.0.0.1:S3cr3t/hook",
                          "https://example.com:443x/", "http://[::1]:80a/", "http://h:+80/"}) {
    const std::string reason = parse_error(url);
    EXPECT_NE(reason.find("the port is not a number"), std::string::npos) << url << ": " << reason;
    EXPECT_EQ(reason.find("S3cr3t"), std::string::npos);
  }
  EXPECT_EQ(parse_target("http://[::1]:8080/").port, "8080");
  EXPECT_EQ(parse_target("http://example.com:/hook").port, "80");  // an empty port: the default
}

TEST(transport_parse_target, refuses_credentials_without_echoing_them) {
  const std::string reason = parse_error("https://user:hunter2@example.com/");
  EXPECT_NE(reason.find("--auth-string"), std::string::npos);
  EXPECT_EQ(reason.find("hunter2"), std::string::npos);
}

TEST(transport_to_string, names_every_kind) {
  EXPECT_EQ(to_string(outcome_kind::delivered), "delivered");
  EXPECT_EQ(to_string(outcome_kind::unsent), "unsent");
  EXPECT_EQ(to_string(failure_kind::connect_refused), "connect_refused");
  EXPECT_EQ(to_string(failure_kind::malformed_response), "malformed_response");
  std::vector<std::string_view> names;
  for (int i = 0; i < failure_kind_count; ++i) {
    names.push_back(to_string(static_cast<failure_kind>(i)));
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(std::unique(names.begin(), names.end()), names.end());
  EXPECT_EQ(std::count(names.begin(), names.end(), "unknown"), 0);
}

// ---------------------------------------------------------------------------------
// Test servers

// What the server does with one request it has read.
struct reply {
  enum class then { keep, close, reset, hang };
  std::string bytes;  // written as they are
  then after = then::keep;
};
using responder = std::function<reply(std::size_t request_index)>;

std::string http_response(int status, std::string_view headers = "", std::string_view body = "ok") {
  return "HTTP/1.1 " + std::to_string(status) + " Whatever\r\n" + std::string(headers) +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
}

responder always(reply r) {
  return [r](std::size_t) { return r; };
}

// Shared with the coroutines, so that nothing they touch dies before the io_context.
struct server_state {
  explicit server_state(asio::io_context& io)
      : acceptor(io, {asio::ip::address_v4::loopback(), 0}) {}
  tcp::acceptor acceptor;
  std::shared_ptr<ssl::context> tls;  // serve TLS when set
  responder respond;
  std::size_t connections = 0;        // accepted
  std::vector<std::string> requests;  // every request as received, head and body
  std::string port() const { return std::to_string(acceptor.local_endpoint().port()); }
  std::size_t count(std::string_view needle) const {
    return std::count_if(requests.begin(), requests.end(), [&](const std::string& request) {
      return request.find(needle) != std::string::npos;
    });
  }
};

std::size_t content_length(std::string head) {
  std::transform(head.begin(), head.end(), head.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  const auto at = head.find("\r\ncontent-length:");
  return at == std::string::npos ? 0 : std::stoul(head.substr(at + 17));
}

template <class Stream>
asio::awaitable<std::optional<std::string>> read_request(Stream& stream, std::string& buffer) {
  error_code ec;
  const std::size_t head =
      co_await asio::async_read_until(stream, asio::dynamic_buffer(buffer), "\r\n\r\n",
                                      asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return std::nullopt;
  const std::size_t total = head + content_length(buffer.substr(0, head));
  if (buffer.size() < total) {
    co_await asio::async_read(stream, asio::dynamic_buffer(buffer),
                              asio::transfer_exactly(total - buffer.size()),
                              asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return std::nullopt;
  }
  std::string request = buffer.substr(0, total);
  buffer.erase(0, total);
  co_return request;
}

template <class Stream>
asio::awaitable<void> serve(Stream& stream, std::shared_ptr<server_state> state) {
  std::string buffer;
  for (;;) {
    std::optional<std::string> request = co_await read_request(stream, buffer);
    if (!request) co_return;
    state->requests.push_back(*request);
    const reply r = state->respond(state->requests.size() - 1);
    error_code ec;
    if (!r.bytes.empty()) {
      co_await asio::async_write(stream, asio::buffer(r.bytes),
                                 asio::redirect_error(asio::use_awaitable, ec));
    }
    auto& socket = stream.lowest_layer();
    switch (r.after) {
      case reply::then::keep:
        break;
      case reply::then::close:
        socket.close(ec);
        co_return;
      case reply::then::reset:
        socket.set_option(asio::socket_base::linger(true, 0), ec);
        socket.close(ec);
        co_return;
      case reply::then::hang:
        co_await read_request(stream, buffer);  // returns when the client goes away
        co_return;
    }
  }
}

asio::awaitable<void> serve_connection(tcp::socket socket, std::shared_ptr<server_state> state) {
  if (!state->tls) {
    co_await serve(socket, state);
    co_return;
  }
  ssl::stream<tcp::socket> stream(std::move(socket), *state->tls);
  error_code ec;
  co_await stream.async_handshake(ssl::stream_base::server,
                                  asio::redirect_error(asio::use_awaitable, ec));
  if (!ec) co_await serve(stream, state);
}

asio::awaitable<void> accept_loop(std::shared_ptr<server_state> state) {
  for (;;) {
    error_code ec;
    tcp::socket socket =
        co_await state->acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    ++state->connections;
    asio::co_spawn(state->acceptor.get_executor(), serve_connection(std::move(socket), state),
                   asio::detached);
  }
}

std::shared_ptr<server_state> start_server(asio::io_context& io, responder respond,
                                           std::shared_ptr<ssl::context> tls = nullptr) {
  auto state = std::make_shared<server_state>(io);
  state->respond = std::move(respond);
  state->tls = std::move(tls);
  asio::co_spawn(io, accept_loop(state), asio::detached);
  return state;
}

// ---------------------------------------------------------------------------------
// Driving the client

template <class Predicate>
bool run_until(asio::io_context& io, Predicate done) {
  const auto deadline = std::chrono::steady_clock::now() + test_deadline;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    if (io.stopped()) io.restart();
    io.run_one_until(deadline);
  }
  return true;
}

// Lets the servers act on whatever is still in flight, so that a duplicate request
// would be counted before the test looks.
void settle(asio::io_context& io) {
  io.restart();
  io.run_for(50ms);
}

request_outcome send_and_wait(asio::io_context& io, http_connection& connection,
                              std::string_view body) {
  std::optional<request_outcome> outcome;
  int calls = 0;
  connection.send(body, [&](const request_outcome& o) {
    ++calls;
    outcome = o;
  });
  if (!run_until(io, [&] { return outcome.has_value(); })) {
    return {outcome_kind::unsent, 0, failure_kind::none, "the test timed out"};
  }
  settle(io);
  EXPECT_EQ(calls, 1);
  return *outcome;
}

transport_config config_for(const std::string& url) {
  transport_config config;
  config.target = parse_target(url);
  config.connect_timeout = 5'000;
  config.request_timeout = 5'000;
  return config;
}

std::string url_of(const server_state& server, std::string_view path = "/hook") {
  return "http://127.0.0.1:" + server.port() + std::string(path);
}

// Evaluates `outcome` once: it is often a send.
#define EXPECT_OUTCOME(outcome, kind_name, expected_status, error_name) \
  do {                                                                  \
    const request_outcome& checked = (outcome);                         \
    EXPECT_EQ(to_string(checked.kind), kind_name) << checked.detail;    \
    EXPECT_EQ(checked.status, expected_status) << checked.detail;       \
    EXPECT_EQ(to_string(checked.error), error_name) << checked.detail;  \
  } while (false)

const std::string auth = "s3cr3t-auth-string-0123456789";

// ---------------------------------------------------------------------------------
// HTTP

TEST(transport_http, delivers_and_sends_exactly_the_expected_bytes) {
  asio::io_context io;
  auto server = start_server(io, always({http_response(200)}));
  transport_config config = config_for(url_of(*server, "/hook/in?x=1&y=%2F"));
  config.auth_string = auth;
  config.headers = {{"X-Trace", "a"}, {"X-Env", "staging"}, {"X-Trace", "b"}};
  http_connection connection(io, config, nullptr);
  const std::string body = R"({"type":"variables","data":{"rows":[]}})";

  const request_outcome outcome = send_and_wait(io, connection, body);

  EXPECT_OUTCOME(outcome, "delivered", 200, "none");
  ASSERT_EQ(server->requests.size(), 1u);
  // clang-format off
  const std::string expected =
      "POST /hook/in?x=1&y=%2F HTTP/1.1\r\n"
      "Host: 127.0.0.1:" + server->port() + "\r\n"
      "Content-Type: application/json\r\n"
      "User-Agent: gmsim/" GMSIM_VERSION "\r\n"
      "Authorization: Basic " + auth + "\r\n"
      "X-Trace: a\r\n"
      "X-Trace: b\r\n"  // Beast keeps same-name fields together, in order
      "X-Env: staging\r\n"
      "Content-Length: " + std::to_string(body.size()) + "\r\n"
      "\r\n" + body;
  // clang-format on
  EXPECT_EQ(server->requests[0], expected);
  EXPECT_EQ(server->connections, 1u);
}

// Issue 20: out of descriptors, a request failed as "other" (x1000 under `ulimit -n 64`)
// with nothing saying that gmsim, not the receiver, had failed.
TEST(transport_http, a_local_resource_failure_is_its_own_kind_and_says_why) {
  // No free descriptor is what this test makes, and UBSan's vptr check needs two (a pipe).
  if (testing::built_with_address_sanitizer)
    GTEST_SKIP() << "needs descriptors the sanitizers take";
  asio::io_context io;
  auto server = start_server(io, always({http_response(200)}));
  http_connection connection(io, config_for(url_of(*server)), nullptr);
  rlimit saved{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &saved), 0);
  // The limit at the lowest free descriptor (dup takes it): the connect's socket() fails,
  // EMFILE, since a new descriptor takes the lowest free number and must be under the limit.
  const int lowest_free = ::dup(0);
  ASSERT_GE(lowest_free, 0);
  ::close(lowest_free);
  rlimit lowered = saved;
  lowered.rlim_cur = static_cast<rlim_t>(lowest_free);
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &lowered), 0);
  const request_outcome outcome = send_and_wait(io, connection, "{}");
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &saved), 0);
  EXPECT_OUTCOME(outcome, "failed", 0, "local_resource");
  EXPECT_NE(outcome.detail.find("Too many open files"), std::string::npos) << outcome.detail;
}

TEST(transport_http, user_headers_replace_ours_and_framing_stays_ours) {
  asio::io_context io;
  auto server = start_server(io, always({http_response(204, "", "")}));
  transport_config config = config_for(url_of(*server));
  config.headers = {
      {"user-agent", "receiver-test"}, {"Content-Length", "1"}, {"Transfer-Encoding", "chunked"}};
  http_connection connection(io, config, nullptr);

  EXPECT_OUTCOME(send_and_wait(io, connection, "{}"), "delivered", 204, "none");
  ASSERT_EQ(server->requests.size(), 1u);
  const std::string& request = server->requests[0];
  EXPECT_NE(request.find("\r\nuser-agent: receiver-test\r\n"), std::string::npos);
  EXPECT_EQ(request.find("gmsim/"), std::string::npos);
  EXPECT_EQ(request.find("Transfer-Encoding"), std::string::npos);
  EXPECT_EQ(request.find("Authorization"), std::string::npos);  // no auth string given
  EXPECT_NE(request.find("\r\nContent-Length: 2\r\n\r\n{}"), std::string::npos);
}

TEST(transport_http, refuses_line_breaks_in_headers_without_quoting_secrets) {
  asio::io_context io;
  transport_config config = config_for("http://127.0.0.1:9/");
  config.headers = {{"X-Evil", "a\r\nX-Injected: 1"}};
  EXPECT_THROW(http_connection(io, config, nullptr), std::invalid_argument);
  config.headers = {};
  config.auth_string = "secret\r\nX-Injected: 1";
  try {
    http_connection connection(io, config, nullptr);
    ADD_FAILURE() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()).find("secret"), std::string::npos);
  }
}

TEST(transport_http, keeps_the_connection_alive_between_requests) {
  asio::io_context io;
  // A chunked body first: it must be read whole (and dropped) for the reuse to work.
  auto server = start_server(io, [](std::size_t i) -> reply {
    if (i == 0) {
      return {
          "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
          "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"};
    }
    return {http_response(200)};
  });
  http_connection connection(io, config_for(url_of(*server)), nullptr);

  EXPECT_OUTCOME(send_and_wait(io, connection, "first"), "delivered", 200, "none");
  EXPECT_OUTCOME(send_and_wait(io, connection, "second"), "delivered", 200, "none");
  EXPECT_EQ(server->connections, 1u);
  EXPECT_EQ(server->requests.size(), 2u);
}

// The head is written once per connection and only its length changes: a length with
// fewer digits must not leave the old one's tail, and a body larger than a socket
// write goes out whole.
TEST(transport_http, each_request_on_a_connection_has_its_own_length_and_whole_body) {
  asio::io_context io;
  auto server = start_server(io, always({http_response(200)}));
  http_connection connection(io, config_for(url_of(*server)), nullptr);
  std::string large(200'000, 'x');
  for (std::size_t i = 0; i < large.size(); i += 97) large[i] = static_cast<char>('a' + i % 26);
  const std::vector<std::string> bodies = {large, "{}", std::string(100, 'y')};
  for (const auto& body : bodies) {
    EXPECT_OUTCOME(send_and_wait(io, connection, body), "delivered", 200, "none");
  }
  EXPECT_EQ(server->connections, 1u);
  ASSERT_EQ(server->requests.size(), bodies.size());
  for (std::size_t i = 0; i < bodies.size(); ++i) {
    const std::string& request = server->requests[i];
    const std::string ending =
        "\r\nContent-Length: " + std::to_string(bodies[i].size()) + "\r\n\r\n" + bodies[i];
    ASSERT_GE(request.size(), ending.size());
    EXPECT_EQ(request.substr(request.size() - ending.size()), ending) << "request " << i;
    EXPECT_EQ(request.find("Content-Length"), request.rfind("Content-Length")) << "request " << i;
  }
}

TEST(transport_http, reconnects_after_connection_close) {
  asio::io_context io;
  auto server =
      start_server(io, always({http_response(200, "Connection: close\r\n"), reply::then::close}));
  http_connection connection(io, config_for(url_of(*server)), nullptr);

  EXPECT_OUTCOME(send_and_wait(io, connection, "first"), "delivered", 200, "none");
  EXPECT_OUTCOME(send_and_wait(io, connection, "second"), "delivered", 200, "none");
  EXPECT_EQ(server->connections, 2u);
  ASSERT_EQ(server->requests.size(), 2u);
  EXPECT_EQ(server->count("\r\n\r\nfirst"), 1u);
  EXPECT_EQ(server->count("\r\n\r\nsecond"), 1u);
}

TEST(transport_http, replaces_an_idle_connection_the_server_closed) {
  asio::io_context io;
  // Says nothing about closing, then closes: only the pre-write check can tell.
  auto server = start_server(io, always({http_response(200), reply::then::close}));
  http_connection connection(io, config_for(url_of(*server)), nullptr);

  EXPECT_OUTCOME(send_and_wait(io, connection, "first"), "delivered", 200, "none");
  settle(io);  // the server's FIN is in before the next send
  EXPECT_OUTCOME(send_and_wait(io, connection, "second"), "delivered", 200, "none");
  EXPECT_EQ(server->connections, 2u);
  ASSERT_EQ(server->requests.size(), 2u);
  EXPECT_EQ(server->count("\r\n\r\nfirst"), 1u);
  EXPECT_EQ(server->count("\r\n\r\nsecond"), 1u);
}

TEST(transport_http, replaces_a_connection_with_unrequested_bytes) {
  asio::io_context io;
  // A 200 followed by a stray 408, as a server does when it times out an idle client.
  auto server = start_server(io, [](std::size_t i) -> reply {
    if (i == 0) return {http_response(200) + http_response(408, "Connection: close\r\n")};
    return {http_response(200)};
  });
  http_connection connection(io, config_for(url_of(*server)), nullptr);

  EXPECT_OUTCOME(send_and_wait(io, connection, "first"), "delivered", 200, "none");
  EXPECT_OUTCOME(send_and_wait(io, connection, "second"), "delivered", 200, "none");
  EXPECT_EQ(server->connections, 2u);
  EXPECT_EQ(server->requests.size(), 2u);
}

TEST(transport_http, other_statuses_are_rejected) {
  asio::io_context io;
  auto server = start_server(io, always({http_response(500)}));
  http_connection connection(io, config_for(url_of(*server)), nullptr);

  EXPECT_OUTCOME(send_and_wait(io, connection, "{}"), "rejected", 500, "none");
  EXPECT_EQ(server->requests.size(), 1u);
  // The connection stays usable after a rejection.
  EXPECT_OUTCOME(send_and_wait(io, connection, "{}"), "rejected", 500, "none");
  EXPECT_EQ(server->connections, 1u);
}

// Issue 18: a rejection says why, with the first bytes of the answer's body, made safe
// for a report: one line, valid UTF-8, never the auth string, at most 200 bytes of body.
TEST(transport_http, a_rejection_keeps_the_first_bytes_of_the_body_safely) {
  const std::string auth = "s3cret-auth-0123";
  const std::string long_tail(1000, 'x');
  const std::pair<std::string, std::string> cases[] = {
      {"{\"error\":\"storage failed\"}", "status 500: {\"error\":\"storage failed\"}"},
      {"line one\r\nline two\t!", "status 500: line one  line two !"},
      {"bad \xff\xfe utf8 \xe2\x82\xac ok \xe2\x82", "status 500: bad ?? utf8 \xe2\x82\xac ok ??"},
      {"you sent Basic " + auth + " and it is wrong",
       "status 500: you sent Basic [redacted] and it is wrong"},
      {"", "status 500"},
  };
  for (const auto& [body, detail] : cases) {
    asio::io_context io;
    auto server = start_server(io, always({http_response(500, "", body)}));
    transport_config config = config_for(url_of(*server));
    config.auth_string = auth;
    http_connection connection(io, config, nullptr);
    const request_outcome outcome = send_and_wait(io, connection, "{}");
    EXPECT_OUTCOME(outcome, "rejected", 500, "none");
    EXPECT_EQ(outcome.detail, detail);
  }
  asio::io_context io;
  auto server = start_server(io, always({http_response(503, "", "e" + long_tail)}));
  http_connection connection(io, config_for(url_of(*server)), nullptr);
  const request_outcome outcome = send_and_wait(io, connection, "{}");
  EXPECT_EQ(outcome.detail, "status 503: e" + std::string(199, 'x'));
  // A 2xx body is never kept.
  asio::io_context io2;
  auto ok = start_server(io2, always({http_response(200, "", "fine")}));
  http_connection delivered(io2, config_for(url_of(*ok)), nullptr);
  EXPECT_EQ(send_and_wait(io2, delivered, "{}").detail, "");
}

TEST(transport_http, redirects_are_rejected_not_followed) {
  asio::io_context io;
  auto server = start_server(io, always({http_response(302, "Location: /elsewhere\r\n")}));
  http_connection connection(io, config_for(url_of(*server)), nullptr);

  EXPECT_OUTCOME(send_and_wait(io, connection, "{}"), "rejected", 302, "none");
  ASSERT_EQ(server->requests.size(), 1u);
  EXPECT_EQ(server->count("/elsewhere"), 0u);
}

TEST(transport_http, interim_100_continue_is_skipped) {
  asio::io_context io;
  auto server = start_server(io, always({"HTTP/1.1 100 Continue\r\n\r\n" + http_response(200)}));
  http_connection connection(io, config_for(url_of(*server)), nullptr);

  EXPECT_OUTCOME(send_and_wait(io, connection, "{}"), "delivered", 200, "none");
  EXPECT_OUTCOME(send_and_wait(io, connection, "{}"), "delivered", 200, "none");
  EXPECT_EQ(server->requests.size(), 2u);
  EXPECT_EQ(server->connections, 1u);
}

TEST(transport_http, closed_port_is_connect_refused) {
  asio::io_context io;
  std::string port;
  {
    tcp::acceptor probe(io, {asio::ip::address_v4::loopback(), 0});
    port = std::to_string(probe.local_endpoint().port());
  }
  transport_config config = config_for("http://127.0.0.1:" + port + "/");
  config.auth_string = auth;
  http_connection connection(io, config, nullptr);

  const request_outcome outcome = send_and_wait(io, connection, "{}");
  EXPECT_OUTCOME(outcome, "failed", 0, "connect_refused");
  EXPECT_NE(outcome.detail.find("127.0.0.1:" + port), std::string::npos);
  EXPECT_EQ(outcome.detail.find(auth), std::string::npos);
}

TEST(transport_http, unresolvable_host_is_dns) {
  asio::io_context io;
  http_connection connection(io, config_for("http://localhost.invalid:8080/"), nullptr);
  const request_outcome outcome = send_and_wait(io, connection, "{}");
  EXPECT_OUTCOME(outcome, "failed", 0, "dns");
  EXPECT_NE(outcome.detail.find("localhost.invalid"), std::string::npos);
}

TEST(transport_http, silent_server_is_timeout) {
  asio::io_context io;
  auto server = start_server(io, always({"", reply::then::hang}));
  transport_config config = config_for(url_of(*server));
  config.request_timeout = 300;
  http_connection connection(io, config, nullptr);

  // The body went out whole: the receiver may have stored it (issue 18).
  EXPECT_OUTCOME(send_and_wait(io, connection, "{}"), "unacknowledged", 0, "timeout");
  EXPECT_EQ(server->requests.size(), 1u);
}

TEST(transport_http, server_closing_mid_request_is_reset) {
  for (const reply::then after : {reply::then::close, reply::then::reset}) {
    asio::io_context io;
    auto server = start_server(io, always({"", after}));
    http_connection connection(io, config_for(url_of(*server)), nullptr);

    EXPECT_OUTCOME(send_and_wait(io, connection, "{}"), "unacknowledged", 0, "reset");
    EXPECT_EQ(server->requests.size(), 1u);
    EXPECT_EQ(server->connections, 1u);
  }
}

TEST(transport_http, closing_after_a_partial_response_is_reset) {
  asio::io_context io;
  auto server = start_server(
      io, always({"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", reply::then::close}));
  http_connection connection(io, config_for(url_of(*server)), nullptr);

  EXPECT_OUTCOME(send_and_wait(io, connection, "{}"), "unacknowledged", 0, "reset");
  EXPECT_EQ(server->requests.size(), 1u);
}

TEST(transport_http, garbage_status_line_is_malformed) {
  asio::io_context io;
  auto server = start_server(io, always({"HELLO THERE\r\n\r\n"}));
  http_connection connection(io, config_for(url_of(*server)), nullptr);

  EXPECT_OUTCOME(send_and_wait(io, connection, "{}"), "failed", 0, "malformed_response");
  EXPECT_EQ(server->requests.size(), 1u);
}

TEST(transport_http, body_over_the_cap_is_malformed) {
  const std::string chunk = "400\r\n" + std::string(0x400, 'x') + "\r\n";
  const std::vector<std::string> answers = {
      "HTTP/1.1 200 OK\r\nContent-Length: 100000000\r\n\r\n" + std::string(4096, 'x'),
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk + chunk + chunk};
  for (const std::string& answer : answers) {
    asio::io_context io;
    auto server = start_server(io, always({answer}));
    transport_config config = config_for(url_of(*server));
    config.max_response_body = 2048;
    http_connection connection(io, config, nullptr);

    const request_outcome outcome = send_and_wait(io, connection, "{}");
    EXPECT_OUTCOME(outcome, "failed", 0, "malformed_response");
    EXPECT_NE(outcome.detail.find("2048-byte limit"), std::string::npos) << outcome.detail;
    EXPECT_EQ(server->requests.size(), 1u);
  }
}

TEST(transport_http, close_ends_a_request_in_flight_as_reset) {
  asio::io_context io;
  auto server = start_server(io, always({"", reply::then::hang}));
  transport_config config = config_for(url_of(*server));
  config.request_timeout = 60'000;  // far beyond the test's deadline
  http_connection connection(io, config, nullptr);

  std::optional<request_outcome> outcome;
  int calls = 0;
  connection.send("{}", [&](const request_outcome& o) {
    ++calls;
    outcome = o;
  });
  ASSERT_TRUE(run_until(io, [&] { return server->requests.size() == 1; }));
  connection.close();
  ASSERT_TRUE(run_until(io, [&] { return outcome.has_value(); }));
  settle(io);
  EXPECT_EQ(calls, 1);
  EXPECT_OUTCOME(*outcome, "unacknowledged", 0, "reset");
  EXPECT_EQ(server->requests.size(), 1u);
}

TEST(transport_http, a_second_send_while_busy_fails_without_disturbing_the_first) {
  asio::io_context io;
  auto server = start_server(io, always({http_response(200)}));
  http_connection connection(io, config_for(url_of(*server)), nullptr);

  std::vector<request_outcome> outcomes;
  connection.send("first", [&](const request_outcome& o) { outcomes.push_back(o); });
  connection.send("second", [&](const request_outcome& o) { outcomes.push_back(o); });
  ASSERT_TRUE(run_until(io, [&] { return outcomes.size() == 2; }));
  settle(io);
  ASSERT_EQ(outcomes.size(), 2u);
  EXPECT_OUTCOME(outcomes[0], "failed", 0, "other");  // the busy one ends first
  EXPECT_OUTCOME(outcomes[1], "delivered", 200, "none");
  ASSERT_EQ(server->requests.size(), 1u);
  EXPECT_EQ(server->count("\r\n\r\nfirst"), 1u);
}

// ---------------------------------------------------------------------------------
// HTTPS

using testing::make_certificate;
using testing::test_certificate;

std::shared_ptr<ssl::context> server_context(const test_certificate& certificate) {
  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  context->use_certificate_chain(asio::buffer(certificate.cert_pem));
  context->use_private_key(asio::buffer(certificate.key_pem), ssl::context::pem);
  return context;
}

class transport_https : public ::testing::Test {
 protected:
  void SetUp() override {
    certificate_ = make_certificate("DNS:localhost,IP:127.0.0.1");
    ca_file_ = write_file("ca.pem", certificate_.cert_pem);
  }
  void TearDown() override {
    for (const auto& path : files_) std::filesystem::remove(path);
  }
  std::string write_file(const std::string& name, const std::string& text) {
    const auto path = std::filesystem::temp_directory_path() /
                      ("gmsim_transport_test_" + std::to_string(::getpid()) + "_" + name);
    std::ofstream(path) << text;
    files_.push_back(path);
    return path.string();
  }
  // One request to a TLS server; returns the outcome and checks the server saw `sent`.
  request_outcome send_once(const std::string& host, const test_certificate& certificate,
                            transport_config config_overrides, std::size_t sent) {
    asio::io_context io;
    auto server = start_server(io, always({http_response(200)}), server_context(certificate));
    transport_config config = config_for("https://" + host + ":" + server->port() + "/hook");
    config.ca_file = config_overrides.ca_file;
    config.insecure = config_overrides.insecure;
    config.auth_string = auth;
    http_connection connection(io, config, make_tls_context(config));
    request_outcome outcome = send_and_wait(io, connection, "{}");
    EXPECT_EQ(server->requests.size(), sent);
    EXPECT_EQ(outcome.detail.find(auth), std::string::npos);
    return outcome;
  }

  test_certificate certificate_;
  std::string ca_file_;
  std::vector<std::filesystem::path> files_;
};

TEST_F(transport_https, default_verification_refuses_a_self_signed_certificate) {
  const request_outcome outcome = send_once("localhost", certificate_, {}, 0);
  EXPECT_OUTCOME(outcome, "failed", 0, "tls");
  EXPECT_NE(outcome.detail.find("certificate verify failed"), std::string::npos) << outcome.detail;
}

TEST_F(transport_https, ca_file_lets_it_through_by_name_and_by_address) {
  transport_config config;
  config.ca_file = ca_file_;
  EXPECT_OUTCOME(send_once("localhost", certificate_, config, 1), "delivered", 200, "none");
  EXPECT_OUTCOME(send_once("127.0.0.1", certificate_, config, 1), "delivered", 200, "none");
}

TEST_F(transport_https, insecure_skips_verification) {
  transport_config config;
  config.insecure = true;
  EXPECT_OUTCOME(send_once("localhost", certificate_, config, 1), "delivered", 200, "none");
}

TEST_F(transport_https, a_certificate_for_another_host_is_tls) {
  const test_certificate other = make_certificate("DNS:other.invalid");
  transport_config config;
  config.ca_file = write_file("other.pem", other.cert_pem);
  const request_outcome outcome = send_once("localhost", other, config, 0);
  EXPECT_OUTCOME(outcome, "failed", 0, "tls");
  EXPECT_NE(outcome.detail.find("does not match 'localhost'"), std::string::npos) << outcome.detail;
}

TEST_F(transport_https, keeps_the_connection_alive_and_replaces_a_closed_one) {
  asio::io_context io;
  auto server = start_server(
      io,
      [](std::size_t i) -> reply {
        if (i == 1) return {http_response(200), reply::then::close};  // closes without a word
        return {http_response(200)};
      },
      server_context(certificate_));
  transport_config config = config_for("https://localhost:" + server->port() + "/hook");
  config.ca_file = ca_file_;
  http_connection connection(io, config, make_tls_context(config));

  EXPECT_OUTCOME(send_and_wait(io, connection, "first"), "delivered", 200, "none");
  EXPECT_OUTCOME(send_and_wait(io, connection, "second"), "delivered", 200, "none");
  EXPECT_EQ(server->connections, 1u);
  settle(io);
  EXPECT_OUTCOME(send_and_wait(io, connection, "third"), "delivered", 200, "none");
  EXPECT_EQ(server->connections, 2u);
  ASSERT_EQ(server->requests.size(), 3u);
  EXPECT_EQ(server->count("\r\n\r\nthird"), 1u);
}

// Over TLS a write is cut into records of 16 kB: the head and a larger body must both
// go out whole (a two-buffer write whose first buffer was spent once sent nothing more).
TEST_F(transport_https, a_body_larger_than_a_tls_record_arrives_whole) {
  asio::io_context io;
  auto server = start_server(io, always({http_response(200)}), server_context(certificate_));
  transport_config config = config_for("https://localhost:" + server->port() + "/hook");
  config.ca_file = ca_file_;
  http_connection connection(io, config, make_tls_context(config));
  std::string large(150'000, 'z');
  for (std::size_t i = 0; i < large.size(); i += 89) large[i] = static_cast<char>('a' + i % 26);

  EXPECT_OUTCOME(send_and_wait(io, connection, large), "delivered", 200, "none");
  EXPECT_OUTCOME(send_and_wait(io, connection, "{}"), "delivered", 200, "none");
  EXPECT_EQ(server->connections, 1u);
  ASSERT_EQ(server->requests.size(), 2u);
  EXPECT_EQ(server->count("\r\nContent-Length: 150000\r\n\r\n" + large), 1u);
  EXPECT_EQ(server->count("\r\nContent-Length: 2\r\n\r\n{}"), 1u);
}

TEST_F(transport_https, a_handshake_that_never_ends_is_connect_timeout) {
  asio::io_context io;
  auto server = start_server(io, always({http_response(200)}));  // plain TCP: never answers
  transport_config config = config_for("https://127.0.0.1:" + server->port() + "/");
  config.insecure = true;
  config.connect_timeout = 300;
  http_connection connection(io, config, make_tls_context(config));

  EXPECT_OUTCOME(send_and_wait(io, connection, "{}"), "failed", 0, "connect_timeout");
  EXPECT_EQ(server->requests.size(), 0u);
}

TEST_F(transport_https, an_unreadable_ca_file_names_the_file) {
  transport_config config = config_for("https://localhost/");
  config.ca_file = "/nonexistent/gmsim-ca.pem";
  try {
    make_tls_context(config);
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/gmsim-ca.pem"), std::string::npos);
  }
  config.ca_file = write_file("not-a-cert.pem", "not a certificate\n");
  EXPECT_THROW(make_tls_context(config), std::invalid_argument);
}

}  // namespace
}  // namespace gmsim
