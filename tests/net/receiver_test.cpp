// The receiver over loopback, driven by a small client whose every operation gives up after
// io_limit, so that no test can hang.
#include "net/receiver.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace gmsim {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using json = nlohmann::json;
using response = http::response<http::string_body>;
using request = http::request<http::string_body>;

constexpr auto io_limit = std::chrono::seconds(10);

std::string variables_body(const std::string& org = "o", const std::string& dep = "d") {
  return R"({"type":"variables","data":{"orgSlug":")" + org + R"(","depSlug":")" + dep +
         R"(","rows":[{"identifier":"a@b.c","variables":{"score":1}}]}})";
}
const std::string rules_body =
    R"({"type":"rules","data":{"orgSlug":"o","depSlug":"d","rows":[{"identifier":"a@b.c",)"
    R"("rules":[{"cid":1,"cname":"Rule A","scene_name":"scene 1","timestamp":123456}]},)"
    R"({"identifier":"x@y.z","rules":[{"cid":2,"cname":"Rule C","scene_name":"scene 2",)"
    R"("timestamp":123458}]}]}})";
const std::string session_body =
    R"({"type":"session","data":{"orgSlug":"o","depSlug":"d","rows":[{"identifier":"a@b.c",)"
    R"("session":{"uuid":"12134-dffgs","browser":"CHROME","platform":"ANDROID",)"
    R"("device_id":"123","created_at":123455,"modified_at":123455}}]}})";

receiver_config loopback() {
  receiver_config config;
  config.listen = "127.0.0.1:0";
  config.min_gap = 0;
  return config;
}

request webhook(std::string body, const std::string& target = "/gmetri-webhook") {
  request req{http::verb::post, target, 11};
  req.set(http::field::host, "127.0.0.1");
  req.set(http::field::content_type, "application/json");
  req.body() = std::move(body);
  req.prepare_payload();
  return req;
}

request get(const std::string& target) {
  request req{http::verb::get, target, 11};
  req.set(http::field::host, "127.0.0.1");
  return req;
}

class client {
 public:
  explicit client(std::uint16_t port) {
    const tcp::endpoint to(net::ip::make_address("127.0.0.1"), port);
    const auto ec = run([&](auto done) { stream_.async_connect(to, done); });
    if (ec) throw std::runtime_error("connect: " + ec.message());
  }

  beast::error_code send(const request& req) {
    return run([&](auto done) { http::async_write(stream_, req, done); });
  }
  beast::error_code send_raw(const std::string& bytes) {
    return run([&](auto done) { net::async_write(stream_, net::buffer(bytes), done); });
  }
  // The next response, or the error that ended the wait for it.
  std::pair<beast::error_code, response> receive() {
    response res;
    const auto ec = run([&](auto done) { http::async_read(stream_, buffer_, res, done); });
    return {ec, std::move(res)};
  }
  response exchange(const request& req) {
    if (const auto ec = send(req)) throw std::runtime_error("send: " + ec.message());
    auto [ec, res] = receive();
    if (ec) throw std::runtime_error("receive: " + ec.message());
    return res;
  }
  // True when the server closed the connection (EOF or reset) without sending anything more.
  bool closed_by_peer() {
    char byte;
    std::size_t got = 0;
    const auto ec = run([&](auto done) {
      stream_.async_read_some(net::buffer(&byte, 1), [&, done](beast::error_code e, std::size_t n) {
        got = n;
        done(e);
      });
    });
    return got == 0 && buffer_.size() == 0 && ec && ec != beast::error::timeout;
  }

 private:
  template <class Start>
  beast::error_code run(Start start) {
    beast::error_code result = net::error::would_block;
    stream_.expires_after(io_limit);
    start([&result](beast::error_code ec, auto&&...) { result = ec; });
    ioc_.restart();
    ioc_.run();
    return result;
  }

  net::io_context ioc_;
  beast::tcp_stream stream_{ioc_};
  beast::flat_buffer buffer_;
};

TEST(receiver, accepts_a_valid_body_of_each_type) {
  receiver r(loopback());
  r.start();
  client c(r.port());
  for (const auto& body : {variables_body(), rules_body, session_body}) {
    const response res = c.exchange(webhook(body));
    ASSERT_EQ(res.result_int(), 200) << body << "\n" << res.body();
    EXPECT_EQ(res[http::field::content_type], "application/json");
    EXPECT_TRUE(res.keep_alive());
  }
  const receiver_counts n = r.counts();
  EXPECT_EQ(n.connections, 1);
  EXPECT_EQ(n.requests, 3);
  EXPECT_EQ(n.valid, 3);
  EXPECT_EQ(n.invalid, 0);
  EXPECT_EQ(n.rows_accepted, 4);
  EXPECT_EQ(n.rows_by_type,
            (std::map<std::string, std::int64_t>{{"rules", 2}, {"session", 1}, {"variables", 1}}));
  EXPECT_EQ(n.by_status, (std::map<int, std::int64_t>{{200, 3}}));
  EXPECT_EQ(n.bytes, static_cast<std::int64_t>(variables_body().size() + rules_body.size() +
                                               session_body.size()));
}

