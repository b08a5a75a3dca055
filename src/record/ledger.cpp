#include "record/ledger.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <tuple>
#include <vector>

#include "core/file_io.hpp"

namespace gmsim {

namespace {

// U+2028 and U+2029 are valid raw in JSON strings, but many line readers (Python's
// splitlines, editors, log shippers) take them for line breaks. Every line of a ledger
// is JSON, where they can stand only inside strings: each is given to write as the
// escape \u2028 or \u2029 instead, which decodes to the same text. The rest of text
// goes to write unchanged, in as few pieces as there are separators.
template <class Write>
void for_each_escaped(std::string_view text, Write&& write) {
  std::size_t from = 0;
  for (std::size_t i = text.find('\xe2'); i != std::string_view::npos;
       i = text.find('\xe2', i + 1)) {
    if (i + 2 < text.size() && text[i + 1] == '\x80' &&
        (text[i + 2] == '\xa8' || text[i + 2] == '\xa9')) {
      write(text.substr(from, i - from));
      write(text[i + 2] == '\xa8' ? std::string_view("\\u2028") : std::string_view("\\u2029"));
      from = i + 3;
    }
  }
  write(text.substr(from));
}

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

// Where the parts are made, for messages: $TMPDIR's value, or /tmp.
std::string parts_dir() {
  const std::string dir = tmpdir();
  return dir.empty() ? std::string("/tmp") : dir + " ($TMPDIR)";
}

// Reads the blocks of one part back for the merge. A part is written in the order
// requests finish and merged in the order they were meant to start, which is nearly the
// same while streams keep up and far from it in backlog (each stream late by its own
// amount). So the window only moves forward: a block inside it is served from it, the
// block that starts where it ends moves it there, and any other block (behind it, past
// its end, across its edge, or larger than it) is read alone (one system call, where a
// seek and a read were two) and the window stays. No byte enters the window twice, so
// the bytes read are at most the part's size plus those served, whatever the order:
// moving the window to any block that missed it read 200 times the part in backlog.
class part_reader {
 public:
  explicit part_reader(std::FILE* file) : fd_(::fileno(file)), window_(io_buffer_bytes) {}

  // The part's bytes [offset, offset + size), valid until the next call; false with
  // errno set when they cannot be read.
  bool read(std::uint64_t offset, std::uint64_t size, std::string_view& out) {
    const char* from = nullptr;
    std::int64_t got = 0;
    if (offset >= start_ && offset + size <= start_ + filled_) {
      from = window_.data() + (offset - start_);
      got = static_cast<std::int64_t>(size);
    } else if (offset == start_ + filled_ && size <= window_.size()) {
      got = pread_up_to(fd_, window_.data(), window_.size(), offset);  // to the part's end
      start_ = offset;
      filled_ = got < 0 ? 0 : static_cast<std::uint64_t>(got);
      from = window_.data();
    } else {
      single_.resize(size);
      got = pread_up_to(fd_, single_.data(), size, offset);
      from = single_.data();
    }
    if (got < 0) return false;
    if (static_cast<std::uint64_t>(got) < size) {
      errno = EIO;  // the part is shorter than its index: a write was lost
      return false;
    }
    out = std::string_view(from, size);
    return true;
  }

 private:
  int fd_;
  std::vector<char> window_;
  std::vector<char> single_;  // a block read alone
  std::uint64_t start_ = 0;   // the part's offset of window_[0]
  std::uint64_t filled_ = 0;  // bytes of window_ read
};

struct file_closer {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

}  // namespace

ledger_part::ledger_part() : buffer_(new char[part_buffer_bytes]) {
  file_ = anonymous_file(tmpdir());
  if (file_ == nullptr) {
    throw std::runtime_error("cannot create a temporary file in " + parts_dir() + ": " +
                             std::strerror(errno));
  }
  std::setvbuf(file_, buffer_.get(), _IOFBF, part_buffer_bytes);
}

ledger_part::~ledger_part() { std::fclose(file_); }

void ledger_part::append(millis t, std::uint32_t stream, std::uint64_t sequence,
                         std::string_view lines) {
  const std::uint64_t offset = size_;
  for_each_escaped(lines, [this](std::string_view piece) {
    std::fwrite(piece.data(), 1, piece.size(), file_);
    size_ += piece.size();
  });
  index_.push_back(block{t, stream, sequence, offset, size_ - offset});
}

void merge_ledger_parts(const std::vector<ledger_part*>& parts, std::string_view header,
                        const std::string& path) {
  struct entry {
    ledger_part::block b;
    std::size_t part;
  };
  std::vector<entry> all;
  for (std::size_t p = 0; p < parts.size(); ++p) {
    if (std::fflush(parts[p]->file_) != 0 || std::ferror(parts[p]->file_) != 0) {
      throw std::runtime_error(path + ": a temporary part in " + parts_dir() +
                               " could not be written: " + std::strerror(errno));
    }
    for (const auto& b : parts[p]->index_) all.push_back(entry{b, p});
  }
  std::sort(all.begin(), all.end(), [](const entry& x, const entry& y) {
    return std::tie(x.b.t, x.b.stream, x.b.sequence) < std::tie(y.b.t, y.b.stream, y.b.sequence);
  });
  // The buffer first: the file, closed by its owner on any exit, must not outlive it.
  auto out_buffer = std::make_unique<char[]>(io_buffer_bytes);
  std::unique_ptr<std::FILE, file_closer> out(std::fopen(path.c_str(), "wb"));
  if (out == nullptr) {
    throw std::runtime_error(path + ": cannot write: " + std::strerror(errno));
  }
  std::setvbuf(out.get(), out_buffer.get(), _IOFBF, io_buffer_bytes);
  for_each_escaped(header, [&out](std::string_view piece) {
    std::fwrite(piece.data(), 1, piece.size(), out.get());
  });
  std::vector<part_reader> readers;
  for (auto* part : parts) readers.emplace_back(part->file_);
  for (const auto& e : all) {
    std::string_view lines;
    if (!readers[e.part].read(e.b.offset, e.b.size, lines)) {
      throw std::runtime_error(path + ": cannot read back a temporary part: " +
                               std::strerror(errno));
    }
    std::fwrite(lines.data(), 1, lines.size(), out.get());
  }
  const bool write_failed = std::ferror(out.get()) != 0;
  const int write_errno = errno;
  if (std::fclose(out.release()) != 0 || write_failed) {
    throw std::runtime_error(path + ": cannot write: " +
                             std::strerror(write_failed ? write_errno : errno));
  }
}

std::string try_merge_ledger_parts(const std::vector<ledger_part*>& parts, std::string_view header,
                                   const std::string& path) {
  try {
    merge_ledger_parts(parts, header, path);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

}  // namespace gmsim
