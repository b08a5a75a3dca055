#include "core/file_io.hpp"

#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <system_error>

namespace gmsim {

std::string read_whole_file(const std::string& path, std::uint64_t max_bytes,
                            const std::string& what) {
  const auto cannot_read = [&](int error) {
    throw std::runtime_error(path + ": cannot read: " + std::generic_category().message(error));
  };
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                       &std::fclose);
  if (!file) cannot_read(errno);
  std::string text;
  char buffer[65536];
  while (true) {
    const std::size_t n = std::fread(buffer, 1, sizeof buffer, file.get());
    text.append(buffer, n);
    if (text.size() > max_bytes) {
      throw std::runtime_error(path + ": larger than " + std::to_string(max_bytes >> 20) +
                               " MiB, the most a " + what + " may be");
    }
    if (n < sizeof buffer) break;
  }
  // A directory opens, and its first read fails with EISDIR.
  if (std::ferror(file.get())) cannot_read(errno);
  return text;
}

}  // namespace gmsim
