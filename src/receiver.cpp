// The validating receiver, shaped like Boost.Beast's example/advanced/server: a listener
// accepts each connection onto its own strand, and a session per connection reads, checks and
// answers requests as a chain of do_x / on_x steps, with a timeout before every operation.
#include "gmsim/receiver.hpp"

#include <algorithm>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <limits>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "gmsim/schema.hpp"

namespace gmsim {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using steady = std::chrono::steady_clock;
using json = nlohmann::json;

// After an accept error such as EMFILE, accepting again at once would spin.
constexpr auto accept_retry_delay = std::chrono::milliseconds(100);
constexpr std::string_view continue_answer = "HTTP/1.1 100 Continue\r\n\r\n";

std::string dump(const json& j) {
  // Fault paths may quote keys of the body, which need not be valid UTF-8.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

// Takes a time that depends only on the expected length, so that the answer's timing does
// not reveal how much of the auth string a guess got right.
bool same_secret(std::string_view given, std::string_view expected) {
  unsigned diff = given.size() != expected.size();
  for (std::size_t i = 0; i < expected.size(); ++i)
    diff |= static_cast<unsigned char>(i < given.size() ? given[i] : 0) ^
            static_cast<unsigned char>(expected[i]);
  return diff == 0;
}

// splitmix64: tiny, seedable, and the same on every platform (std distributions are not).
std::uint64_t next_random(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
double unit_draw(std::uint64_t bits) { return static_cast<double>(bits >> 11) * 0x1.0p-53; }

// What the receiver needs of a valid body beyond validate_body's verdict.
struct page_info {
  std::string type, org, dep;
  std::int64_t rows = 0;
};

// Reads the type, the slugs and the row count of a body without building a document:
// validate_body has parsed it once already, and a document of 500 rows costs more to build
// than the rest of the request. A nlohmann SAX handler.
class page_reader {
 public:
  std::optional<page_info> read(std::string_view body) {
    if (!json::sax_parse(body, this) || !has_type_ || !has_org_ || !has_dep_ || !has_rows_)
      return std::nullopt;
    return std::move(page_);
  }

  bool null() { return value(); }
  bool boolean(bool) { return value(); }
  bool number_integer(json::number_integer_t) { return value(); }
  bool number_unsigned(json::number_unsigned_t) { return value(); }
  bool number_float(json::number_float_t, const json::string_t&) { return value(); }
  bool binary(json::binary_t&) { return value(); }
  bool string(json::string_t& text) {
    value();
    if (in(role::root) && key_ == "type") {
      page_.type = std::move(text);
      has_type_ = true;
    } else if (in(role::data) && key_ == "orgSlug") {
      page_.org = std::move(text);
      has_org_ = true;
    } else if (in(role::data) && key_ == "depSlug") {
      page_.dep = std::move(text);
      has_dep_ = true;
    }
    return true;
  }
  bool key(json::string_t& name) {
    key_ = std::move(name);
    return true;
  }
  bool start_object(std::size_t) {
    value();
    open_.push_back(open_.empty()                      ? role::root
                    : in(role::root) && key_ == "data" ? role::data
                                                       : role::other);
    return true;
  }
  bool start_array(std::size_t) {
    value();
    const bool rows = in(role::data) && key_ == "rows";
    has_rows_ |= rows;
    open_.push_back(rows ? role::rows : role::other);
    return true;
  }
  bool end_object() { return close(); }
  bool end_array() { return close(); }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) {
    return false;
  }

 private:
  // What each open container is; key_ is always the key of the value being read, since a
  // value follows its key at once.
  enum class role : char { root, data, rows, other };
  bool in(role r) const { return !open_.empty() && open_.back() == r; }
  bool value() {
    if (in(role::rows)) ++page_.rows;
    return true;
  }
  bool close() {
    open_.pop_back();
    return true;
  }

  std::vector<role> open_;
  std::string key_;
  page_info page_;
  bool has_type_ = false, has_org_ = false, has_dep_ = false, has_rows_ = false;
};

class session;

// Shared by the listener, the sessions and the receiver object; held by shared_ptr so that
// handlers destroyed with the io_context never outlive it.
struct shared_state {
  explicit shared_state(receiver_config c) : config(std::move(c)) {}
  const receiver_config config;

  // Guards counts and last_valid; held for a few map updates at a time.
  mutable std::mutex counts_mutex;
  receiver_counts counts;
  std::map<std::tuple<std::string, std::string, std::string>, steady::time_point> last_valid;

  // Guards the registry that stop() walks to close every connection.
  std::mutex sessions_mutex;
  bool stopping = false;
  std::uint64_t accepted = 0;
  std::unordered_map<std::uint64_t, std::weak_ptr<session>> sessions;

  receiver_counts snapshot() const {
    std::lock_guard lock(counts_mutex);
    return counts;
  }
  template <class F>
  void update(F&& f) {
    std::lock_guard lock(counts_mutex);
    f(counts);
  }
  void note_valid(const page_info& page, steady::time_point arrival) {
    std::lock_guard lock(counts_mutex);
    ++counts.valid;
    auto [it, first] = last_valid.try_emplace({page.type, page.org, page.dep}, arrival);
    if (first) return;
    // Arrivals stamped on different threads may reach here out of order: that is a gap of 0.
    const auto gap = std::max(arrival - it->second, steady::duration::zero());
    if (gap < std::chrono::milliseconds(config.min_gap)) ++counts.gap_violations;
    it->second = std::max(it->second, arrival);
  }
  // Returns the connection's accept order, or nothing when it must be refused.
  std::optional<std::uint64_t> admit(const std::shared_ptr<session>& s) {
    std::uint64_t id = 0;
    {
      std::lock_guard lock(sessions_mutex);
      if (stopping || sessions.size() >= static_cast<std::size_t>(config.max_connections))
        return std::nullopt;
      id = accepted++;
      sessions.emplace(id, s);
    }
    update([](receiver_counts& c) { ++c.connections; });
    return id;
  }
  void forget(std::uint64_t id) {
    std::lock_guard lock(sessions_mutex);
    sessions.erase(id);
  }
};

class session : public std::enable_shared_from_this<session> {
 public:
  session(tcp::socket&& socket, std::shared_ptr<shared_state> state)
      : stream_(std::move(socket)),
        latency_timer_(stream_.get_executor()),
        state_(std::move(state)) {}
  ~session() {
    if (id_) state_->forget(*id_);
  }

  void run(std::uint64_t id) {
    id_ = id;
    rng_ = state_->config.seed ^ (id * 0xd1342543de82ef95ULL);
    net::dispatch(stream_.get_executor(),
                  beast::bind_front_handler(&session::do_read_header, shared_from_this()));
  }
  // From any thread: closes on the session's strand.
  void close() {
    net::post(stream_.get_executor(),
              beast::bind_front_handler(&session::do_close, shared_from_this()));
  }

 private:
  enum class then { read_next, linger };

  const receiver_config& config() const { return state_->config; }
  void expire_after(millis ms) { stream_.expires_after(std::chrono::milliseconds(ms)); }

  void do_read_header() {
    parser_.emplace();
    parser_->body_limit(config().max_body);
    parser_->header_limit(static_cast<std::uint32_t>(
        std::min<std::size_t>(config().max_header, std::numeric_limits<std::uint32_t>::max())));
    expire_after(config().idle_timeout);
    http::async_read_header(
        stream_, buffer_, *parser_,
        beast::bind_front_handler(&session::on_read_header, shared_from_this()));
  }

  void on_read_header(beast::error_code ec, std::size_t) {
    if (ec) return on_read_error(ec);
    const auto& req = parser_->get();
    // curl and others wait for this before sending a large body.
    if (req.version() == 11 && !parser_->is_done() &&
        beast::iequals(req[http::field::expect], "100-continue")) {
      expire_after(config().idle_timeout);
      return net::async_write(stream_, net::buffer(continue_answer.data(), continue_answer.size()),
                              beast::bind_front_handler(&session::on_continue, shared_from_this()));
    }
    do_read_body();
  }

  void on_continue(beast::error_code ec, std::size_t) {
    if (ec) return do_close();
    do_read_body();
  }

  void do_read_body() {
    expire_after(config().idle_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&session::on_read_body, shared_from_this()));
  }

  void on_read_body(beast::error_code ec, std::size_t) {
    if (ec) return on_read_error(ec);
    handle_request(steady::now());
  }

  void on_read_error(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      state_->update([](receiver_counts& c) { ++c.too_large; });
      return do_write(413, R"({"error":"body too large"})", then::linger);
    }
    if (ec == http::error::header_limit)
      return do_write(431, R"({"error":"header too large"})", then::linger);
    // A client that stops mid-message cannot be answered; any other parse error is its fault.
    if (ec.category() == http::make_error_code(http::error::bad_method).category() &&
        ec != http::error::end_of_stream && ec != http::error::partial_message)
      return do_write(400, R"({"error":"malformed request"})", then::linger);
    do_close();  // end of stream, timeout, reset, or stop()
  }

