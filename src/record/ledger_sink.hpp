// A worker's share of the files a run leaves behind: the engine's outcomes written as
// recording lines (every request) and lost-rows lines (every row not delivered), each
// into a ledger part of the worker's own, merged at the end (record/ledger.hpp).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "delivery/engine.hpp"
#include "record/ledger.hpp"

namespace gmsim {

class ledger_sink final : public outcome_sink {
 public:
  // record and lost: whether to keep each file at all.
  ledger_sink(const scenario& model, bool record, bool lost);

  void request_ended(const stream_info& stream, const page& p, millis intended,
                     const request_outcome& outcome, std::int64_t sent_us, std::int64_t latency_us,
                     std::string_view body, bool auth_probe) override;
  void page_unsent(const stream_info& stream, const page& p, millis at,
                   const request_outcome& unsent) override;

  ledger_part* record() const { return record_.get(); }  // null when not kept
  ledger_part* lost() const { return lost_.get(); }

 private:
  void write_lost(const stream_info& stream, const page& p, millis intended,
                  const request_outcome& outcome, bool auth_probe = false);

  const scenario& model_;
  std::unique_ptr<ledger_part> record_, lost_;
  std::string line_;  // reused
};

// The workers' parts merged into the run's files: the recording (after header) at
// record_path and the lost rows at lost_path, each when its path is not empty, each on
// its own. Returns a line for each that could not be written ("--record: PATH: cannot
// write: ..."), none when all were.
std::vector<std::string> merge_ledger_sinks(const std::vector<const ledger_sink*>& sinks,
                                            const std::string& header,
                                            const std::string& record_path,
                                            const std::string& lost_path);

}  // namespace gmsim
