// The HTML report of a run (`gmsim run --html F`): one self-contained page, readable
// offline, verdict first. The numbers and tables are plain HTML; the charts are drawn
// by a small inline script from the summary JSON embedded in the page. No external
// resource of any kind. docs/reports.md says what each part shows.
#pragma once

#include <cstddef>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

namespace gmsim {

// The lost-rows ledger as the report shows it.
struct lost_rows_excerpt {
  bool written = false;            // the run wrote a ledger (--lost-rows)
  std::string path;                // where
  std::vector<std::string> lines;  // its first lines (NDJSON), at most max_lines
  bool truncated = false;          // the ledger has more lines than these
};

inline constexpr std::size_t lost_rows_shown = 1000;

// Reads the first max_lines lines of the ledger at path. An unreadable file gives an
// excerpt with written = true and no lines: the report says so rather than failing.
lost_rows_excerpt read_lost_rows(const std::string& path, std::size_t max_lines = lost_rows_shown);

// The page, from a summary document (summary_json's, with its thresholds). The target's
// query is left out of the page (it may carry a token); nothing else secret is in a
// summary.
std::string html_report(const nlohmann::json& summary, const lost_rows_excerpt& lost);

// Writes the page to path, reading the ledger at lost_rows_path (empty: none written).
// Throws std::runtime_error naming the path when it cannot be written.
void write_html_report(const std::string& path, const nlohmann::json& summary,
                       const std::string& lost_rows_path);

}  // namespace gmsim