  void handle_request(steady::time_point arrival) {
    const auto& req = parser_->get();
    const std::string_view target = req.target();
    const std::string_view path = target.substr(0, target.find('?'));
    keep_alive_ = req.keep_alive();
    state_->update([&](receiver_counts& c) {
      ++c.requests;
      c.bytes += static_cast<std::int64_t>(req.body().size());
    });
    if (req.method() == http::verb::get && path == "/stats")
      return do_write(200, dump(to_json(state_->snapshot())), then::read_next);
    if (req.method() == http::verb::get && path == "/healthz")
      return do_write(200, "ok", then::read_next, "text/plain");
    if (req.method() != http::verb::post)
      return do_write(405, R"({"error":"use POST"})", then::read_next);
    if (!config().auth_string.empty() &&
        !same_secret(req[http::field::authorization], "Basic " + config().auth_string)) {
      state_->update([](receiver_counts& c) { ++c.unauthorized; });
      return do_write(401, R"({"error":"unauthorized"})", then::read_next);
    }
    handle_webhook(arrival);
  }

  void handle_webhook(steady::time_point arrival) {
    const std::string& body = parser_->get().body();
    auto faults = validate_body(body);
    std::optional<page_info> page;
    if (faults.empty()) page = page_reader().read(body);
    if (!page) {
      if (faults.empty()) faults.push_back({"", "not a webhook body"});  // validator too lenient
      json list = json::array();
      for (const auto& f : faults) list.push_back({{"path", f.path}, {"reason", f.reason}});
      state_->update([](receiver_counts& c) { ++c.invalid; });
      return do_write(400, dump({{"error", "invalid body"}, {"faults", std::move(list)}}),
                      then::read_next);
    }
    state_->note_valid(*page, arrival);

    // Always three draws in this order, so that one fault's setting never shifts another's.
    const double close_draw = unit_draw(next_random(rng_));
    const std::uint64_t latency_bits = next_random(rng_);
    const double fail_draw = unit_draw(next_random(rng_));
    if (close_draw < config().close_ratio) {
      state_->update([](receiver_counts& c) { ++c.dropped; });
      return do_close();
    }
    pending_status_ = fail_draw < config().fail_ratio ? config().fail_status : config().status;
    pending_page_ = std::move(*page);
    const millis lo = config().latency_min, hi = std::max(lo, config().latency_max);
    const millis wait =
        lo + static_cast<millis>(latency_bits % static_cast<std::uint64_t>(hi - lo + 1));
    if (wait <= 0) return answer_webhook();
    latency_timer_.expires_after(std::chrono::milliseconds(wait));
    latency_timer_.async_wait(beast::bind_front_handler(&session::on_latency, shared_from_this()));
  }

