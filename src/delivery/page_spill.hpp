// Queued pages on disk: past delivery.queue_memory_rows, an engine writes the rows of the
// pages it queues to files of its own and keeps only their place, so that a backlog of
// hours costs disk, not memory. A page is read back when its turn to go out comes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "delivery/aggregator.hpp"

namespace gmsim {

class page_spill {
 public:
  // dir: where the files go ("": $TMPDIR, else /tmp). Nothing is created until the first
  // store(). The files are unlinked from the start (O_TMPFILE): nothing is left behind,
  // whatever way the process ends.
  explicit page_spill(std::string dir);
  ~page_spill();
  page_spill(const page_spill&) = delete;
  page_spill& operator=(const page_spill&) = delete;

  // Moves p's rows and items to disk: p keeps its stream, sequence and tick, and says
  // where the rest is (page::spilled_rows > 0). False, p unchanged, when the write
  // failed (a full disk): failure() then says why, and every later store fails at once.
  bool store(page& p);
  // Puts a stored page's rows and items back. Throws std::runtime_error when they cannot
  // be read: the files are gmsim's own, so that is gmsim's failure, never the receiver's.
  void load(page& p);
  // Gives up a stored page's place without reading it (a page counted unsent, no ledger):
  // p keeps no rows.
  void discard(page& p);

  const std::string& failure() const { return failure_; }
  // On disk now: the bytes of the pages stored and not loaded back (a file is removed
  // when its last page is loaded), and the most there were at once.
  std::uint64_t bytes_held() const { return bytes_held_; }
  std::uint64_t peak_bytes() const { return peak_bytes_; }

  // The directory a spill in dir would use, checked by creating and closing one file
  // there: "" when it can, else why not ("DIR: cannot create a file: REASON").
  static std::string check_directory(const std::string& dir);

  // A file takes pages until it reaches this size; a new one starts then. A file is
  // removed (closed: it has no name) when every page in it is loaded back.
  static constexpr std::uint64_t file_bytes = 64ull << 20;

 private:
  struct file {
    int fd = -1;
    std::uint64_t size = 0;  // written so far
    std::uint64_t live_pages = 0;
    std::uint64_t live_bytes = 0;
  };
  static std::string directory_of(const std::string& dir);
  static int open_file(const std::string& directory, std::string& error);
  void release(std::uint32_t index, std::uint64_t bytes);

  std::string directory_;
  std::vector<file> files_;  // a closed one keeps its slot: pages name it by index
  std::string failure_;
  std::uint64_t bytes_held_ = 0;
  std::uint64_t peak_bytes_ = 0;
};

}  // namespace gmsim
