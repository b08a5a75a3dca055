// The receiver's per-connection HTTP session, shaped like Boost.Beast's
// example/advanced/server: it reads, checks and answers requests as a chain of do_x / on_x
// steps on the connection's strand, with a deadline on every step, so that no client, slow,
// silent or not reading, holds a connection (and a place under max_connections) for long.
#include "net/receiver_session.hpp"

#include <algorithm>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <limits>
#include <nlohmann/json.hpp>
#include <string_view>
#include <vector>

#include "core/exposition.hpp"
#include "delivery/schema.hpp"

namespace gmsim::receiver_detail {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using steady = std::chrono::steady_clock;
using json = nlohmann::json;

constexpr std::string_view continue_answer = "HTTP/1.1 100 Continue\r\n\r\n";
// What one read asks the socket for at most, as Beast's own reads do.
constexpr std::size_t read_chunk = 64 << 10;

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

// The timeouts, all from the config:
// - a new connection must send the first byte of its first request within request_timeout,
//   and a kept-alive one the first byte of its next request within idle_timeout; otherwise
//   it is closed without an answer (there is no request to answer);
// - from a request's first byte, the whole request must arrive within request_timeout, or it
//   is answered 408 and the connection closed: a per-read timeout would let a client that
//   sends a byte now and then (slowloris) keep the connection forever;
// - each answer must be taken by the client within request_timeout, or the connection is
//   closed: a client that never reads cannot hold it either;
// - after an answer that closes the connection, what the client still sends is drained for
//   linger_timeout.
// Reads of a request run under request_timer_ rather than the stream's own expiry, because
// the stream closes its socket when that expires, and a 408 could no longer be sent.
class http_session final : public session, public std::enable_shared_from_this<http_session> {
 public:
  http_session(tcp::socket&& socket, std::shared_ptr<shared_state> state)
      : stream_(std::move(socket)),
        request_timer_(stream_.get_executor()),
        latency_timer_(stream_.get_executor()),
        state_(std::move(state)) {}
  ~http_session() override {
    state_->release_body(reserved_);
    if (id_) state_->forget(*id_);
  }

  void run(std::uint64_t id) override {
    id_ = id;
    rng_ = state_->config.seed ^ (id * 0xd1342543de82ef95ULL);
    net::dispatch(stream_.get_executor(),
                  beast::bind_front_handler(&http_session::do_await_request, shared_from_this()));
  }
  void close() override {
    net::post(stream_.get_executor(),
              beast::bind_front_handler(&http_session::do_close, shared_from_this()));
  }

 private:
  enum class then { read_next, linger };

  const receiver_config& config() const { return state_->config; }
  void expire_after(millis ms) { stream_.expires_after(std::chrono::milliseconds(ms)); }

  void do_await_request() {
    parser_.emplace();  // the last request's body is freed: so are its bytes
    state_->release_body(reserved_);
    reserved_ = 0;
    parser_->body_limit(config().max_body);
    parser_->header_limit(static_cast<std::uint32_t>(
        std::min<std::size_t>(config().max_header, std::numeric_limits<std::uint32_t>::max())));
    request_late_ = false;
    if (buffer_.size() > 0) return do_start_request();  // pipelined: it has begun already
    expire_after(served_ ? config().idle_timeout : config().request_timeout);
    stream_.async_read_some(
        buffer_.prepare(beast::read_size(buffer_, read_chunk)),
        beast::bind_front_handler(&http_session::on_first_bytes, shared_from_this()));
  }

  void on_first_bytes(beast::error_code ec, std::size_t n) {
    if (ec) return do_close();  // idle or silent too long, end of stream, reset, or stop()
    buffer_.commit(n);
    do_start_request();
  }

  void do_start_request() {
    stream_.expires_never();
    reading_ = true;
    request_timer_.expires_after(std::chrono::milliseconds(config().request_timeout));
    request_timer_.async_wait(beast::bind_front_handler(&http_session::on_request_timer,
                                                        shared_from_this(), ++request_seq_));
    http::async_read_header(
        stream_, buffer_, *parser_,
        beast::bind_front_handler(&http_session::on_read_header, shared_from_this()));
  }