  void on_latency(beast::error_code ec) {
    if (ec || closed_) return;
    answer_webhook();
  }

  void answer_webhook() {
    const int status = pending_status_;
    if (status / 100 != 2) {
      return do_write(status, dump({{"ok", false}, {"status", status}}), then::read_next);
    }
    state_->update([&](receiver_counts& c) {
      c.rows_accepted += pending_page_.rows;
      c.rows_by_type[pending_page_.type] += pending_page_.rows;
    });
    do_write(status, dump({{"ok", true}, {"rows", pending_page_.rows}}), then::read_next);
  }

  void do_write(int status, std::string body, then next,
                std::string_view type = "application/json") {
    state_->update([&](receiver_counts& c) { ++c.by_status[status]; });
    if (next == then::read_next && !keep_alive_) next = then::linger;
    res_ = {};
    res_.result(static_cast<unsigned>(status));
    res_.version(11);
    res_.set(http::field::server, "gmsim-receiver");
    if (status == 401) res_.set(http::field::www_authenticate, R"(Basic realm="gmsim")");
    if (status == 405) res_.set(http::field::allow, "POST");
    // 204 and 304 carry no body.
    if (status != 204 && status != 304) {
      res_.set(http::field::content_type, type);
      res_.body() = std::move(body);
    }
    res_.keep_alive(next == then::read_next);
    res_.prepare_payload();
    expire_after(config().idle_timeout);
    http::async_write(stream_, res_,
                      beast::bind_front_handler(&session::on_write, shared_from_this(), next));
  }

  void on_write(then next, beast::error_code ec, std::size_t) {
    if (ec) return do_close();
    if (next == then::read_next) return do_read_header();
    do_linger();
  }

  // Half-closes, then reads and discards what the client still sends until it closes too or
  // linger_timeout passes: closing with unread bytes would reset the connection, and the
  // client could lose the answer it has not read yet.
  void do_linger() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    expire_after(config().linger_timeout);
    drain_.resize(16 << 10);
    do_drain();
  }
  void do_drain() {
    stream_.async_read_some(net::buffer(drain_),
                            beast::bind_front_handler(&session::on_drain, shared_from_this()));
  }
  void on_drain(beast::error_code ec, std::size_t) {
    if (ec) return do_close();
    do_drain();
  }

  void do_close() {
    closed_ = true;
    latency_timer_.cancel();
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

  beast::tcp_stream stream_;
  net::steady_timer latency_timer_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> res_;
  std::vector<char> drain_;
  std::shared_ptr<shared_state> state_;
  std::optional<std::uint64_t> id_;
  std::uint64_t rng_ = 0;
  bool keep_alive_ = true;
  bool closed_ = false;
  int pending_status_ = 200;
  page_info pending_page_;
};

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
    auto s = std::make_shared<session>(std::move(socket), state_);
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
  if (c.idle_timeout <= 0) fail("idle_timeout must be positive");
  if (c.linger_timeout < 0 || c.min_gap < 0 || c.latency_min < 0 || c.latency_max < 0)
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
          {"rows_accepted", c.rows_accepted},
          {"rows_by_type", by_type},
          {"by_status", by_status}};
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
