// A fuzz target is one entry function over arbitrary bytes. Built with GMSIM_LIBFUZZER (the
// clang build of scripts/fuzz) it is libFuzzer's LLVMFuzzerTestOneInput; in the normal build
// gmsim_fuzz_replay calls every entry on every seed of its corpus instead.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace gmsim::fuzz {

using entry_function = int (*)(const std::uint8_t* data, std::size_t size);

int profile_entry(const std::uint8_t* data, std::size_t size);
int duration_entry(const std::uint8_t* data, std::size_t size);
int threshold_entry(const std::uint8_t* data, std::size_t size);
int schema_entry(const std::uint8_t* data, std::size_t size);
int recording_entry(const std::uint8_t* data, std::size_t size);
int receiver_entry(const std::uint8_t* data, std::size_t size);
int merge_entry(const std::uint8_t* data, std::size_t size);

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// A broken promise of the code under test: abort, which both libFuzzer and ctest count as a
// failure, after saying which promise.
[[noreturn]] inline void broken(std::string_view promise) {
  std::fprintf(stderr, "fuzz: broken promise: %.*s\n", static_cast<int>(promise.size()),
               promise.data());
  std::abort();
}
inline void expect(bool holds, std::string_view promise) {
  if (!holds) broken(promise);
}

// The input as a file, for the entries that read files (recordings, summaries): a memfd,
// so that millions of inputs never touch the disk; it closes with the input.
class memory_file {
 public:
  memory_file(const std::uint8_t* data, std::size_t size)
      : fd_(::memfd_create("gmsim-fuzz-input", MFD_CLOEXEC)) {
    if (fd_ < 0) broken("memfd_create works");
    for (std::size_t done = 0; done < size;) {
      const ssize_t n = ::write(fd_, data + done, size - done);
      if (n <= 0) broken("a memfd takes the whole input");
      done += static_cast<std::size_t>(n);
    }
    path_ = "/proc/self/fd/" + std::to_string(fd_);
  }
  ~memory_file() { ::close(fd_); }
  memory_file(const memory_file&) = delete;
  memory_file& operator=(const memory_file&) = delete;
  const std::string& path() const { return path_; }

 private:
  int fd_;
  std::string path_;
};

}  // namespace gmsim::fuzz

#ifdef GMSIM_LIBFUZZER
#define GMSIM_FUZZ_TARGET(entry)                                                      \
  extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) { \
    return gmsim::fuzz::entry(data, size);                                            \
  }
#else
#define GMSIM_FUZZ_TARGET(entry)
#endif
