// The validating receiver, shaped like Boost.Beast's example/advanced/server: a listener
// accepts each connection onto its own strand, up to max_connections, and hands it to a
// session (receiver_session.cpp) that reads, checks and answers its requests.
#include "net/receiver.hpp"

#include <algorithm>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/error.hpp>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

#include "net/receiver_session.hpp"

namespace gmsim {
namespace {

namespace beast = boost::beast;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using json = nlohmann::json;
using receiver_detail::make_session;
using receiver_detail::session;
using receiver_detail::shared_state;

// After an accept error such as EMFILE, accepting again at once would spin.
constexpr auto accept_retry_delay = std::chrono::milliseconds(100);

class listener : public std::enable_shared_from_this<listener> {
 public:
  // Throws std::runtime_error naming the address when it cannot be bound.
  listener(net::io_context& ioc, const tcp::endpoint& endpoint, std::shared_ptr<shared_state> state)
      : ioc_(ioc),
        acceptor_(net::make_strand(ioc)),
        retry_timer_(acceptor_.get_executor()),
        state_(std::move(state)) {
    beast::error_code ec;
    const auto check = [&] {
      if (ec)
        throw std::runtime_error("cannot listen on " + state_->config.listen + ": " + ec.message());
    };
    acceptor_.open(endpoint.protocol(), ec);
    check();
    acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    check();
    acceptor_.bind(endpoint, ec);
    check();
    acceptor_.listen(net::socket_base::max_listen_connections, ec);
    check();
    port_ = acceptor_.local_endpoint().port();
  }

  std::uint16_t port() const { return port_; }
  void run() {
    net::dispatch(acceptor_.get_executor(),
                  beast::bind_front_handler(&listener::do_accept, shared_from_this()));
  }
  void close() {
    net::post(acceptor_.get_executor(), [self = shared_from_this()] {
      beast::error_code ignored;
      self->acceptor_.close(ignored);
      self->retry_timer_.cancel();
    });
  }

 private:
  void do_accept() {
    acceptor_.async_accept(net::make_strand(ioc_),
                           beast::bind_front_handler(&listener::on_accept, shared_from_this()));
  }

  void on_accept(beast::error_code ec, tcp::socket socket) {
    if (!acceptor_.is_open()) return;  // stop()
    if (ec) {
      retry_timer_.expires_after(accept_retry_delay);
      return retry_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
        if (!ec) self->do_accept();
      });
    }
    auto s = make_session(std::move(socket), state_);
    // Refused sockets close as `s` goes out of scope.
    if (auto id = state_->admit(s)) s->run(*id);
    do_accept();
  }

  net::io_context& ioc_;
  tcp::acceptor acceptor_;
  net::steady_timer retry_timer_;
  std::shared_ptr<shared_state> state_;
  std::uint16_t port_ = 0;
};

void check_config(const receiver_config& c) {
  const auto fail = [](const std::string& what) { throw std::invalid_argument(what); };
  if (c.threads < 1) fail("threads must be at least 1");
  if (c.max_connections < 1) fail("max_connections must be at least 1");
  // A body that may be read must fit the budget, or it would be 503 forever, not 413.
  if (c.max_body > c.max_body_memory) fail("max_body must be at most max_body_memory");
  if (c.idle_timeout <= 0) fail("idle_timeout must be positive");
  if (c.request_timeout <= 0) fail("request_timeout must be positive");
  if (c.linger_timeout < 0 || c.min_gap < 0 || c.gap_tolerance < 0 || c.latency_min < 0 ||
      c.latency_max < 0)
    fail("durations cannot be negative");
  for (int s : {c.status, c.fail_status})
    if (s < 200 || s > 599) fail("answer status " + std::to_string(s) + " is not in 200..599");
  for (double r : {c.fail_ratio, c.close_ratio})
    if (!(r >= 0 && r <= 1)) fail("ratios must be in [0, 1]");
}

}  // namespace