TEST(receiver, answers_ok_with_the_row_count) {
  receiver r(loopback());
  r.start();
  client c(r.port());
  const json answer = json::parse(c.exchange(webhook(rules_body, "/any/path?x=1")).body());
  EXPECT_EQ(answer, json({{"ok", true}, {"rows", 2}}));
  // Nested arrays and objects inside rows, and keys named like the envelope's, are not rows.
  const std::string nested =
      R"({"type":"variables","data":{"orgSlug":"o","rows":[)"
      R"({"identifier":"a","variables":{"rows":[1,[2,3]],"data":{"rows":[]},"type":"x"}},)"
      R"({"identifier":"b","variables":{"list":[{"a":[]},null,true,1.5,"s"]}},)"
      R"({"identifier":"c","variables":{}}],"depSlug":"d"}})";
  const response res = c.exchange(webhook(nested));
  ASSERT_EQ(res.result_int(), 200) << res.body();
  EXPECT_EQ(json::parse(res.body())["rows"], 3);
  EXPECT_EQ(r.counts().rows_by_type.at("variables"), 3);
}

TEST(receiver, rejects_invalid_bodies_with_their_faults) {
  receiver r(loopback());
  r.start();
  client c(r.port());
  for (const std::string body :
       {"{not json", R"({"type":"clicks","data":{"orgSlug":"o","depSlug":"d","rows":[]}})"}) {
    const response res = c.exchange(webhook(body));
    ASSERT_EQ(res.result_int(), 400) << body;
    const json answer = json::parse(res.body());
    EXPECT_EQ(answer["error"], "invalid body");
    ASSERT_TRUE(answer["faults"].is_array());
    ASSERT_FALSE(answer["faults"].empty());
    for (const auto& fault : answer["faults"]) {
      EXPECT_TRUE(fault["path"].is_string());
      EXPECT_TRUE(fault["reason"].is_string());
    }
  }
  // The connection stays usable after a 400 on a well-formed request.
  EXPECT_EQ(c.exchange(webhook(variables_body())).result_int(), 200);
  const receiver_counts n = r.counts();
  EXPECT_EQ(n.invalid, 2);
  EXPECT_EQ(n.valid, 1);
  EXPECT_EQ(n.rows_accepted, 1);
  EXPECT_EQ(n.by_status, (std::map<int, std::int64_t>{{200, 1}, {400, 2}}));
}

TEST(receiver, names_the_faulty_field) {
  receiver r(loopback());
  r.start();
  client c(r.port());
  const response res =
      c.exchange(webhook(R"({"type":"clicks","data":{"orgSlug":"o","depSlug":"d","rows":[]}})"));
  ASSERT_EQ(res.result_int(), 400);
  const json answer = json::parse(res.body());
  bool names_type = false;
  for (const auto& fault : answer["faults"]) names_type |= fault["path"] == "/type";
  EXPECT_TRUE(names_type) << res.body();
}

TEST(receiver, refuses_a_missing_or_wrong_auth_string) {
  receiver_config config = loopback();
  config.auth_string = "s3cret-0123456789abcdef";
  receiver r(config);
  r.start();
  client c(r.port());
  request missing = webhook(variables_body());
  request wrong = webhook(variables_body());
  wrong.set(http::field::authorization, "Basic s3cret-0123456789abcdeX");
  request bearer = webhook(variables_body());
  bearer.set(http::field::authorization, "Bearer " + config.auth_string);
  request longer = webhook(variables_body());
  longer.set(http::field::authorization, "Basic " + config.auth_string + "0");
  // Issue 20: two Authorization fields, the first right: only it was checked.
  request twice = webhook(variables_body());
  twice.insert(http::field::authorization, "Basic " + config.auth_string);
  twice.insert(http::field::authorization, "Basic attacker");
  for (const request* req : {&missing, &wrong, &bearer, &longer, &twice}) {
    const response res = c.exchange(*req);
    EXPECT_EQ(res.result_int(), 401);
    EXPECT_EQ(res.body().find("s3cret"), std::string::npos);
  }
  request right = webhook(variables_body());
  right.set(http::field::authorization, "Basic " + config.auth_string);
  EXPECT_EQ(c.exchange(right).result_int(), 200);
  const receiver_counts n = r.counts();
  EXPECT_EQ(n.unauthorized, 5);
  EXPECT_EQ(n.valid, 1);
  EXPECT_EQ(n.by_status, (std::map<int, std::int64_t>{{200, 1}, {401, 5}}));
  EXPECT_EQ(r.counts_json().dump().find("s3cret"), std::string::npos);
}

TEST(receiver, answers_413_beyond_max_body_and_closes) {
  receiver_config config = loopback();
  config.max_body = 1000;
  receiver r(config);
  r.start();
  {
    client c(r.port());
    const response res = c.exchange(webhook(std::string(2000, ' ')));
    EXPECT_EQ(res.result_int(), 413);
    EXPECT_FALSE(res.keep_alive());
    EXPECT_TRUE(c.closed_by_peer());
  }
  {  // Chunked: the limit is found mid-body rather than in Content-Length.
    client c(r.port());
    request req = webhook(std::string(5000, ' '));
    req.chunked(true);
    const response res = c.exchange(req);
    EXPECT_EQ(res.result_int(), 413);
    EXPECT_TRUE(c.closed_by_peer());
  }
  {  // At the limit is fine.
    client c(r.port());
    std::string body = variables_body();
    body.append(1000 - body.size(), ' ');
    EXPECT_EQ(c.exchange(webhook(body)).result_int(), 200);
  }
  const receiver_counts n = r.counts();
  EXPECT_EQ(n.too_large, 2);
  EXPECT_EQ(n.requests, 1);
  EXPECT_EQ(n.by_status, (std::map<int, std::int64_t>{{200, 1}, {413, 2}}));
}

