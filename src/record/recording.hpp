// The recording (`--record`, docs/reports.md#recording): its one owner. Written by the
// dry run, the live run and the replay alike (recording_header_line, write_request_line),
// and read for replay: one checked pass over the file that keeps where each request's
// line is, not its body, so that replaying an hour of traffic needs memory for the
// index only. Bodies are read back from the file when they are sent.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "delivery/outcome.hpp"
#include "profile/profile.hpp"

namespace gmsim {

// A file that is not a recording. what() is "<path>:<line>: <reason>" (no line when the
// file cannot be read at all).
class recording_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The recording's first line, and what the replay learnt reading the rest.
struct recording_header {
  std::string version;  // of the gmsim that recorded it
  std::string profile;
  std::uint64_t seed = 0;
  millis start_time = 0;
  shard_spec shard;  // "1/1" when the header has none
  bool dry_run = false;
  // The pacing scope the run ran under; a recording from before scopes has none in its
  // header and paced each stream on its own.
  pacing_scope scope = pacing_scope::stream;
  std::size_t requests = 0;  // request lines
  millis last_t_ms = 0;      // the latest intended send time: the recording's length
};

// The first line of a recording, with this gmsim's version (header.version and the
// counts are what a reader learns; they are not written). replay_of, when not empty,
// names the recording that a replay's own recording replays.
std::string recording_header_line(const recording_header& header, std::string_view replay_of = {});

// One request of a recording, as a run or a replay writes it.
struct request_line {
  millis t_ms = 0;  // the intended send time, ms since the run's start
  std::string_view org, dep;
  webhook_type type = webhook_type::variables;
  std::uint64_t sequence = 0;  // the page's number in its stream
  std::int64_t rows = 0;
  const request_outcome* outcome = nullptr;
  std::int64_t sent_us = 0;     // real µs since the run's start
  std::int64_t latency_us = 0;  // from the actual send to the answer
  std::string_view body;        // the exact request body
};
// The line, with its '\n', into out (replacing what out held).
void write_request_line(std::string& out, const request_line& line);

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
