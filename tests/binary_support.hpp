// Driving the gmsim binary from tests as a user would: GMSIM_BIN (set by ctest), else the
// gmsim beside the test binary. Every wait is bounded.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "test_support.hpp"  // scratch_dir

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
  int exit_code = -1;  // -1: killed after the timeout
  std::string out, err;
};

// The binary running with args, its stdout and stderr going to files.
class gmsim_process {
 public:
  gmsim_process(const std::vector<std::string>& args, const scratch_dir& dir) {
    static int counter = 0;
    const std::string tag = std::to_string(getpid()) + "_" + std::to_string(++counter);
    out_path_ = dir.file("stdout_" + tag);
    err_path_ = dir.file("stderr_" + tag);
    std::vector<std::string> argv_text{gmsim_binary()};
    argv_text.insert(argv_text.end(), args.begin(), args.end());
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      int out = ::open(out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      int err = ::open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      dup2(out, 1);
      dup2(err, 2);
      std::vector<char*> argv;
      for (auto& s : argv_text) argv.push_back(s.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
  }
  ~gmsim_process() {
    if (pid_ > 0 && !done_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

  void signal(int number) { kill(pid_, number); }

  // Waits at most timeout; kills the process past it (exit_code -1).
  process_result wait(std::chrono::milliseconds timeout) {
    process_result r;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    int status = 0;
    for (;;) {
      pid_t done = waitpid(pid_, &status, WNOHANG);
      if (done == pid_) {
        r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        break;
      }
      if (std::chrono::steady_clock::now() > deadline) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    done_ = true;
    r.out = read_text(out_path_);
    r.err = read_text(err_path_);
    return r;
  }

 private:
  pid_t pid_ = -1;
  bool done_ = false;
  std::string out_path_, err_path_;
};

inline process_result run_gmsim(const std::vector<std::string>& args, const scratch_dir& dir,
                                std::chrono::milliseconds timeout = std::chrono::seconds(120)) {
  gmsim_process p(args, dir);
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

}  // namespace gmsim::testing
