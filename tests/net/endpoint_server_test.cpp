// gmsim's own small HTTP server (--metrics-listen): routes, refusals, a taken port.
#include "net/endpoint_server.hpp"

#include <gtest/gtest.h>

#include <atomic>

#include "binary_support.hpp"

namespace gmsim {
namespace {

using testing::http_request;

TEST(endpoint_server, answers_a_route_and_refuses_the_rest) {
  endpoint_server server("127.0.0.1:0");
  std::atomic<int> calls{0};
  server.route("/metrics", [&calls] {
    calls += 1;
    return endpoint_answer{200, "text/plain; version=0.0.4", "gmsim_up 1\n"};
  });
  server.start();
  const int port = server.port();
  ASSERT_GT(port, 0);
  const std::string ok = http_request(port, "GET", "/metrics?x=1");
  EXPECT_EQ(ok.rfind("HTTP/1.0 200", 0), 0u) << ok;
  EXPECT_NE(ok.find("Content-Type: text/plain; version=0.0.4"), std::string::npos) << ok;
  EXPECT_NE(ok.find("\r\n\r\ngmsim_up 1\n"), std::string::npos) << ok;
  EXPECT_EQ(calls, 1);
  const std::string missing = http_request(port, "GET", "/nothing");
  EXPECT_EQ(missing.rfind("HTTP/1.0 404", 0), 0u) << missing;
  EXPECT_NE(missing.find("/metrics"), std::string::npos) << missing;  // says what it serves
  const std::string post = http_request(port, "POST", "/metrics");
  EXPECT_EQ(post.rfind("HTTP/1.0 405", 0), 0u) << post;
  EXPECT_NE(post.find("Allow: GET"), std::string::npos) << post;
  EXPECT_EQ(calls, 1);
  server.stop();
  EXPECT_EQ(http_request(port, "GET", "/metrics"), "");  // nothing listens any more
}

TEST(endpoint_server, a_taken_port_is_an_error_that_names_it) {
  endpoint_server first("127.0.0.1:0");
  first.start();
  const std::string where = "127.0.0.1:" + std::to_string(first.port());
  endpoint_server second(where);
  try {
    second.start();
    FAIL() << "bound a taken port";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot listen on " + where), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(endpoint_server("nonsense").start(), std::invalid_argument);  // no port
}

}  // namespace
}  // namespace gmsim
