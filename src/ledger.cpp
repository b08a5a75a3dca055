#include "gmsim/ledger.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <tuple>

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

}  // namespace

ledger_part::ledger_part() {
  const std::string dir = tmpdir();
  file_ = anonymous_file(dir);
  if (file_ == nullptr) {
    throw std::runtime_error("cannot create a temporary file in " +
                             (dir.empty() ? std::string("/tmp") : dir + " ($TMPDIR)") + ": " +
                             std::strerror(errno));
  }
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
  std::fwrite(header.data(), 1, header.size(), out);
  std::string buffer;
  for (const auto& e : all) {
    std::FILE* in = parts[e.part]->file_;
    buffer.resize(e.b.size);
    if (std::fseek(in, static_cast<long>(e.b.offset), SEEK_SET) != 0 ||
        std::fread(buffer.data(), 1, e.b.size, in) != e.b.size) {
      std::fclose(out);
      throw std::runtime_error(path + ": cannot read back a temporary part");
    }
    std::fwrite(buffer.data(), 1, buffer.size(), out);
  }
  for (auto* part : parts) std::fseek(part->file_, 0, SEEK_END);
  if (std::fclose(out) != 0) {
    throw std::runtime_error(path + ": cannot write: " + std::strerror(errno));
  }
}

}  // namespace gmsim
