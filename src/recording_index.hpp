// Reading a recording for replay: one checked pass over the file that keeps where each
// request's line is, not its body, so that replaying an hour of traffic needs memory
// for the index only. Bodies are read back from the file when they are sent.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gmsim/profile.hpp"
#include "gmsim/replay.hpp"

namespace gmsim {

struct recorded_request {
  millis t = 0;              // t_ms: intended send time, ms since the recorded run's start
  std::uint64_t offset = 0;  // the line in the file
  std::uint32_t length = 0;
  std::uint32_t line = 0;      // 1-based, for messages and for the order of the replay's files
  std::uint64_t sequence = 0;  // seq: the page's number in its stream
  std::int64_t rows = 0;
};

struct recorded_stream {
  std::string org, dep;
  webhook_type type = webhook_type::variables;
  std::vector<recorded_request> requests;  // in file order
};

struct recording_index {
  recording_header header;
  std::vector<recorded_stream> streams;  // in order of first appearance
  std::size_t deployments = 0;           // distinct (org, dep)
};

// Throws recording_error naming the path, the line and the reason.
recording_index index_recording(const std::string& path);

// The recording opened for reading bodies back; safe to share between threads.
class recording_file {
 public:
  explicit recording_file(const std::string& path);  // throws recording_error
  ~recording_file();
  recording_file(const recording_file&) = delete;
  recording_file& operator=(const recording_file&) = delete;

  // The body of request's line into body; false (with why) when the line no longer
  // reads as it did when indexed (the file changed under the replay).
  bool read_body(const recorded_request& request, std::string& body, std::string& why) const;

 private:
  int fd_ = -1;
};

}  // namespace gmsim
