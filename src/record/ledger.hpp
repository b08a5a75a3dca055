// The ledger: what a run leaves on disk line by line: the recording (every request,
// for replay) and the lost rows (every row not delivered). Each worker writes its own
// part; the parts are merged at the end in intended-send order, so that the files are
// the same whatever the number of workers.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/duration.hpp"

namespace gmsim {

// One worker's share of an NDJSON file: blocks of lines, each with its sort key.
class ledger_part {
 public:
  ledger_part();  // an anonymous temporary file; throws std::runtime_error if none
  ~ledger_part();
  ledger_part(const ledger_part&) = delete;
  ledger_part& operator=(const ledger_part&) = delete;

  // Appends lines (each ending in '\n', each JSON) under the key (t, stream, sequence).
  // Raw U+2028 and U+2029 are written as the escapes \u2028 and \u2029: line readers
  // other than '\n'-splitting ones (Python's splitlines, editors) break lines at them.
  void append(millis t, std::uint32_t stream, std::uint64_t sequence, std::string_view lines);
  std::size_t blocks() const { return index_.size(); }

 private:
  friend void merge_ledger_parts(const std::vector<ledger_part*>&, std::string_view,
                                 const std::string&);
  struct block {
    millis t;
    std::uint32_t stream;
    std::uint64_t sequence;
    std::uint64_t offset;
    std::uint64_t size;
  };
  std::unique_ptr<char[]> buffer_;  // the file's: a request's lines are a few kB each
  std::FILE* file_;
  std::uint64_t size_ = 0;
  std::vector<block> index_;
};

// Writes header (if not empty; escaped as lines are), then every block of every part ordered by
// (t, stream, sequence), to path. Throws std::runtime_error naming path on failure.
void merge_ledger_parts(const std::vector<ledger_part*>& parts, std::string_view header,
                        const std::string& path);
// merge_ledger_parts, its failure as a reason ("PATH: cannot write: ...") rather than
// thrown; empty when the file was written.
std::string try_merge_ledger_parts(const std::vector<ledger_part*>& parts, std::string_view header,
                                   const std::string& path);

}  // namespace gmsim
