// The validating receiver: `gmsim receive`, and the embedded target of `gmsim run`.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>

#include "net/receiver_config.hpp"

namespace gmsim {

class receiver {
 public:
  explicit receiver(receiver_config config);
  ~receiver();
  receiver(const receiver&) = delete;
  receiver& operator=(const receiver&) = delete;

  // Binds and starts serving on its own threads. Throws std::runtime_error("cannot listen on
  // ADDR:PORT: <reason>") when the address cannot be bound (never logs and continues), and
  // std::invalid_argument for a bad listen address or config. Once only.
  void start();
  // Stops accepting, closes connections, joins the threads. Idempotent.
  void stop();
  std::uint16_t port() const;      // the bound port (useful with port 0), after start()
  receiver_counts counts() const;  // a consistent snapshot, callable from any thread
  nlohmann::json counts_json() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};


// "127.0.0.1:8080", "[::1]:0", "0.0.0.0:9000", "localhost:80" (read as 127.0.0.1): an IP
// literal (IPv6 in brackets) and a port. Throws std::invalid_argument with the reason; the
// CLI may call it to refuse a bad --listen early.
struct listen_address {
  std::string address;  // the IP literal, without brackets
  std::uint16_t port = 0;
};
listen_address parse_listen_address(std::string_view text);

}  // namespace gmsim
