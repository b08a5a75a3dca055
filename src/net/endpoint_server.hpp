// gmsim's own small HTTP server: GET routes answered by handlers, for the run's
// /metrics (--metrics-listen). One thread, a few connections, short timeouts: it serves
// Prometheus and people, not load, and never slows the run's workers.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace gmsim {

struct endpoint_answer {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

class endpoint_server {
 public:
  using handler = std::function<endpoint_answer()>;

  // listen: "127.0.0.1:9464", "[::1]:0" (net/receiver.hpp: parse_listen_address).
  explicit endpoint_server(std::string listen);
  ~endpoint_server();
  endpoint_server(const endpoint_server&) = delete;
  endpoint_server& operator=(const endpoint_server&) = delete;

  // Before start(): a GET of path (the query ignored) calls h on the server's thread.
  // Other paths are 404, other methods 405.
  void route(std::string path, handler h);
  // Binds and serves on a thread of its own. Throws std::invalid_argument for a bad
  // address, std::runtime_error("cannot listen on ADDR:PORT: <reason>") when it cannot
  // bind. Once only.
  void start();
  // Stops serving and joins the thread; open connections close when the server is
  // destroyed. Idempotent.
  void stop();
  std::uint16_t port() const;  // the bound port (useful with port 0), after start()

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace gmsim
