// Merging the summary JSONs of a run's shards (`gmsim run --shard I/N --summary-json F`)
// into the summary of the whole run, as one unsharded run would have written it:
// counts add, histograms merge exactly and the percentiles are computed again from them.
#pragma once

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace gmsim {

// An input that cannot be merged. what() is "<path>: <reason>".
class merge_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct summary_file {
  std::string path;  // names the input in errors and in the output's merged_from
  nlohmann::json doc;
};

// Reads a summary JSON and checks that it is one (the contract fields and the
// histograms). Throws merge_error.
summary_file read_summary(const std::string& path);

// Merges inputs (at least one, each checked as read_summary does). Unless force, they must
// be exactly the shards 1/N..N/N of one run (same profile, seed and start time), and the
// result's shard is "1/1"; a mismatch throws merge_error naming the input and what differs.
// With force they merge anyway, and shard is "merged" when they were not such a set.
// Histograms of different resolutions cannot merge, forced or not (merge_error). Fields the
// merge does not know are left out; thresholds come out empty, to be evaluated again.
nlohmann::json merge_summaries(const std::vector<summary_file>& inputs, bool force);

}  // namespace gmsim