listen_address parse_listen_address(std::string_view text) {
  const auto fail = [&](const std::string& why) -> listen_address {
    throw std::invalid_argument("bad listen address '" + std::string(text) + "': " + why);
  };
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return fail("expected ADDR:PORT");
  std::string_view host = text.substr(0, colon), port_text = text.substr(colon + 1);
  const bool bracketed = host.size() >= 2 && host.front() == '[' && host.back() == ']';
  if (bracketed)
    host = host.substr(1, host.size() - 2);
  else if (host.find(':') != std::string_view::npos)
    return fail("an IPv6 address goes in brackets: [::1]:8080");
  if (host.empty()) return fail("no address before the port");
  unsigned port = 0;
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() ||
      port > 65535)
    return fail("the port must be a number in 0..65535");
  if (!bracketed && host == "localhost") return {"127.0.0.1", static_cast<std::uint16_t>(port)};
  beast::error_code bad;
  const auto address = net::ip::make_address(std::string(host), bad);
  if (bad || address.is_v6() != bracketed)
    return fail("'" + std::string(host) + "' is not an IP address");
  return {address.to_string(), static_cast<std::uint16_t>(port)};
}

struct receiver::impl {
  explicit impl(receiver_config config)
      : state(std::make_shared<shared_state>(std::move(config))) {}

  std::shared_ptr<shared_state> state;
  std::mutex lifecycle_mutex;  // start() and stop() may come from different threads
  bool started = false, stopped = false;
  std::uint16_t port = 0;
  std::optional<net::io_context> ioc;  // from start() to stop()
  std::shared_ptr<listener> acceptor;
  std::vector<std::thread> threads;
  std::mutex running_mutex;
  std::condition_variable running_cv;
  int running = 0;  // threads still inside ioc.run()
};

receiver::receiver(receiver_config config) : impl_(std::make_unique<impl>(std::move(config))) {}

receiver::~receiver() {
  // stop() throws only if a mutex or a join fails, and a destructor has no one to tell.
  try {
    stop();
  } catch (...) {
  }
}

void receiver::start() {
  auto& m = *impl_;
  std::lock_guard lock(m.lifecycle_mutex);
  if (m.started) throw std::logic_error("receiver::start() called twice");
  const receiver_config& config = m.state->config;
  check_config(config);
  const listen_address where = parse_listen_address(config.listen);
  m.ioc.emplace(config.threads);
  m.acceptor = std::make_shared<listener>(
      *m.ioc, tcp::endpoint(net::ip::make_address(where.address), where.port), m.state);
  m.port = m.acceptor->port();
  m.acceptor->run();
  m.started = true;
  m.running = config.threads;
  for (int i = 0; i < config.threads; ++i) {
    m.threads.emplace_back([&m] {
      m.ioc->run();
      std::lock_guard lock(m.running_mutex);
      --m.running;
      m.running_cv.notify_all();
    });
  }
}

void receiver::stop() {
  auto& m = *impl_;
  std::lock_guard lock(m.lifecycle_mutex);
  if (!m.started || m.stopped) return;
  m.stopped = true;
  std::vector<std::weak_ptr<session>> open;
  {
    std::lock_guard sessions_lock(m.state->sessions_mutex);
    m.state->stopping = true;
    for (const auto& [id, s] : m.state->sessions) open.push_back(s);
  }
  m.acceptor->close();
  for (const auto& weak : open)
    if (auto s = weak.lock()) s->close();
  // With the acceptor and every socket closed the threads run out of work; should a handler
  // still hold them, stopping the io_context destroys it unrun.
  {
    std::unique_lock running_lock(m.running_mutex);
    if (!m.running_cv.wait_for(running_lock,
                               std::chrono::milliseconds(m.state->config.linger_timeout),
                               [&] { return m.running == 0; }))
      m.ioc->stop();
  }
  for (auto& t : m.threads) t.join();
  // Destroys the handlers left unrun, and with them their sessions' sockets, now rather than
  // with the receiver; the listener goes first, its acceptor being a client of the io_context.
  m.acceptor.reset();
  m.ioc.reset();
}

std::uint16_t receiver::port() const { return impl_->port; }

receiver_counts receiver::counts() const { return impl_->state->snapshot(); }

nlohmann::json receiver::counts_json() const { return to_json(counts()); }

}  // namespace gmsim
