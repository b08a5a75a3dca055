// Recordings, as `gmsim replay` reads them: index_recording() either indexes the file or
// throws recording_error naming the path; every request it indexed reads back with
// read_body(), and its body goes through validate_body() as `gmsim validate` checks it.
// The bytes live in a memfd, so that a run of millions of inputs never touches the disk.
#include <algorithm>
#include <string>

#include "delivery/schema.hpp"
#include "fuzz_target.hpp"
#include "record/recording.hpp"

namespace gmsim::fuzz {

int recording_entry(const std::uint8_t* data, std::size_t size) {
  const memory_file file(data, size);
  recording_index index;
  try {
    index = index_recording(file.path());
  } catch (const recording_error& e) {
    expect(std::string_view(e.what()).starts_with(file.path()), "a recording_error names the path");
    return 0;
  }
  std::size_t requests = 0;
  millis last = 0;
  const recording_file bodies(file.path());
  std::string body, why;
  for (const auto& stream : index.streams) {
    expect(!stream.org.empty() && !stream.dep.empty(), "an indexed stream has its slugs");
    for (const auto& request : stream.requests) {
      ++requests;
      last = std::max(last, request.t);
      expect(request.offset + request.length <= size, "a request's line lies inside the file");
      expect(bodies.read_body(request, body, why), "an indexed request reads back");
      validate_body(body);
    }
  }
  expect(requests == index.header.requests, "the header counts every request indexed");
  expect(last == index.header.last_t_ms, "last_t_ms is the latest request's t_ms");
  expect(index.deployments <= index.streams.size(), "no more deployments than streams");
  return 0;
}

}  // namespace gmsim::fuzz

GMSIM_FUZZ_TARGET(recording_entry)