TEST(receiver, answers_431_beyond_max_header) {
  receiver_config config = loopback();
  config.max_header = 1024;
  receiver r(config);
  r.start();
  client c(r.port());
  request req = webhook(variables_body());
  req.set("X-Padding", std::string(2000, 'x'));
  EXPECT_EQ(c.exchange(req).result_int(), 431);
  EXPECT_TRUE(c.closed_by_peer());
}

TEST(receiver, answers_400_to_malformed_http_and_closes) {
  receiver r(loopback());
  r.start();
  client c(r.port());
  ASSERT_FALSE(c.send_raw("GARBAGE\r\n\r\n"));
  auto [ec, res] = c.receive();
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(res.result_int(), 400);
  EXPECT_FALSE(res.keep_alive());
  EXPECT_TRUE(c.closed_by_peer());
  EXPECT_EQ(r.counts().invalid, 0);  // a fault of HTTP, not of a body
}

TEST(receiver, serves_stats_and_health) {
  receiver r(loopback());
  r.start();
  client c(r.port());
  ASSERT_EQ(c.exchange(webhook(variables_body())).result_int(), 200);
  const response stats = c.exchange(get("/stats"));
  ASSERT_EQ(stats.result_int(), 200);
  EXPECT_EQ(stats[http::field::content_type], "application/json");
  const json seen = json::parse(stats.body());
  EXPECT_EQ(seen["connections"], 1);
  EXPECT_EQ(seen["requests"], 2);  // itself included
  EXPECT_EQ(seen["valid"], 1);
  EXPECT_EQ(seen["rows_accepted"], 1);
  EXPECT_EQ(seen["rows_by_type"], json({{"variables", 1}}));
  EXPECT_EQ(seen["by_status"], json({{"200", 1}}));  // not yet its own answer
  EXPECT_EQ(seen["bytes"], variables_body().size());
  for (const char* key : {"invalid", "unauthorized", "too_large", "gap_violations", "dropped"})
    EXPECT_EQ(seen[key], 0) << key;

  const response health = c.exchange(get("/healthz"));
  EXPECT_EQ(health.result_int(), 200);
  EXPECT_EQ(health.body(), "ok");
  EXPECT_EQ(c.exchange(get("/gmetri-webhook")).result_int(), 405);
  request put = webhook(variables_body());
  put.method(http::verb::put);
  EXPECT_EQ(c.exchange(put).result_int(), 405);
  EXPECT_EQ(r.counts().valid, 1);
}

TEST(receiver, keeps_a_connection_alive_across_requests) {
  receiver r(loopback());
  r.start();
  client c(r.port());
  for (int i = 0; i < 5; ++i) EXPECT_EQ(c.exchange(webhook(variables_body())).result_int(), 200);
  EXPECT_EQ(r.counts().connections, 1);
  EXPECT_EQ(r.counts().requests, 5);
}

TEST(receiver, honours_connection_close) {
  receiver r(loopback());
  r.start();
  client c(r.port());
  request req = webhook(variables_body());
  req.keep_alive(false);
  const response res = c.exchange(req);
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_FALSE(res.keep_alive());
  EXPECT_TRUE(c.closed_by_peer());
}

TEST(receiver, sends_100_continue_when_asked) {
  receiver r(loopback());
  r.start();
  client c(r.port());
  const std::string body = variables_body();
  ASSERT_FALSE(
      c.send_raw("POST /hook HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: " +
                 std::to_string(body.size()) + "\r\n\r\n"));
  auto [ec, interim] = c.receive();
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(interim.result_int(), 100);
  ASSERT_FALSE(c.send_raw(body));
  auto [ec2, final_answer] = c.receive();
  ASSERT_FALSE(ec2) << ec2.message();
  EXPECT_EQ(final_answer.result_int(), 200);
}

TEST(receiver, fail_ratio_one_answers_fail_status_every_time) {
  receiver_config config = loopback();
  config.fail_ratio = 1;
  receiver r(config);
  r.start();
  client c(r.port());
  for (int i = 0; i < 3; ++i) EXPECT_EQ(c.exchange(webhook(variables_body())).result_int(), 500);
  const receiver_counts n = r.counts();
  EXPECT_EQ(n.valid, 3);
  EXPECT_EQ(n.rows_accepted, 0);
  EXPECT_TRUE(n.rows_by_type.empty());
  EXPECT_EQ(n.by_status, (std::map<int, std::int64_t>{{500, 3}}));
}

TEST(receiver, answers_the_configured_status) {
  receiver_config config = loopback();
  config.status = 503;
  receiver r(config);
  r.start();
  client c(r.port());
  const response res = c.exchange(webhook(variables_body()));
  EXPECT_EQ(res.result_int(), 503);
  EXPECT_EQ(json::parse(res.body())["ok"], false);
  EXPECT_EQ(r.counts().by_status, (std::map<int, std::int64_t>{{503, 1}}));
}