  // Cancelling the read makes it complete with operation_aborted, which on_read_error answers
  // with 408. A read that completed just before is not cancelled: the next step checks
  // request_late_ instead. An expiry already queued when the request ended (cancel() cannot
  // recall it) must not cut the answer or the next request: hence reading_ and the sequence.
  void on_request_timer(std::uint64_t seq, beast::error_code ec) {
    if (ec || closed_ || !reading_ || seq != request_seq_) return;
    request_late_ = true;
    beast::error_code ignored;
    stream_.socket().cancel(ignored);
  }

  void on_read_header(beast::error_code ec, std::size_t) {
    if (ec) return on_read_error(ec);
    if (request_late_) return answer_late();
    const auto& req = parser_->get();
    // The body's bytes, from the shared budget, before a byte of it is read: its length,
    // or max_body when it is chunked (413 past either, as before).
    const auto length = parser_->content_length();
    const std::size_t need =
        length ? static_cast<std::size_t>(std::min<std::uint64_t>(*length, config().max_body))
               : (parser_->chunked() ? config().max_body : 0);
    if (need > 0) {
      if (!state_->reserve_body(need)) {
        end_reading();
        return do_write(503, R"({"error":"busy: too many request bodies in memory"})",
                        then::linger);
      }
      reserved_ = need;
    }
    // curl and others wait for this before sending a large body. The request timer covers
    // this write too: cancelled, it fails and the connection closes.
    if (req.version() == 11 && !parser_->is_done() &&
        beast::iequals(req[http::field::expect], "100-continue")) {
      return net::async_write(
          stream_, net::buffer(continue_answer.data(), continue_answer.size()),
          beast::bind_front_handler(&http_session::on_continue, shared_from_this()));
    }
    do_read_body();
  }

  void on_continue(beast::error_code ec, std::size_t) {
    if (ec) return do_close();
    do_read_body();
  }

  void do_read_body() {
    if (request_late_) return answer_late();
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&http_session::on_read_body, shared_from_this()));
  }

  void on_read_body(beast::error_code ec, std::size_t) {
    if (ec) return on_read_error(ec);
    end_reading();  // complete in time, or so nearly that it counts as in time
    served_ = true;
    handle_request(steady::now());
  }

  void on_read_error(beast::error_code ec) {
    if (closed_) return do_close();
    end_reading();
    if (ec == net::error::operation_aborted && request_late_) return answer_late();
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
    do_close();  // end of stream, reset, or stop()
  }

  void end_reading() {
    reading_ = false;
    request_timer_.cancel();
  }

  void answer_late() {
    end_reading();
    do_write(408, R"({"error":"request not complete in time"})", then::linger);
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
    if (req.method() == http::verb::get && path == "/metrics")
      return do_write(200, prometheus_text(state_->snapshot()), then::read_next,
                      exposition_content_type);
    if (req.method() == http::verb::get && path == "/healthz")
      return do_write(200, "ok", then::read_next, "text/plain");
    if (req.method() != http::verb::post)
      return do_write(405, R"({"error":"use POST"})", then::read_next);
    // Two Authorization fields are refused, whichever holds the secret: only the first was
    // checked, and a proxy or the application behind may read the other.
    if (!config().auth_string.empty() &&
        (req.count(http::field::authorization) != 1 ||
         !same_secret(req[http::field::authorization], "Basic " + config().auth_string))) {
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
    const auto wait =
        std::chrono::milliseconds(
            lo + static_cast<millis>(latency_bits % static_cast<std::uint64_t>(hi - lo + 1))) +
        state_->serve(pending_page_.rows, steady::now());
    if (wait.count() <= 0) return answer_webhook();
    answer_pending_ = true;
    latency_timer_.expires_after(wait);
    latency_timer_.async_wait(
        beast::bind_front_handler(&http_session::on_latency, shared_from_this()));
  }

  void on_latency(beast::error_code ec) {
    if (ec || closed_) return;
    answer_pending_ = false;
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
    expire_after(config().request_timeout);
    http::async_write(stream_, res_,
                      beast::bind_front_handler(&http_session::on_write, shared_from_this(), next));
  }

  void on_write(then next, beast::error_code ec, std::size_t) {
    if (ec) return do_close();
    if (next == then::read_next) return do_await_request();
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
                            beast::bind_front_handler(&http_session::on_drain, shared_from_this()));
  }
  void on_drain(beast::error_code ec, std::size_t) {
    if (ec) return do_close();
    do_drain();
  }

  void do_close() {
    if (answer_pending_) {
      // Stopped (or the client gone) while the answer waited out --latency: counted, not
      // lost from the stats (31 of 1,033 were before).
      answer_pending_ = false;
      state_->update([](receiver_counts& c) { ++c.unanswered_at_stop; });
    }
    closed_ = true;
    request_timer_.cancel();
    latency_timer_.cancel();
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

  beast::tcp_stream stream_;
  net::steady_timer request_timer_;
  net::steady_timer latency_timer_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> res_;
  std::vector<char> drain_;
  std::shared_ptr<shared_state> state_;
  std::optional<std::uint64_t> id_;
  std::uint64_t rng_ = 0;
  bool served_ = false;            // a request has been read whole: idle_timeout applies now
  bool reading_ = false;           // a request has begun and is not read whole yet
  bool request_late_ = false;      // the request timer expired while this request was read
  std::uint64_t request_seq_ = 0;  // requests begun, so that a stale expiry is told apart
  bool keep_alive_ = true;
  bool closed_ = false;
  int pending_status_ = 200;
  bool answer_pending_ = false;  // a valid request's answer waits on latency_timer_
  std::size_t reserved_ = 0;     // of max_body_memory, for the request being read or held
  page_info pending_page_;
};

}  // namespace

