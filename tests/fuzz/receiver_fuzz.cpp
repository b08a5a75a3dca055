// The receiver's request handling, from the outside: each input is written to a fresh
// loopback connection to an in-process receiver, the client then half-closes and reads until
// the receiver closes too. Whatever the bytes, the receiver answers only in HTTP/1.1 and
// closes the connection within a few seconds of the client's end (no hang). The first byte
// picks the receiver: an open one with the default limits, or a strict one with an auth
// string, small limits and injected faults.
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "fuzz_target.hpp"
#include "net/receiver.hpp"

namespace gmsim::fuzz {
namespace {

constexpr auto close_deadline = std::chrono::seconds(5);

receiver_config open_config() {
  receiver_config c;
  c.listen = "127.0.0.1:0";
  return c;
}

receiver_config strict_config() {
  receiver_config c;
  c.listen = "127.0.0.1:0";
  c.auth_string = "dXNlcjpzZWNyZXQ=";  // user:secret
  c.max_body = 2048;
  c.max_header = 512;
  c.fail_ratio = 0.25;
  c.close_ratio = 0.1;
  c.linger_timeout = 200;
  return c;
}

// Started once for the whole run: libFuzzer calls the entry millions of times, with no
// context to hold them in but a static.
struct receivers {
  receivers() : open(open_config()), strict(strict_config()) {
    open.start();
    strict.start();
  }
  receiver open;
  receiver strict;
};

class client_socket {
 public:
  explicit client_socket(std::uint16_t port)
      : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    if (fd_ < 0) broken("a socket can be made");
    // Closing with a reset leaves no TIME_WAIT behind: thousands of connections a second
    // would otherwise run out of local ports.
    const linger reset{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
    const timeval send_timeout{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof send_timeout);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0)
      broken("the receiver accepts a loopback connection");
  }
  ~client_socket() { ::close(fd_); }
  client_socket(const client_socket&) = delete;
  client_socket& operator=(const client_socket&) = delete;

  // Sends everything, or stops early when the receiver has closed (it may, after a 413).
  void send_all(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
  }
  void end_sending() { ::shutdown(fd_, SHUT_WR); }

  // Everything the receiver answers until it closes; false when it has not closed by then.
  bool read_until_close(std::string& answer, std::chrono::steady_clock::time_point deadline) {
    char buffer[8192];
    while (true) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n <= 0) return true;  // closed, or reset after closing with our bytes unread
      answer.append(buffer, static_cast<std::size_t>(n));
    }
  }

 private:
  int fd_;
};

}  // namespace

int receiver_entry(const std::uint8_t* data, std::size_t size) {
  static receivers targets;
  if (size == 0) return 0;
  receiver& target = data[0] & 1 ? targets.strict : targets.open;
  client_socket client(target.port());
  client.send_all(as_text(data + 1, size - 1));
  client.end_sending();
  std::string answer;
  const bool closed =
      client.read_until_close(answer, std::chrono::steady_clock::now() + close_deadline);
  expect(closed, "the receiver closes the connection after the client's end");
  expect(answer.empty() || answer.starts_with("HTTP/1.1 "), "the receiver answers in HTTP/1.1");
  return 0;
}

}  // namespace gmsim::fuzz

GMSIM_FUZZ_TARGET(receiver_entry)