TEST(receiver, the_same_seed_fails_the_same_requests) {
  const auto statuses = [](std::uint64_t seed) {
    receiver_config config = loopback();
    config.fail_ratio = 0.5;
    config.fail_status = 502;
    config.seed = seed;
    receiver r(config);
    r.start();
    client c(r.port());
    std::vector<unsigned> seen;
    for (int i = 0; i < 40; ++i) seen.push_back(c.exchange(webhook(variables_body())).result_int());
    return seen;
  };
  const auto first = statuses(7);
  EXPECT_EQ(first, statuses(7));
  EXPECT_NE(std::count(first.begin(), first.end(), 200u), 0);
  EXPECT_NE(std::count(first.begin(), first.end(), 502u), 0);
}

TEST(receiver, close_ratio_one_drops_the_connection_unanswered) {
  receiver_config config = loopback();
  config.close_ratio = 1;
  receiver r(config);
  r.start();
  client c(r.port());
  ASSERT_FALSE(c.send(webhook(variables_body())));
  EXPECT_TRUE(c.closed_by_peer());
  const receiver_counts n = r.counts();
  EXPECT_EQ(n.dropped, 1);
  EXPECT_EQ(n.valid, 1);
  EXPECT_TRUE(n.by_status.empty());
  EXPECT_EQ(n.rows_accepted, 0);
}

TEST(receiver, latency_delays_the_answer) {
  receiver_config config = loopback();
  config.latency_min = 50;
  config.latency_max = 50;
  receiver r(config);
  r.start();
  client c(r.port());
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(c.exchange(webhook(variables_body())).result_int(), 200);
  // A lower bound only: a busy machine may take longer.
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(50));
}

// One sequence of valid requests, back to back, checked at each gap scope: a queue is the
// org (webhook, the default), (org, deployment), (org, deployment, type) or everything.
TEST(receiver, counts_gap_violations_per_queue_of_its_gap_scope) {
  struct scope_case {
    pacing_scope scope;
    std::int64_t after_same_stream, after_all;
  };
  // After all five: stream sees 1 (the repeat); deployment adds the rules of (o, d);
  // webhook adds (o, d2) too; endpoint adds (o2, d) as well.
  for (const auto& c : {scope_case{pacing_scope::stream, 1, 1},
                        scope_case{pacing_scope::deployment, 1, 2},
                        scope_case{pacing_scope::webhook, 1, 3},
                        scope_case{pacing_scope::endpoint, 1, 4}}) {
    SCOPED_TRACE(std::string(to_string(c.scope)));
    receiver_config config = loopback();
    config.min_gap = 600'000;  // so that back-to-back requests are always under it
    config.gap_scope = c.scope;
    receiver r(config);
    r.start();
    client cl(r.port());
    ASSERT_EQ(cl.exchange(webhook(variables_body("o", "d"))).result_int(), 200);
    ASSERT_EQ(cl.exchange(webhook(variables_body("o", "d"))).result_int(), 200);
    EXPECT_EQ(r.counts().gap_violations, c.after_same_stream);
    // Another deployment of the org, another type of (o, d), another org. Reported,
    // never punished.
    ASSERT_EQ(cl.exchange(webhook(variables_body("o", "d2"))).result_int(), 200);
    ASSERT_EQ(cl.exchange(webhook(rules_body)).result_int(), 200);
    ASSERT_EQ(cl.exchange(webhook(variables_body("o2", "d"))).result_int(), 200);
    EXPECT_EQ(r.counts().gap_violations, c.after_all);
    // Invalid requests are not part of a queue's pacing.
    ASSERT_EQ(cl.exchange(webhook("{")).result_int(), 400);
    EXPECT_EQ(r.counts().gap_violations, c.after_all);
  }
}

