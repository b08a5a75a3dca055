// Request bodies, as the receiver and `gmsim validate` check them: validate_body() never
// throws, keeps to its limits, and calls valid only what is a JSON object (strict JSON,
// as any receiver's parser would read it).
#include <nlohmann/json.hpp>

#include "delivery/schema.hpp"
#include "fuzz_target.hpp"

namespace gmsim::fuzz {

int schema_entry(const std::uint8_t* data, std::size_t size) {
  const std::string_view body = as_text(data, size);
  const auto faults = validate_body(body);
  expect(faults.size() <= schema_limits{}.max_faults, "at most max_faults faults");
  if (faults.empty()) {
    const auto doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
    expect(!doc.is_discarded() && doc.is_object(), "a valid body is a JSON object");
  }
  // Tight limits walk the early exits: few rows, one fault, shallow nesting.
  const schema_limits tight{.max_rows = 2, .max_faults = 1, .max_depth = 4};
  const auto few = validate_body(body, tight);
  expect(few.size() <= 1, "at most one fault when max_faults is 1");
  expect(faults.empty() || !few.empty(), "tighter limits find no fewer faults");
  return 0;
}

}  // namespace gmsim::fuzz

GMSIM_FUZZ_TARGET(schema_entry)
