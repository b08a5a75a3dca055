// Driving the gmsim binary from tests as a user would: GMSIM_BIN (set by ctest), else the
// gmsim beside the test binary. Every wait is bounded.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "test_support.hpp"  // scratch_dir

extern char** environ;

namespace gmsim::testing {

inline std::string gmsim_binary() {
  if (const char* bin = std::getenv("GMSIM_BIN")) return bin;
  return (std::filesystem::read_symlink("/proc/self/exe").parent_path() / "gmsim").string();
}

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

inline std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

struct process_result {
  int exit_code = -1;  // -1: killed after the timeout; 128 + N: ended by signal N
  bool timed_out = false;
  std::string out, err;
};

// One gmsim process, its stdout and stderr going to files (no pipe to fill and block it),
// stdin /dev/null. Its environment is ours minus GMSIM_AUTH_STRING, plus `env`.
class gmsim_process {
 public:
  // address_space: when not 0, the child's RLIMIT_AS (`ulimit -v`, in bytes): a
  // memory-capped run.
  gmsim_process(const std::vector<std::string>& args, const std::string& out_path,
                const std::string& err_path, const std::vector<std::string>& env = {},
                std::uint64_t address_space = 0)
      : out_path_(out_path), err_path_(err_path) {
    // Everything the child needs is built before fork(): after it, only async-signal-safe
    // calls, since gtest may have started threads.
    std::vector<std::string> argv_text{gmsim_binary()};
    argv_text.insert(argv_text.end(), args.begin(), args.end());
    std::vector<std::string> env_text;
    for (char** e = environ; *e != nullptr; ++e) {
      if (std::string_view(*e).rfind("GMSIM_AUTH_STRING=", 0) != 0) env_text.emplace_back(*e);
    }
    env_text.insert(env_text.end(), env.begin(), env.end());
    std::vector<char*> argv, envp;
    for (auto& s : argv_text) argv.push_back(s.data());
    argv.push_back(nullptr);
    for (auto& s : env_text) envp.push_back(s.data());
    envp.push_back(nullptr);
    const int out_fd = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    const int err_fd = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    const int in_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      ::dup2(in_fd, 0);
      ::dup2(out_fd, 1);
      ::dup2(err_fd, 2);
      if (address_space != 0) {
        const rlimit cap{address_space, address_space};
        if (::setrlimit(RLIMIT_AS, &cap) != 0) ::_exit(126);
      }
      ::execve(argv[0], argv.data(), envp.data());
      ::_exit(127);
    }
    ::close(out_fd);
    ::close(err_fd);
    ::close(in_fd);
  }
  // Its output in dir, under names of its own.
  gmsim_process(const std::vector<std::string>& args, const scratch_dir& dir,
                const std::vector<std::string>& env = {}, std::uint64_t address_space = 0)
      : gmsim_process(args, dir.file("stdout_" + next_tag()), dir.file("stderr_" + next_tag()), env,
                      address_space) {}
  ~gmsim_process() {
    if (running()) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  gmsim_process(const gmsim_process&) = delete;
  gmsim_process& operator=(const gmsim_process&) = delete;

  bool running() const { return pid_ > 0 && !status_; }
  std::string err_text() const { return read_text(err_path_); }
  void signal(int number) {
    if (running()) ::kill(pid_, number);
  }

  // Waits for the exit; kills the process if it takes longer than timeout (a bound on a
  // hang, never a speed assertion).
  process_result wait(std::chrono::milliseconds timeout) {
    process_result r;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (running() && !reap()) {
      if (std::chrono::steady_clock::now() >= deadline) {
        r.timed_out = true;
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        status_ = -1;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (!r.timed_out && status_) {
      if (WIFEXITED(*status_)) r.exit_code = WEXITSTATUS(*status_);
      if (WIFSIGNALED(*status_)) r.exit_code = 128 + WTERMSIG(*status_);
    }
    r.out = read_text(out_path_);
    r.err = read_text(err_path_);
    return r;
  }

  // Polls stderr until pattern matches (returning the first group, or the match), or the
  // process ends, or the timeout.
  std::optional<std::string> wait_for_err(const std::regex& pattern,
                                          std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      std::smatch m;
      const std::string text = err_text();
      if (std::regex_search(text, m, pattern)) return m.size() > 1 ? m[1].str() : m[0].str();
      if (!running() || reap()) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return std::nullopt;
  }

 private:
  static std::string next_tag() {
    static int counter = 0;
    return std::to_string(getpid()) + "_" + std::to_string(++counter);
  }
  bool reap() {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) != pid_) return false;
    status_ = status;
    return true;
  }

  pid_t pid_ = -1;
  std::optional<int> status_;
  std::string out_path_, err_path_;
};

inline process_result run_gmsim(const std::vector<std::string>& args, const scratch_dir& dir,
                                std::chrono::milliseconds timeout = std::chrono::seconds(120),
                                std::uint64_t address_space = 0) {
  gmsim_process p(args, dir, {}, address_space);
  return p.wait(timeout);
}

// A port nothing listens on right now: bound, then released. Another process could
// take it in between; on a test machine that is rare enough.
inline int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof address;
  int port = -1;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    port = ntohs(address.sin_port);
  }
  ::close(fd);
  return port;
}

inline bool accepts_connections(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return ok;
}

// One HTTP/1.0 request to 127.0.0.1:port (the server closes after its answer): the whole
// response, status line to body; "" when nothing listens.
inline std::string http_request(int port, const std::string& method, const std::string& path) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  std::string response;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
    const std::string request = method + " " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
        static_cast<ssize_t>(request.size())) {
      char buffer[65536];
      ssize_t n = 0;
      while ((n = ::recv(fd, buffer, sizeof buffer, 0)) > 0)
        response.append(buffer, static_cast<std::size_t>(n));
    }
  }
  ::close(fd);
  return response;
}

}  // namespace gmsim::testing