TEST(receiver, no_gap_violation_when_requests_are_far_enough_apart) {
  receiver_config config = loopback();
  config.min_gap = 1;
  config.gap_tolerance = 0;
  receiver r(config);
  r.start();
  client c(r.port());
  ASSERT_EQ(c.exchange(webhook(variables_body())).result_int(), 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_EQ(c.exchange(webhook(variables_body())).result_int(), 200);
  EXPECT_EQ(r.counts().gap_violations, 0);
}

// Arrival jitter, with the clock taken out of it: gaps far longer than any test's, and a
// tolerance that leaves either much or nothing of min_gap.
TEST(receiver, gap_tolerance_forgives_gaps_within_it) {
  receiver_config config = loopback();
  config.min_gap = 600'000;
  config.gap_tolerance = 600'000 - 100;  // only gaps under 100 ms count
  receiver r(config);
  r.start();
  client c(r.port());
  ASSERT_EQ(c.exchange(webhook(variables_body())).result_int(), 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  ASSERT_EQ(c.exchange(webhook(variables_body())).result_int(), 200);
  EXPECT_EQ(r.counts().gap_violations, 0);  // without the tolerance: under 600 s, counted
}

TEST(receiver, gap_tolerance_does_not_forgive_gaps_beyond_it) {
  receiver_config config = loopback();
  config.min_gap = 600'000;
  config.gap_tolerance = 1'000;  // gaps under 599 s count
  receiver r(config);
  r.start();
  client c(r.port());
  ASSERT_EQ(c.exchange(webhook(variables_body())).result_int(), 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  ASSERT_EQ(c.exchange(webhook(variables_body())).result_int(), 200);
  EXPECT_EQ(r.counts().gap_violations, 1);
}

// Any gap under min_gap counts, not only a near-zero one: two requests 1 s apart under a
// 2 s gap (the sleep is a lower bound; the bound holds unless the machine stalls for a
// whole second).
TEST(receiver, a_gap_of_half_min_gap_is_a_violation) {
  receiver_config config = loopback();
  config.min_gap = 2'000;
  config.gap_tolerance = 0;
  receiver r(config);
  r.start();
  client c(r.port());
  ASSERT_EQ(c.exchange(webhook(variables_body())).result_int(), 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(1'000));
  ASSERT_EQ(c.exchange(webhook(variables_body())).result_int(), 200);
  EXPECT_EQ(r.counts().gap_violations, 1);
}

TEST(receiver, closes_connections_beyond_max_connections) {
  receiver_config config = loopback();
  config.max_connections = 1;
  receiver r(config);
  r.start();
  client first(r.port());
  ASSERT_EQ(first.exchange(webhook(variables_body())).result_int(), 200);
  client second(r.port());  // the kernel accepts it; the receiver closes it at once
  EXPECT_TRUE(second.closed_by_peer());
  EXPECT_EQ(first.exchange(webhook(variables_body())).result_int(), 200);
  EXPECT_EQ(r.counts().connections, 1);
}

TEST(receiver, throws_when_the_port_is_taken) {
  receiver first(loopback());
  first.start();
  receiver_config config = loopback();
  const std::string where = "127.0.0.1:" + std::to_string(first.port());
  config.listen = where;
  receiver second(config);
  try {
    second.start();
    FAIL() << "bound a port in use";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("cannot listen on " + where + ": ", 0), 0u) << e.what();
  }
  second.stop();  // harmless after a failed start
}

TEST(receiver, refuses_bad_listen_addresses_and_config) {
  for (const char* bad :
       {"nonsense", "127.0.0.1", "127.0.0.1:", ":8080", "::1:80", "127.0.0.1:65536", "127.0.0.1:8o",
        "[127.0.0.1]:80", "example.com:80", "[::1:80"}) {
    EXPECT_THROW(parse_listen_address(bad), std::invalid_argument) << bad;
    receiver_config config = loopback();
    config.listen = bad;
    EXPECT_THROW(receiver(config).start(), std::invalid_argument) << bad;
  }
  const listen_address v6 = parse_listen_address("[::1]:0");
  EXPECT_EQ(v6.address, "::1");
  EXPECT_EQ(v6.port, 0);
  EXPECT_EQ(parse_listen_address("0.0.0.0:9000").port, 9000);
  EXPECT_EQ(parse_listen_address("localhost:80").address, "127.0.0.1");

  receiver_config config = loopback();
  config.threads = 0;
  EXPECT_THROW(receiver(config).start(), std::invalid_argument);
  config = loopback();
  config.fail_ratio = 1.5;
  EXPECT_THROW(receiver(config).start(), std::invalid_argument);
  config = loopback();
  config.request_timeout = 0;
  EXPECT_THROW(receiver(config).start(), std::invalid_argument);
  config = loopback();
  config.gap_tolerance = -1;
  EXPECT_THROW(receiver(config).start(), std::invalid_argument);
}

TEST(receiver, stop_is_idempotent_and_closes_open_connections) {
  receiver_config config = loopback();
  config.idle_timeout = 600'000;
  config.latency_min = 600'000;  // a request stays waiting on its timer
  receiver r(config);
  r.stop();  // before start: nothing to do
  r.start();
  client idle(r.port());
  client waiting(r.port());
  ASSERT_FALSE(waiting.send(webhook(variables_body())));
  // The receiver may not have read the request yet; wait until it has.
  for (int i = 0; i < 1000 && r.counts().valid == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_EQ(r.counts().valid, 1);
  const auto start = std::chrono::steady_clock::now();
  r.stop();
  // Far below the idle and latency timeouts: stop() did not wait for them.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(60));
  EXPECT_TRUE(idle.closed_by_peer());
  EXPECT_TRUE(waiting.closed_by_peer());
  r.stop();
  EXPECT_EQ(r.counts().connections, 2);  // counts outlive stop()
}

TEST(receiver, counts_stay_consistent_across_threads) {
  receiver_config config = loopback();
  config.threads = 2;
  receiver r(config);
  r.start();
  std::vector<std::thread> senders;
  std::vector<int> ok(4, 0);
  for (int t = 0; t < 4; ++t) {
    senders.emplace_back([&, t] {
      try {
        client c(r.port());
        for (int i = 0; i < 25; ++i)
          ok[t] +=
              c.exchange(webhook(variables_body("o", "d" + std::to_string(t)))).result_int() == 200;
      } catch (const std::exception&) {
        // Counted short below.
      }
    });
  }
  for (auto& s : senders) s.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(ok[t], 25);
  const receiver_counts n = r.counts();
  EXPECT_EQ(n.connections, 4);
  EXPECT_EQ(n.requests, 100);
  EXPECT_EQ(n.valid, 100);
  EXPECT_EQ(n.rows_accepted, 100);
  EXPECT_EQ(n.by_status.at(200), 100);
}

// ---- under abuse ----------------------------------------------------------------------
// Abusive clients (slow, silent, flooding, malformed, not reading) must each be answered or
// cut off within the configured timeouts, while valid requests go on being served. The
// timeouts are short here and the waits bounded by io_limit; nothing asserts a speed.

using namespace std::chrono_literals;

// Timeouts short enough for a test; a long linger, so that a client still dribbling when
// its 408 is sent reads the 408 rather than a reset.
receiver_config guarded(millis request_timeout) {
  receiver_config config = loopback();
  config.request_timeout = request_timeout;
  config.linger_timeout = 5'000;
  return config;
}

// Waits (bounded) until `done` holds.
template <class Done>
bool eventually(Done done) {
  const auto until = std::chrono::steady_clock::now() + io_limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

// Sends `bytes` one at a time, `pause` apart, each well within any request timeout here;
// stops early if the receiver has closed the connection.
void dribble(client& c, const std::string& bytes, std::chrono::milliseconds pause) {
  for (char b : bytes) {
    if (c.send_raw(std::string(1, b))) return;
    std::this_thread::sleep_for(pause);
  }
}

std::string raw_post_head(std::size_t content_length) {
  return "POST /w HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
         "Content-Length: " +
         std::to_string(content_length) + "\r\n\r\n";
}

TEST(receiver_abuse, slowloris_headers_get_408_while_others_are_served) {
  receiver r(guarded(1'000));
  r.start();
  client slow(r.port());
  ASSERT_FALSE(slow.send_raw("POST /w HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "));
  client good(r.port());
  EXPECT_EQ(good.exchange(webhook(variables_body())).result_int(), 200);
  // A byte every 30 ms: each read is quick, the headers never end; 2 s in all.
  dribble(slow, std::string(60, 'a'), 30ms);
  auto [ec, res] = slow.receive();
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(res.result_int(), 408);
  EXPECT_FALSE(res.keep_alive());
  EXPECT_TRUE(slow.closed_by_peer());
  EXPECT_EQ(good.exchange(webhook(variables_body())).result_int(), 200);
  const receiver_counts n = r.counts();
  EXPECT_EQ(n.requests, 2);  // the slow one was never read whole
  EXPECT_EQ(n.by_status, (std::map<int, std::int64_t>{{200, 2}, {408, 1}}));
}

TEST(receiver_abuse, a_slow_body_gets_408) {
  receiver r(guarded(1'000));
  r.start();
  client slow(r.port());
  const std::string body = variables_body();
  ASSERT_FALSE(slow.send_raw(raw_post_head(body.size())));
  dribble(slow, body.substr(0, 60), 30ms);  // 2 s of a body that would have been valid
  auto [ec, res] = slow.receive();
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(res.result_int(), 408);
  EXPECT_TRUE(slow.closed_by_peer());
  client good(r.port());
  EXPECT_EQ(good.exchange(webhook(body)).result_int(), 200);
  const receiver_counts n = r.counts();
  EXPECT_EQ(n.valid, 1);
  EXPECT_EQ(n.by_status, (std::map<int, std::int64_t>{{200, 1}, {408, 1}}));
}

TEST(receiver_abuse, silent_connections_are_closed_unanswered_after_the_request_timeout) {
  receiver_config config = guarded(200);
  config.idle_timeout = 600'000;
  receiver r(config);
  r.start();
  client silent(r.port());
  EXPECT_TRUE(silent.closed_by_peer());  // no byte: nothing to answer, not even 408
  EXPECT_TRUE(r.counts().by_status.empty());
}

TEST(receiver_abuse, kept_alive_connections_get_the_idle_timeout_not_the_request_timeout) {
  receiver_config config = guarded(250);
  config.idle_timeout = 600'000;
  receiver r(config);
  r.start();
  client c(r.port());
  ASSERT_EQ(c.exchange(webhook(variables_body())).result_int(), 200);
  std::this_thread::sleep_for(1s);  // idle four request timeouts, well within the idle one
  EXPECT_EQ(c.exchange(webhook(variables_body())).result_int(), 200);
}

TEST(receiver_abuse, idle_kept_alive_connections_are_closed_after_the_idle_timeout) {
  receiver_config config = guarded(600'000);
  config.idle_timeout = 200;
  receiver r(config);
  r.start();
  client c(r.port());
  ASSERT_EQ(c.exchange(webhook(variables_body())).result_int(), 200);
  EXPECT_TRUE(c.closed_by_peer());
  EXPECT_EQ(r.counts().by_status, (std::map<int, std::int64_t>{{200, 1}}));
}

TEST(receiver_abuse, a_connection_flood_is_capped_and_service_resumes_when_it_times_out) {
  receiver_config config = guarded(3'000);
  config.max_connections = 4;
  receiver r(config);
  r.start();
  std::vector<std::unique_ptr<client>> holders, excess;
  for (int i = 0; i < 4; ++i) holders.push_back(std::make_unique<client>(r.port()));
  ASSERT_TRUE(eventually([&] { return r.counts().connections == 4; }));
  for (int i = 0; i < 8; ++i) excess.push_back(std::make_unique<client>(r.port()));
  for (auto& c : excess) EXPECT_TRUE(c->closed_by_peer());
  EXPECT_EQ(r.counts().connections, 4);  // the excess were closed at once, never admitted
  // The holders send nothing: after the request timeout they are closed, freeing the cap.
  for (auto& c : holders) EXPECT_TRUE(c->closed_by_peer());
  // A holder's place is freed as its session ends, a moment after its socket closes.
  int status = 0;
  ASSERT_TRUE(eventually([&] {
    try {
      client c(r.port());
      status = c.exchange(webhook(variables_body())).result_int();
    } catch (const std::runtime_error&) {
      // Refused: the cap is not free yet.
    }
    return status != 0;
  }));
  EXPECT_EQ(status, 200);
  EXPECT_EQ(r.counts().by_status, (std::map<int, std::int64_t>{{200, 1}}));
}

TEST(receiver_abuse, each_malformed_request_gets_400_and_valid_ones_interleaved_get_200) {
  receiver r(loopback());
  r.start();
  const std::vector<std::string> malformed = {
      "GARBAGE\r\n\r\n",
      [] {
        constexpr char control_method[] = "\0\1\2\3 / HTTP/1.1\r\n\r\n";
        return std::string(control_method, sizeof control_method - 1);
      }(),
      "POST /w HTTP/1.1\r\nno colon\r\n\r\n",
      "POST /w HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
      "POST /w HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n",
      "POST /w HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
      "POST /w HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
      "POST /w HTTP/1.1\r\nHost: x\r\nX: a\rb\r\n\r\n",
      "POST /w HTTP/x.y\r\nHost: x\r\n\r\n",
  };
  client good(r.port());
  constexpr int rounds = 3;
  for (int round = 0; round < rounds; ++round) {
    for (const auto& bytes : malformed) {
      client bad(r.port());
      ASSERT_FALSE(bad.send_raw(bytes));
      auto [ec, res] = bad.receive();
      ASSERT_FALSE(ec) << ec.message() << " for " << json(bytes).dump();
      EXPECT_EQ(res.result_int(), 400) << json(bytes).dump();
      EXPECT_TRUE(bad.closed_by_peer()) << json(bytes).dump();
      EXPECT_EQ(good.exchange(webhook(variables_body())).result_int(), 200);
    }
  }
  const auto n = static_cast<std::int64_t>(rounds * malformed.size());
  EXPECT_EQ(r.counts().by_status, (std::map<int, std::int64_t>{{200, n}, {400, n}}));
}

TEST(receiver_abuse, oversized_headers_and_bodies_are_refused_and_service_goes_on) {
  receiver_config config = loopback();
  config.max_header = 1024;
  config.max_body = 1000;
  receiver r(config);
  r.start();
  const std::vector<std::pair<std::string, int>> abuses = {
      // One header line that never ends: read up to the limit only.
      {"POST /w HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(256 << 10, 'x'), 431},
      // Many small headers.
      {"POST /w HTTP/1.1\r\n" +
           [] {
             std::string h;
             for (int i = 0; i < 200; ++i) h += "X-" + std::to_string(i) + ": y\r\n";
             return h;
           }() +
           "\r\n",
       431},
      // A huge declared body, refused on its Content-Length before any of it is sent.
      {raw_post_head(std::size_t{1} << 40), 413},
      // A body over the limit, sent.
      {raw_post_head(64 << 10) + std::string(64 << 10, ' '), 413},
  };
  client good(r.port());
  for (const auto& [bytes, status] : abuses) {
    client bad(r.port());
    ASSERT_FALSE(bad.send_raw(bytes));
    auto [ec, res] = bad.receive();
    ASSERT_FALSE(ec) << ec.message();
    EXPECT_EQ(res.result_int(), status);
    EXPECT_FALSE(res.keep_alive());
    EXPECT_TRUE(bad.closed_by_peer());
    EXPECT_EQ(good.exchange(webhook(variables_body())).result_int(), 200);
  }
  const receiver_counts n = r.counts();
  EXPECT_EQ(n.too_large, 2);
  EXPECT_EQ(n.by_status, (std::map<int, std::int64_t>{{200, 4}, {413, 2}, {431, 2}}));
}

// A client that pipelines requests and never reads: once the answers fill the socket buffers,
// the receiver's write waits; it gives up after the request timeout and closes, while other
// connections are served. The idle timeout is long, so only the write timeout can close it.
TEST(receiver_abuse, a_client_that_never_reads_is_cut_off_and_does_not_block_others) {
  receiver_config config = guarded(500);
  config.idle_timeout = 600'000;
  receiver r(config);
  r.start();
  // Some 15 MB of answers, more than loopback's socket buffers hold.
  std::string pipeline;
  const std::string stats = "GET /stats HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  for (int i = 0; i < 50'000; ++i) pipeline += stats;

  net::io_context ioc;
  tcp::socket hog(ioc);
  hog.open(tcp::v4());
  hog.set_option(net::socket_base::receive_buffer_size(4096));
  hog.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), r.port()));
  bool wrote = false;
  beast::error_code write_error;
  net::async_write(hog, net::buffer(pipeline), [&](beast::error_code ec, std::size_t) {
    wrote = true;
    write_error = ec;
  });
  // Runs the write until the receiver stops reading (its answers being stuck) and cuts the
  // connection; bounded in any case.
  ioc.run_for(io_limit);
  EXPECT_TRUE(wrote) << "the receiver kept the connection of a client that does not read";

  client good(r.port());
  EXPECT_EQ(good.exchange(webhook(variables_body())).result_int(), 200);

  // Still reading nothing (reading would unstick the receiver's answer): the receiver gives up
  // on it and closes, which, its input unread, resets the connection.
  bool cut = false;
  hog.async_wait(tcp::socket::wait_error, [&](beast::error_code ec) { cut = !ec; });
  ioc.restart();
  ioc.run_for(io_limit);
  EXPECT_TRUE(cut) << "no reset from the receiver";

  // Whatever was answered before the cut, the connection has ended: EOF or reset.
  beast::error_code read_error;
  std::vector<char> sink(1 << 16);
  const auto until = std::chrono::steady_clock::now() + io_limit;
  hog.non_blocking(true);
  while (!read_error && std::chrono::steady_clock::now() < until) {
    hog.read_some(net::buffer(sink), read_error);
    if (read_error == net::error::would_block) {
      read_error = {};
      std::this_thread::sleep_for(5ms);
    }
  }
  EXPECT_TRUE(read_error == net::error::eof || read_error == net::error::connection_reset)
      << read_error.message();
  EXPECT_LT(r.counts().by_status.at(200), 50'000);  // cut off before all were answered
}

// Issue 20: a request answered after --latency when the receiver stops was neither
// answered nor counted (31 of 1,033); now it is counted.
TEST(receiver, an_answer_waiting_out_the_latency_at_stop_is_counted) {
  receiver_config config = loopback();
  config.latency_min = config.latency_max = 60'000;
  receiver r(config);
  r.start();
  client c(r.port());
  ASSERT_FALSE(c.send(webhook(variables_body())));
  ASSERT_TRUE(eventually([&] { return r.counts().valid == 1; }));
  r.stop();
  const receiver_counts n = r.counts();
  EXPECT_EQ(n.unanswered_at_stop, 1);
  EXPECT_EQ(n.rows_accepted, 0);
  EXPECT_EQ(r.counts_json()["unanswered_at_stop"], 1);
}

// Issue 20: the gap check's state kept every (type, orgSlug, depSlug) ever seen (608 MB
// from a stream of unique slugs, never released). Queues idle past min_gap and a second
// are pruned once it holds 1,024.
TEST(receiver, the_gap_checks_state_forgets_idle_queues) {
  receiver r(loopback());
  r.start();
  client c(r.port());
  for (int i = 0; i < 1100; ++i) {
    ASSERT_EQ(c.exchange(webhook(variables_body("early" + std::to_string(i)))).result_int(), 200);
  }
  EXPECT_GE(r.counts().queues_tracked, 1024);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // past the horizon: 0 + 1 s
  for (int i = 0; i < 1100; ++i) {
    ASSERT_EQ(c.exchange(webhook(variables_body("late" + std::to_string(i)))).result_int(), 200);
  }
  // The early ones were pruned when the map next reached its pruning size (2,048, twice
  // what was left after the first prune): the late ones are left, none of the early.
  EXPECT_LE(r.counts().queues_tracked, 1100);
  EXPECT_EQ(r.counts().valid, 2200);
}

// Issue 20: bodies held at once were bounded only by max_connections x max_body (64 GiB):
// 60 clients holding 15 MiB bodies took 1.5 GB. Now a shared budget, 503 past it; what a
// request takes is given back for the next.
TEST(receiver, request_bodies_share_one_memory_budget) {
  receiver_config config = loopback();
  config.max_body_memory = 4096;
  config.max_body = 4096;
  receiver r(config);
  r.start();
  client c(r.port());
  const std::string body = variables_body();
  std::string big = body;  // 3,000 bytes: two at once would not fit
  big.insert(big.size() - 1, std::string(3000 - big.size(), ' '));
  for (int i = 0; i < 20; ++i) {  // on one kept-alive connection: each releases for the next
    ASSERT_EQ(c.exchange(webhook(big)).result_int(), 200) << i;
  }
  for (int i = 0; i < 20; ++i) {  // and on connections that close: the destructor releases
    client once(r.port());
    ASSERT_EQ(once.exchange(webhook(big)).result_int(), 200) << i;
  }
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(c.exchange(webhook(body)).result_int(), 200) << i;
  }
  // Another client holds 3,000 bytes of a body it has not finished sending.
  client holder(r.port());
  ASSERT_FALSE(holder.send_raw(raw_post_head(3000) + std::string(100, ' ')));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  std::string padded = body;
  padded.insert(padded.size() - 1, std::string(1500, ' '));  // 1,500 more bytes: over 4,096
  client late(r.port());
  const response refused = late.exchange(webhook(padded));
  EXPECT_EQ(refused.result_int(), 503);
  EXPECT_EQ(r.counts().busy, 1);
  client small(r.port());
  EXPECT_EQ(small.exchange(webhook(body)).result_int(), 200);  // what fits is still served
}

}  // namespace
}  // namespace gmsim
