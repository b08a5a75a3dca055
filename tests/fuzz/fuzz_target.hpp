// A fuzz target is one entry function over arbitrary bytes. Built with GMSIM_LIBFUZZER (the
// clang build of scripts/fuzz) it is libFuzzer's LLVMFuzzerTestOneInput; in the normal build
// gmsim_fuzz_replay calls every entry on every seed of its corpus instead.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace gmsim::fuzz {

using entry_function = int (*)(const std::uint8_t* data, std::size_t size);

int profile_entry(const std::uint8_t* data, std::size_t size);
int duration_entry(const std::uint8_t* data, std::size_t size);
int threshold_entry(const std::uint8_t* data, std::size_t size);
int schema_entry(const std::uint8_t* data, std::size_t size);
int recording_entry(const std::uint8_t* data, std::size_t size);
int receiver_entry(const std::uint8_t* data, std::size_t size);

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

}  // namespace gmsim::fuzz

#ifdef GMSIM_LIBFUZZER
#define GMSIM_FUZZ_TARGET(entry)                                                      \
  extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) { \
    return gmsim::fuzz::entry(data, size);                                            \
  }
#else
#define GMSIM_FUZZ_TARGET(entry)
#endif
