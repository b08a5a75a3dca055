#include "gmsim/ledger.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <tuple>
#include <vector>

namespace gmsim {

namespace {

// $TMPDIR when it is set (the convention of mktemp and sort), else "".
std::string tmpdir() {
  const char* dir = std::getenv("TMPDIR");
  return dir != nullptr ? dir : "";
}

// An anonymous file in dir, or where tmpfile() puts it (/tmp) when dir is "".
std::FILE* anonymous_file(const std::string& dir) {
  if (dir.empty()) return std::tmpfile();
  std::string path = dir + "/gmsim-ledger-XXXXXX";
  int fd = ::mkstemp(path.data());
  if (fd < 0) return nullptr;
  ::unlink(path.c_str());
  std::FILE* file = ::fdopen(fd, "w+b");
  if (file == nullptr) ::close(fd);
  return file;
}

// stdio's own buffer is a page: a request's record (its body escaped, a few kB) was a
// write(2) of its own. A part writes this much at once, on the worker's thread between
// two requests: 64 kB takes tens of µs, where 1 MiB took about a millisecond, which
// showed in the sender's lateness (p99 0.5 ms became 2 ms at 1,002 streams).
constexpr std::size_t part_buffer_bytes = std::size_t{64} << 10;
// The merge, after the run, reads and writes this much at once.
constexpr std::size_t io_buffer_bytes = std::size_t{1} << 20;

// Reads the blocks of one part back for the merge, through a window read ahead: in the
// merged order a part's blocks come nearly in the order they were written, so most are
// served from the window, where a seek and a read cost two system calls a block.
class part_reader {
 public:
  explicit part_reader(std::FILE* file) : fd_(::fileno(file)) {}

  // The part's bytes [offset, offset + size), valid until the next call; false when
  // they cannot be read.
  bool read(std::uint64_t offset, std::uint64_t size, std::string_view& out) {
    if (offset < start_ || offset + size > start_ + filled_) {
      if (window_.size() < std::max<std::uint64_t>(size, io_buffer_bytes)) {
        window_.resize(std::max<std::uint64_t>(size, io_buffer_bytes));
      }
      start_ = offset;
      filled_ = 0;
      while (filled_ < window_.size()) {
        const ssize_t n = ::pread(fd_, window_.data() + filled_, window_.size() - filled_,
                                  static_cast<off_t>(offset + filled_));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        filled_ += static_cast<std::uint64_t>(n);
      }
      if (filled_ < size) return false;
    }
    out = std::string_view(window_.data() + (offset - start_), size);
    return true;
  }

 private:
  int fd_;
  std::vector<char> window_;
  std::uint64_t start_ = 0;   // the part's offset of window_[0]
  std::uint64_t filled_ = 0;  // bytes of window_ read
};

}  // namespace

ledger_part::ledger_part() : buffer_(new char[part_buffer_bytes]) {
  const std::string dir = tmpdir();
  file_ = anonymous_file(dir);
  if (file_ == nullptr) {
    throw std::runtime_error("cannot create a temporary file in " +
                             (dir.empty() ? std::string("/tmp") : dir + " ($TMPDIR)") + ": " +
                             std::strerror(errno));
  }
  std::setvbuf(file_, buffer_.get(), _IOFBF, part_buffer_bytes);
}

ledger_part::~ledger_part() { std::fclose(file_); }

void ledger_part::append(millis t, std::uint32_t stream, std::uint64_t sequence,
                         std::string_view lines) {
  std::fwrite(lines.data(), 1, lines.size(), file_);
  index_.push_back(block{t, stream, sequence, size_, lines.size()});
  size_ += lines.size();
}

void merge_ledger_parts(const std::vector<ledger_part*>& parts, std::string_view header,
                        const std::string& path) {
  struct entry {
    ledger_part::block b;
    std::size_t part;
  };
  std::vector<entry> all;
  for (std::size_t p = 0; p < parts.size(); ++p) {
    std::fflush(parts[p]->file_);
    for (const auto& b : parts[p]->index_) all.push_back(entry{b, p});
  }
  std::sort(all.begin(), all.end(), [](const entry& x, const entry& y) {
    return std::tie(x.b.t, x.b.stream, x.b.sequence) < std::tie(y.b.t, y.b.stream, y.b.sequence);
  });
  std::FILE* out = std::fopen(path.c_str(), "wb");
  if (out == nullptr) {
    throw std::runtime_error(path + ": cannot write: " + std::strerror(errno));
  }
  auto out_buffer = std::make_unique<char[]>(io_buffer_bytes);
  std::setvbuf(out, out_buffer.get(), _IOFBF, io_buffer_bytes);
  std::fwrite(header.data(), 1, header.size(), out);
  std::vector<part_reader> readers;
  for (auto* part : parts) readers.emplace_back(part->file_);
  for (const auto& e : all) {
    std::string_view lines;
    if (!readers[e.part].read(e.b.offset, e.b.size, lines)) {
      std::fclose(out);
      throw std::runtime_error(path + ": cannot read back a temporary part");
    }
    std::fwrite(lines.data(), 1, lines.size(), out);
  }
  if (std::fclose(out) != 0) {
    throw std::runtime_error(path + ": cannot write: " + std::strerror(errno));
  }
}

}  // namespace gmsim
