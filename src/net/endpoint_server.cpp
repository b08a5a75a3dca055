// Shaped like Boost.Beast's example/http/server/async: an acceptor hands each connection
// to a session that reads a request, answers it, and keeps the connection for the next.
#include "net/endpoint_server.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <chrono>
#include <map>
#include <optional>
#include <stdexcept>
#include <thread>

#include "net/receiver.hpp"  // parse_listen_address

namespace gmsim {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

using routes = std::map<std::string, endpoint_server::handler, std::less<>>;

// A scrape or a page load takes milliseconds; an idle keep-alive connection is closed.
constexpr auto request_timeout = std::chrono::seconds(10);
constexpr std::uint64_t max_request_bytes = 16 * 1024;  // GETs only: headers and no body
constexpr int max_sessions = 64;
constexpr auto accept_retry_delay = std::chrono::milliseconds(100);

class session : public std::enable_shared_from_this<session> {
 public:
  session(tcp::socket socket, const routes& table, int& live)
      : stream_(std::move(socket)), routes_(table), live_(live) {
    ++live_;
  }
  ~session() { --live_; }

  void run() {
    net::dispatch(stream_.get_executor(),
                  beast::bind_front_handler(&session::do_read, shared_from_this()));
  }

 private:
  void do_read() {
    parser_.emplace();
    parser_->header_limit(max_request_bytes);
    parser_->body_limit(max_request_bytes);
    stream_.expires_after(request_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&session::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec) return close();  // the peer closed, a timeout, a malformed request
    const auto& request = parser_->get();
    http::response<http::string_body> response{http::status::ok, request.version()};
    response.set(http::field::server, "gmsim");
    const std::string_view target = request.target();
    const std::string_view path = target.substr(0, target.find('?'));
    const auto found = routes_.find(path);
    if (found == routes_.end()) {
      response.result(http::status::not_found);
      response.set(http::field::content_type, "text/plain; charset=utf-8");
      response.body() = "not found: this gmsim serves";
      for (const auto& [known, ignored] : routes_) response.body() += " " + known;
      response.body() += "\n";
    } else if (request.method() != http::verb::get) {
      response.result(http::status::method_not_allowed);
      response.set(http::field::allow, "GET");
      response.set(http::field::content_type, "text/plain; charset=utf-8");
      response.body() = "only GET\n";
    } else {
      endpoint_answer answer = found->second();
      response.result(static_cast<http::status>(answer.status));
      response.set(http::field::content_type, answer.content_type);
      response.set(http::field::cache_control, "no-store");
      response.body() = std::move(answer.body);
    }
    response.keep_alive(request.keep_alive());
    response.prepare_payload();
    response_ = std::move(response);
    http::async_write(stream_, response_,
                      beast::bind_front_handler(&session::on_write, shared_from_this()));
  }

  void on_write(beast::error_code ec, std::size_t) {
    if (ec || !response_.keep_alive()) return close();
    do_read();
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.close();
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> response_;
  const routes& routes_;
  int& live_;  // sessions open, counted on the server's one thread
};

}  // namespace

struct endpoint_server::impl {
  std::string listen;
  routes table;
  int live = 0;  // before io: its sessions, destroyed with it, count down
  net::io_context io{1};
  std::optional<tcp::acceptor> acceptor;
  std::optional<net::steady_timer> retry;
  std::thread thread;
  std::uint16_t port = 0;
  bool started = false, stopped = false;

  void do_accept() {
    acceptor->async_accept(net::make_strand(io), [this](beast::error_code ec, tcp::socket socket) {
      if (!acceptor->is_open()) return;
      if (ec) {
        // An accept error (EMFILE) is tried again after a pause: at once, the listener
        // still readable, it would spin. A scrape fails meanwhile; the run goes on.
        retry->expires_after(accept_retry_delay);
        return retry->async_wait([this](beast::error_code waited) {
          if (!waited) do_accept();
        });
      }
      // Past max_sessions the socket closes here.
      if (live < max_sessions) std::make_shared<session>(std::move(socket), table, live)->run();
      do_accept();
    });
  }
};

endpoint_server::endpoint_server(std::string listen) : impl_(std::make_unique<impl>()) {
  impl_->listen = std::move(listen);
}

endpoint_server::~endpoint_server() { stop(); }

void endpoint_server::route(std::string path, handler h) {
  impl_->table.insert_or_assign(std::move(path), std::move(h));
}

void endpoint_server::start() {
  auto& m = *impl_;
  if (m.started) throw std::logic_error("endpoint_server::start() called twice");
  const listen_address where = parse_listen_address(m.listen);
  const tcp::endpoint endpoint(net::ip::make_address(where.address), where.port);
  beast::error_code ec;
  m.acceptor.emplace(m.io);
  m.retry.emplace(m.io);
  const auto check = [&] {
    if (ec) throw std::runtime_error("cannot listen on " + m.listen + ": " + ec.message());
  };
  m.acceptor->open(endpoint.protocol(), ec);
  check();
  m.acceptor->set_option(net::socket_base::reuse_address(true), ec);
  check();
  m.acceptor->bind(endpoint, ec);
  check();
  m.acceptor->listen(net::socket_base::max_listen_connections, ec);
  check();
  m.port = m.acceptor->local_endpoint().port();
  m.started = true;
  m.do_accept();
  m.thread = std::thread([&m] { m.io.run(); });
}

void endpoint_server::stop() {
  auto& m = *impl_;
  if (!m.started || m.stopped) return;
  m.stopped = true;
  // Sessions end with the io_context: stopped, its handlers (and their sockets) are
  // destroyed with it, after the acceptor.
  net::post(m.io, [&m] {
    beast::error_code ignored;
    m.acceptor->close(ignored);
  });
  m.io.stop();
  m.thread.join();
  m.retry.reset();
  m.acceptor.reset();
}

std::uint16_t endpoint_server::port() const { return impl_->port; }

}  // namespace gmsim
