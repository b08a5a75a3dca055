// The GMetri webhook contract, checked: shared by `gmsim validate` and the receiver.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace gmsim {

struct schema_fault {
  std::string path;    // JSON Pointer of the offending value, "" for the whole body
  std::string reason;  // "expected a string, got number"
};

struct schema_limits {
  std::size_t max_rows = 500;   // GMetri sends at most 500 rows per request
  std::size_t max_faults = 20;  // stop collecting after this many (at least 1 is kept)
  std::size_t max_depth = 512;  // deeper nesting is refused while parsing, before it is built
};

// Checks one request body against the contract in reference/README.md (the TypeScript
// types, not the hand-written examples). Returns every fault found, up to
// limits.max_faults; empty means valid. Never throws, whatever the bytes.
std::vector<schema_fault> validate_body(std::string_view body, const schema_limits& limits = {});

}  // namespace gmsim
