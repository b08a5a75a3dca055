// Small file helpers: a whole file read at once (profiles, bodies to validate), and reads
// back by offset (the ledger's merge, the recording's replay).
#pragma once

#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <string>

namespace gmsim {

// Reads up to size bytes of fd at offset into p, retrying short reads and EINTR.
// Returns the bytes read, fewer than size only at the end of the file, or -1 with
// errno set.
inline std::int64_t pread_up_to(int fd, char* p, std::uint64_t size, std::uint64_t offset) {
  std::uint64_t done = 0;
  while (done < size) {
    const ssize_t n = ::pread(fd, p + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    if (n == 0) break;
    done += static_cast<std::uint64_t>(n);
  }
  return static_cast<std::int64_t>(done);
}

// The whole file at path, of at most max_bytes. Throws std::runtime_error "<path>: cannot
// read: <reason>" (a directory included: a stream would open it and read nothing), or
// "<path>: larger than N MiB, the most a <what> may be" (`gmsim run /dev/zero` read until
// memory ran out); callers turn it into their own error kind.
std::string read_whole_file(const std::string& path, std::uint64_t max_bytes,
                            const std::string& what);

}  // namespace gmsim
