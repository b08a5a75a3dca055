// What the tests of the gmsim binary share: a scratch directory per test, the binary run
// as a user runs it (tests/binary_support.hpp), and the checks every command's errors
// pass. ctest sets GMSIM_BIN (the built binary) and GMSIM_SOURCE_DIR; run by hand, the
// binary beside gmsim_tests is used. The only network is loopback.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "binary_support.hpp"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;
using args = std::vector<std::string>;
using command_result = gmsim::testing::process_result;
using gmsim::testing::gmsim_process;
using gmsim::testing::read_text;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

fs::path source_dir() {
  if (const char* dir = std::getenv("GMSIM_SOURCE_DIR")) return dir;
  return fs::path(__FILE__).parent_path().parent_path().parent_path();  // tests/cli/ -> the root
}

// Each test gets a scratch directory and runs gmsim with it.
class cli : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "gmsim_cli_XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    scratch_ = pattern;
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(scratch_, ignored);
  }

  fs::path path(const std::string& name) const { return scratch_ / name; }
  std::string file(const std::string& name) const { return path(name).string(); }

  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(path(name), std::ios::binary) << text;
    return file(name);
  }

  std::unique_ptr<gmsim_process> start(const args& arguments,
                                       const std::vector<std::string>& env = {}) {
    ++commands_;
    auto stem = "cmd" + std::to_string(commands_);
    return std::make_unique<gmsim_process>(arguments, file(stem + ".out"), file(stem + ".err"),
                                           env);
  }

  // Runs gmsim to its end. The timeout only bounds a hang; it is no speed assertion.
  command_result gmsim(const args& arguments, std::chrono::milliseconds timeout = 120s,
                       const std::vector<std::string>& env = {}) {
    auto r = start(arguments, env)->wait(timeout);
    EXPECT_FALSE(r.timed_out) << "gmsim " << testing::PrintToString(arguments) << " hung";
    return r;
  }

  // Starts `gmsim receive` on a free loopback port; returns the port, or 0.
  int start_receiver(std::unique_ptr<gmsim_process>& process, args extra) {
    args a = {"receive", "--listen", "127.0.0.1:0", "--quiet"};
    a.insert(a.end(), extra.begin(), extra.end());
    process = start(a);
    auto port =
        process->wait_for_err(std::regex("listening on http://127\\.0\\.0\\.1:(\\d+)/"), 20s);
    EXPECT_TRUE(port.has_value()) << process->err_text();
    return port ? std::stoi(*port) : 0;
  }

  json read_json(const std::string& name) const {
    return json::parse(read_text(path(name)), nullptr, false);
  }

  fs::path scratch_;
  int commands_ = 0;
};

// Exit 2, nothing on stdout, exactly one line on stderr, naming each of `mentions`.
void expect_usage_error(const command_result& r, const std::vector<std::string>& mentions) {
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(lines_of(r.err).size(), 1u) << r.err;
  for (const auto& m : mentions)
    EXPECT_NE(r.err.find(m), std::string::npos) << "no '" << m << "' in: " << r.err;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A socket listening on 127.0.0.1 at a free port, which the kernel's backlog lets
// clients connect to whether or not anyone accepts; -1 if it cannot be made.
inline int listen_on_loopback(int& port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof address;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), size) != 0 || ::listen(fd, 64) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) != 0) {
    ::close(fd);
    return -1;
  }
  port = ntohs(address.sin_port);
  return fd;
}

// Every field of DESIGN.md's summary contract, with its JSON type.
inline void expect_summary_contract(const json& s) {
  ASSERT_TRUE(s.is_object()) << "not a JSON object";
  EXPECT_TRUE(s["version"].is_string());
  EXPECT_TRUE(s["profile"].is_string());
  EXPECT_TRUE(s["seed"].is_number_unsigned() || s["seed"].is_number_integer());
  EXPECT_TRUE(s["shard"].is_string());
  EXPECT_TRUE(s["events"]["generated"].is_number_integer());
  for (const char* k : {"attempted", "delivered", "rejected", "failed", "unsent"}) {
    EXPECT_TRUE(s["requests"][k].is_number_integer()) << "requests." << k;
  }
  for (const char* k : {"by_status", "by_error"}) {
    ASSERT_TRUE(s["requests"][k].is_object()) << "requests." << k;
    for (const auto& [key, n] : s["requests"][k].items()) EXPECT_TRUE(n.is_number_integer()) << key;
  }
  for (const char* k : {"generated", "delivered", "rejected", "failed", "unsent"}) {
    EXPECT_TRUE(s["rows"][k].is_number_integer()) << "rows." << k;
  }
  for (const char* k : {"variables", "rules", "session"}) {
    EXPECT_TRUE(s["rows"]["by_type"][k].is_number_integer()) << "rows.by_type." << k;
  }
  for (const char* h : {"latency_ms", "latency_uncorrected_ms"}) {
    for (const char* k : {"p50", "p90", "p99", "p999", "max"})
      EXPECT_TRUE(s[h][k].is_number()) << h << "." << k;
  }
  for (const char* k : {"p50", "p90", "p99", "max"})
    EXPECT_TRUE(s["delivery_lag_ms"][k].is_number()) << k;
  EXPECT_TRUE(s["thresholds"].is_array());
  const auto& rows = s["rows"];
  if (rows["generated"].is_number_integer()) {
    EXPECT_EQ(rows["generated"].get<std::int64_t>(),
              rows["delivered"].get<std::int64_t>() + rows["rejected"].get<std::int64_t>() +
                  rows["failed"].get<std::int64_t>() + rows["unacknowledged"].get<std::int64_t>() +
                  rows["unsent"].get<std::int64_t>() + rows["auth_probes"].get<std::int64_t>());
    std::int64_t by_type = 0;
    for (const auto& [type, n] : rows["by_type"].items()) by_type += n.get<std::int64_t>();
    EXPECT_EQ(by_type, rows["generated"].get<std::int64_t>());
  }
}

}  // namespace