std::chrono::microseconds shared_state::serve(std::int64_t rows, steady::time_point now) {
  const double capacity = config.capacity_rows_per_second;
  if (!(capacity > 0)) return std::chrono::microseconds(0);
  const auto service = std::chrono::microseconds(
      static_cast<std::int64_t>(static_cast<double>(rows) * 1e6 / capacity));
  std::lock_guard lock(counts_mutex);
  busy_until = std::max(busy_until, now) + service;
  return std::chrono::duration_cast<std::chrono::microseconds>(busy_until - now);
}

void shared_state::note_valid(const page_info& page, steady::time_point arrival) {
  // Arrival times jitter with the network and the scheduler: a gap short of min_gap by no
  // more than gap_tolerance is not counted.
  const auto least = std::chrono::milliseconds(config.min_gap - config.gap_tolerance);
  std::lock_guard lock(counts_mutex);
  ++counts.valid;
  std::tuple<std::string, std::string, std::string> queue;
  switch (config.gap_scope) {
    case pacing_scope::webhook: queue = {"", page.org, ""}; break;
    case pacing_scope::deployment: queue = {"", page.org, page.dep}; break;
    case pacing_scope::stream: queue = {page.type, page.org, page.dep}; break;
    case pacing_scope::endpoint: break;
  }
  auto [it, first] = last_valid.try_emplace(std::move(queue), arrival);
  if (first && last_valid.size() >= prune_at) {
    // A queue whose last request is older than min_gap (and a second, for arrivals that
    // reach here out of order) can violate nothing: its next request starts it afresh.
    const auto horizon =
        arrival - std::chrono::milliseconds(config.min_gap) - std::chrono::seconds(1);
    std::erase_if(last_valid, [&](const auto& entry) { return entry.second < horizon; });
    prune_at = std::max<std::size_t>(1024, 2 * last_valid.size());
  }
  counts.queues_tracked = static_cast<std::int64_t>(last_valid.size());
  if (first) return;
  // Arrivals stamped on different threads may reach here out of order: that is a gap of 0.
  const auto gap = std::max(arrival - it->second, steady::duration::zero());
  if (gap < least) ++counts.gap_violations;
  it->second = std::max(it->second, arrival);
}

std::optional<std::uint64_t> shared_state::admit(const std::shared_ptr<session>& s) {
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

bool shared_state::reserve_body(std::size_t bytes) {
  std::lock_guard lock(counts_mutex);
  if (bytes > config.max_body_memory - std::min(body_bytes, config.max_body_memory)) {
    ++counts.busy;
    return false;
  }
  body_bytes += bytes;
  return true;
}

void shared_state::release_body(std::size_t bytes) {
  std::lock_guard lock(counts_mutex);
  body_bytes -= std::min(body_bytes, bytes);
}

void shared_state::forget(std::uint64_t id) {
  std::lock_guard lock(sessions_mutex);
  sessions.erase(id);
}

std::shared_ptr<session> make_session(tcp::socket&& socket, std::shared_ptr<shared_state> state) {
  return std::make_shared<http_session>(std::move(socket), std::move(state));
}

}  // namespace gmsim::receiver_detail
