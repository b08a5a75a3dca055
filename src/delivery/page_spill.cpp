#include "delivery/page_spill.hpp"

#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace gmsim {

static_assert(std::is_trivially_copyable_v<page_row> && std::is_trivially_copyable_v<page_item>,
              "a spilled page is its rows' and items' bytes");

page_spill::page_spill(std::string dir) : directory_(directory_of(dir)) {}

page_spill::~page_spill() {
  for (auto& f : files_) {
    if (f.fd >= 0) ::close(f.fd);
  }
}

std::string page_spill::directory_of(const std::string& dir) {
  if (!dir.empty()) return dir;
  const char* tmp = std::getenv("TMPDIR");
  return tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
}

int page_spill::open_file(const std::string& directory, std::string& error) {
  const int fd = ::open(directory.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0) error = directory + ": cannot create a file: " + std::strerror(errno);
  return fd;
}

std::string page_spill::check_directory(const std::string& dir) {
  std::string error;
  const int fd = open_file(directory_of(dir), error);
  if (fd >= 0) ::close(fd);
  return error;
}

namespace {

// Every byte of an iovec array, retried over short writes and EINTR.
bool write_all(int fd, iovec* parts, int count, std::uint64_t offset, std::string& error) {
  while (count > 0) {
    const ssize_t n = ::pwritev(fd, parts, count, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      error = std::strerror(errno);
      return false;
    }
    if (n == 0) {
      error = "wrote nothing";
      return false;
    }
    offset += static_cast<std::uint64_t>(n);
    auto left = static_cast<std::size_t>(n);
    while (count > 0 && left >= parts->iov_len) {
      left -= parts->iov_len;
      ++parts;
      --count;
    }
    if (count > 0) {
      parts->iov_base = static_cast<char*>(parts->iov_base) + left;
      parts->iov_len -= left;
    }
  }
  return true;
}

bool read_all(int fd, void* into, std::size_t size, std::uint64_t offset) {
  auto* at = static_cast<char*>(into);
  while (size > 0) {
    const ssize_t n = ::pread(fd, at, size, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    at += n;
    size -= static_cast<std::size_t>(n);
    offset += static_cast<std::uint64_t>(n);
  }
  return true;
}

}  // namespace

bool page_spill::store(page& p) {
  if (!failure_.empty() || p.spilled_rows > 0 || p.rows.empty()) return false;
  if (files_.empty() || files_.back().fd < 0 || files_.back().size >= file_bytes) {
    std::string error;
    const int fd = open_file(directory_, error);
    if (fd < 0) {
      failure_ = error;
      return false;
    }
    files_.push_back(file{fd, 0, 0, 0});
  }
  file& f = files_.back();
  const std::size_t row_bytes = p.rows.size() * sizeof(page_row);
  const std::size_t item_bytes = p.items.size() * sizeof(page_item);
  iovec parts[2] = {{p.rows.data(), row_bytes}, {p.items.data(), item_bytes}};
  std::string error;
  if (!write_all(f.fd, parts, item_bytes > 0 ? 2 : 1, f.size, error)) {
    failure_ = directory_ + ": cannot write queued pages to disk: " + error;
    return false;
  }
  p.spill_file = static_cast<std::uint32_t>(files_.size() - 1);
  p.spill_offset = f.size;
  p.spilled_rows = static_cast<std::uint32_t>(p.rows.size());
  p.spilled_items = static_cast<std::uint32_t>(p.items.size());
  const std::uint64_t bytes = row_bytes + item_bytes;
  f.size += bytes;
  f.live_pages += 1;
  f.live_bytes += bytes;
  bytes_held_ += bytes;
  if (bytes_held_ > peak_bytes_) peak_bytes_ = bytes_held_;
  // The memory goes too, not only the size: a backlog's pages would keep their capacity.
  std::vector<page_row>().swap(p.rows);
  std::vector<page_item>().swap(p.items);
  return true;
}

void page_spill::load(page& p) {
  if (p.spilled_rows == 0) return;
  if (p.spill_file >= files_.size() || files_[p.spill_file].fd < 0) {
    throw std::runtime_error("a queued page's spill file is gone (gmsim's own failure)");
  }
  const file& f = files_[p.spill_file];
  p.rows.resize(p.spilled_rows);
  p.items.resize(p.spilled_items);
  const std::size_t row_bytes = p.rows.size() * sizeof(page_row);
  const std::size_t item_bytes = p.items.size() * sizeof(page_item);
  if (!read_all(f.fd, p.rows.data(), row_bytes, p.spill_offset) ||
      !read_all(f.fd, p.items.data(), item_bytes, p.spill_offset + row_bytes)) {
    throw std::runtime_error("cannot read back queued pages from " + directory_ + ": " +
                             std::strerror(errno));
  }
  const std::uint32_t index = p.spill_file;
  p.spilled_rows = 0;
  p.spilled_items = 0;
  p.spill_file = 0;
  p.spill_offset = 0;
  release(index, row_bytes + item_bytes);
}

void page_spill::discard(page& p) {
  if (p.spilled_rows == 0) return;
  const std::uint64_t bytes = std::uint64_t{p.spilled_rows} * sizeof(page_row) +
                              std::uint64_t{p.spilled_items} * sizeof(page_item);
  const std::uint32_t index = p.spill_file;
  p.spilled_rows = 0;
  p.spilled_items = 0;
  p.spill_file = 0;
  p.spill_offset = 0;
  if (index < files_.size() && files_[index].fd >= 0) release(index, bytes);
}

void page_spill::release(std::uint32_t index, std::uint64_t bytes) {
  file& f = files_[index];
  f.live_pages -= 1;
  f.live_bytes -= bytes;
  bytes_held_ -= bytes;
  if (f.live_pages != 0) return;
  // A file no page needs any more goes; the one pages are still added to starts over.
  const bool current = index + 1 == files_.size() && f.size < file_bytes;
  if (current && ::ftruncate(f.fd, 0) == 0) {
    f.size = 0;
  } else {
    ::close(f.fd);
    f.fd = -1;
  }
}

}  // namespace gmsim
