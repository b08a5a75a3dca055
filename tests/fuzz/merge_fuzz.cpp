// Summaries, as `gmsim merge` and `gmsim check` read them: read_summary() either returns a
// summary or throws merge_error naming the path (deep JSON, counts that are negative or
// overflow, a type where a count belongs: issue 20 found a SIGSEGV and raw json.exception
// texts); a summary read merges with itself, or throws merge_error, and the merged counts
// are the input's twice.
#include <nlohmann/json.hpp>

#include "fuzz_target.hpp"
#include "report/merge.hpp"

namespace gmsim::fuzz {

int merge_entry(const std::uint8_t* data, std::size_t size) {
  const memory_file file(data, size);
  summary_file summary;
  try {
    summary = read_summary(file.path());
  } catch (const merge_error& e) {
    expect(std::string_view(e.what()).starts_with(file.path()), "a merge_error names the path");
    return 0;
  }
  nlohmann::json merged;
  try {
    merged = merge_summaries({summary, summary}, true);
  } catch (const merge_error& e) {
    expect(std::string_view(e.what()).find(file.path()) != std::string_view::npos,
           "a merge_error names the input");
    return 0;
  }
  const auto& rows = summary.doc["rows"];
  if (rows.is_object() && rows.contains("generated") && rows["generated"].is_number_integer()) {
    expect(merged["rows"]["generated"] == 2 * rows["generated"].get<std::int64_t>(),
           "two copies merge to twice the rows generated");
  }
  merged.dump();  // what merge writes: valid UTF-8, or dump throws
  return 0;
}

}  // namespace gmsim::fuzz

GMSIM_FUZZ_TARGET(merge_entry)
