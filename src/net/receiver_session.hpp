// Inside the receiver: the state its listener and connections share, and the per-connection
// HTTP session. Kept apart from receiver.cpp so that the listener's file does not carry
// Beast's HTTP parser, and the session's timeouts read in one place.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <unordered_map>

#include "net/receiver_config.hpp"

namespace gmsim::receiver_detail {

// What the receiver needs of a valid body beyond validate_body's verdict.
struct page_info {
  std::string type, org, dep;
  std::int64_t rows = 0;
};

// One accepted connection, serving requests until it is closed or times out.
class session {
 public:
  virtual ~session() = default;
  // Starts reading requests; `id` is the connection's accept order.
  virtual void run(std::uint64_t id) = 0;
  // From any thread: closes the connection on its strand.
  virtual void close() = 0;
};

// Shared by the listener, the sessions and the receiver object; held by shared_ptr so that
// handlers destroyed with the io_context never outlive it.
struct shared_state {
  explicit shared_state(receiver_config c) : config(std::move(c)) {}
  const receiver_config config;

  // Guards counts and last_valid; held for a few map updates at a time.
  mutable std::mutex counts_mutex;
  receiver_counts counts;
  std::map<std::tuple<std::string, std::string, std::string>, std::chrono::steady_clock::time_point>
      last_valid;
  // With a capacity: when the single worker is free again (receiver_config).
  std::chrono::steady_clock::time_point busy_until{};
  // last_valid is pruned of queues idle past min_gap when it reaches this size: a stream of
  // unique (type, orgSlug, depSlug) grew it to 608 MB before, never released.
  std::size_t prune_at = 1024;
  // Body bytes reserved by the connections reading or holding a request (max_body_memory).
  std::size_t body_bytes = 0;

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
  // Counts a valid request and checks its stream's gap.
  void note_valid(const page_info& page, std::chrono::steady_clock::time_point arrival);
  // With a capacity: how long the answer to a page of `rows` arriving now waits for the
  // worker to serve it (its own service time included); zero without one.
  std::chrono::microseconds serve(std::int64_t rows, std::chrono::steady_clock::time_point now);
  // Returns the connection's accept order, or nothing when it must be refused.
  std::optional<std::uint64_t> admit(const std::shared_ptr<session>& s);
  // Takes bytes of max_body_memory for a request's body; false when they are not free.
  bool reserve_body(std::size_t bytes);
  void release_body(std::size_t bytes);
  void forget(std::uint64_t id);
};

// A session for an accepted socket, not yet admitted nor running.
std::shared_ptr<session> make_session(boost::asio::ip::tcp::socket&& socket,
                                      std::shared_ptr<shared_state> state);

}  // namespace gmsim::receiver_detail
