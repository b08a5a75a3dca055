// The HTML report: what the page says (verdict, tables, escaping, no secrets, no external
// resource), and, in headless Chromium, that its charts really draw.
#include "report/html_report.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>
#include <sstream>
#include <string>

#include "core/histogram.hpp"
#include "profile/profile_reader.hpp"
#include "report/report.hpp"
#include "report/thresholds.hpp"
#include "run/runner.hpp"

namespace gmsim {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

json dry_summary(millis duration) {
  run_config config;
  config.settings = load_profile("quickstart");
  config.settings.duration = duration;
  config.settings.delivery.max_delay = 10'000;
  config.dry_run = true;
  config.workers = 2;
  return summary_json(config, run(config));
}

// A summary as a live run with losses would leave it.
json lossy_summary() {
  json s = dry_summary(60'000);
  s["dry_run"] = false;
  s["target"] = "https://hooks.example.test/gmetri?token=SECRET-TOKEN";
  s["rows"]["delivered"] = s["rows"]["generated"].get<std::int64_t>() - 3;
  s["rows"]["rejected"] = 3;
  s["rows"]["lost"] = 3;
  s["requests"]["rejected"] = 1;
  s["requests"]["by_status"]["413"] = 1;
  s["thresholds"] = json::array({json{{"expr", "lost_rows==0"}, {"ok", false}, {"value", 3}},
                                 json{{"expr", "p99<500ms"}, {"ok", true}, {"value", 12.5}}});
  return s;
}

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// src= or href= (or a CSS url() / @import) that reaches outside the file.
void expect_self_contained(const std::string& page) {
  static const std::regex external(R"((src|href)\s*=\s*["']?\s*(https?:|//|ftp:))",
                                   std::regex::icase);
  EXPECT_FALSE(std::regex_search(page, external)) << "an external resource is referenced";
  EXPECT_EQ(page.find("url("), std::string::npos);
  EXPECT_EQ(page.find("@import"), std::string::npos);
  EXPECT_EQ(page.find("<link"), std::string::npos);
}

std::string embedded_json(const std::string& page) {
  const std::string open = "<script type=\"application/json\" id=\"summary\">";
  const auto begin = page.find(open);
  if (begin == std::string::npos) return "";
  const auto end = page.find("</script>", begin);
  return page.substr(begin + open.size(), end - begin - open.size());
}

TEST(html_report, a_clean_run_says_all_rows_delivered_first_and_embeds_its_summary) {
  const json s = dry_summary(120'000);
  const std::string page = html_report(s, lost_rows_excerpt{});
  expect_self_contained(page);
  const auto verdict = page.find("id=\"verdict\"");
  ASSERT_NE(verdict, std::string::npos);
  EXPECT_LT(verdict, page.find("id=\"charts\""));  // the verdict comes first
  EXPECT_NE(page.find("data-verdict=\"ok\""), std::string::npos);
  EXPECT_NE(page.find("All "), std::string::npos);
  EXPECT_NE(page.find("rows delivered"), std::string::npos);
  EXPECT_NE(page.find("None: every row generated was delivered."), std::string::npos);
  // The embedded summary is the summary, with only the histograms the charts draw
  // (at 2 significant digits: see the next test).
  json embedded = json::parse(embedded_json(page));
  json histograms = embedded["histograms"];
  json expected = s;
  embedded.erase("histograms");
  expected.erase("histograms");
  EXPECT_TRUE(embedded == expected);
  std::vector<std::string> names;
  for (const auto& [name, h] : histograms.items()) {
    names.push_back(name);
    EXPECT_EQ(h["count"], s["histograms"][name]["count"]) << name;
  }
  EXPECT_EQ(names,
            (std::vector<std::string>{"delivery_lag_ms", "latency_uncorrected_us", "latency_us"}));
  for (const char* id :
       {"chart-requests", "chart-rows", "chart-latency", "chart-latency-dist", "chart-lag-dist"}) {
    EXPECT_NE(page.find(std::string("id=\"") + id + "\""), std::string::npos) << id;
  }
}

TEST(html_report, lost_rows_turn_the_verdict_red_and_the_ledger_is_shown_as_a_table) {
  const json s = lossy_summary();
  lost_rows_excerpt lost;
  lost.written = true;
  lost.path = "lost.ndjson";
  lost.lines = {
      R"({"org":"gmetri","dep":"demo","type":"variables","identifier":"<b>x</b>@example.com","page":3,"row":17,"events":4,"intended_ms":93200,"outcome":"rejected","reason":"status 413"})",
      "not json <i>"};
  const std::string page = html_report(s, lost);
  expect_self_contained(page);
  EXPECT_NE(page.find("data-verdict=\"bad\""), std::string::npos);
  EXPECT_NE(page.find("✗ 3 rows lost"), std::string::npos);
  EXPECT_NE(page.find("class=\"tile lost\""), std::string::npos);
  EXPECT_NE(page.find("&lt;b&gt;x&lt;/b&gt;@example.com"), std::string::npos);
  EXPECT_NE(page.find("status 413"), std::string::npos);
  // Issue 20: the causes, with their examples, as the console's why lines.
  json with_causes = s;
  with_causes["causes"] = {{"failed: tls",
                            {{"requests", 21},
                             {"rows", 300},
                             {"example", "certificate verify failed: self-signed <cert>"}}}};
  const std::string why = html_report(with_causes, lost);
  const auto table = why.find("id=\"causes\"");
  ASSERT_NE(table, std::string::npos);
  EXPECT_NE(why.find("failed: tls", table), std::string::npos);
  EXPECT_NE(why.find("self-signed &lt;cert&gt;", table), std::string::npos);
  EXPECT_NE(page.find("1m33s"), std::string::npos);  // intended_ms, for people
  EXPECT_NE(page.find("not json &lt;i&gt;"), std::string::npos);
  EXPECT_NE(page.find("All 2 lost rows, from lost.ndjson."), std::string::npos);
  // Thresholds, with the failed one marked.
  EXPECT_NE(page.find("Thresholds: 1 of 2 passed."), std::string::npos);
  EXPECT_NE(page.find("<tr class=\"fail\"><td>lost_rows==0</td><td>✗ FAIL</td>"),
            std::string::npos);
  // The target's query may carry a token: it is in neither the page nor the embedded JSON.
  EXPECT_EQ(page.find("SECRET-TOKEN"), std::string::npos);
  EXPECT_NE(page.find("https://hooks.example.test/gmetri?[redacted]"), std::string::npos);
}

// Issue 20: gmsim's own failure (a worker's std::bad_alloc) ended the process with no
// report. Now the run returns what it counted and every report says that gmsim, not the
// receiver, failed: the console, the summary JSON, the HTML verdict, a JUnit case.
TEST(html_report, an_internal_error_is_said_by_every_report_as_gmsims_not_the_receivers) {
  run_config config;
  config.settings = load_profile("quickstart");
  config.dry_run = true;
  run_result result = run(config);
  result.internal_error = "out of memory (std::bad_alloc)";
  const json s = summary_json(config, result);
  EXPECT_EQ(s["internal_error"], "out of memory (std::bad_alloc)");
  const std::string text = summary_text(config, result);
  EXPECT_NE(text.find("INTERNAL ERROR (gmsim's, not the receiver's): out of memory"),
            std::string::npos)
      << text;
  const std::string page = html_report(s, lost_rows_excerpt{});
  EXPECT_NE(page.find("data-verdict=\"bad\""), std::string::npos);
  EXPECT_NE(page.find("✗ gmsim failed (not the receiver): out of memory"), std::string::npos);
  const std::string xml = junit_xml(s);
  EXPECT_NE(xml.find("name=\"gmsim ran to its end\""), std::string::npos) << xml;
  EXPECT_NE(xml.find("failures=\"1\""), std::string::npos) << xml;
  EXPECT_NE(xml.find("internal error: out of memory (std::bad_alloc)"), std::string::npos);
  // A run without one has no such field and no such case.
  result.internal_error.clear();
  EXPECT_FALSE(summary_json(config, result).contains("internal_error"));
  EXPECT_EQ(junit_xml(summary_json(config, result)).find("gmsim ran to its end"),
            std::string::npos);

  // Rows the workers cannot account for are one too, not an exception without reports.
  result.stats.rows_generated += 5;
  note_accounting(result);
  EXPECT_NE(result.internal_error.find("5 unaccounted"), std::string::npos)
      << result.internal_error;
}

// Issue 20: the target is redacted by default (its query, token-like path segments) in
// the summary and the page alike; --show-url shows it as given in both.
TEST(html_report, the_target_is_redacted_unless_show_url_says_otherwise) {
  run_config config;
  config.settings = load_profile("quickstart");
  config.settings.duration = 1'000;
  config.dry_run = true;
  run_result result = run(config);
  config.dry_run = false;
  result.target = "https://h.test/services/T0/B0/aB3dE5gH7jK9mN1pQ3rS5tU7?code=c0de";
  json s = summary_json(config, result);
  EXPECT_EQ(s["target"], "https://h.test/services/T0/B0/[redacted]?[redacted]");
  EXPECT_EQ(s["target_redacted"], true);
  std::string page = html_report(s, lost_rows_excerpt{});
  EXPECT_EQ(page.find("aB3dE5gH7jK9mN1pQ3rS5tU7"), std::string::npos);
  EXPECT_EQ(page.find("c0de"), std::string::npos);
  config.transport.show_url = true;
  s = summary_json(config, result);
  EXPECT_EQ(s["target"], result.target);
  EXPECT_EQ(s["target_redacted"], false);
  page = html_report(s, lost_rows_excerpt{});
  EXPECT_NE(page.find("aB3dE5gH7jK9mN1pQ3rS5tU7?code=c0de"), std::string::npos);
}

TEST(html_report, the_page_keeps_its_histograms_at_two_digits_close_to_the_exact_ones) {
  json s = dry_summary(30'000);
  histogram exact(3'600'000'000, 3);
  std::mt19937_64 random(3);
  std::lognormal_distribution<double> latency(std::log(20'000.0), 1.5);  // µs, wide
  for (int i = 0; i < 200'000; ++i) exact.record(static_cast<std::int64_t>(latency(random)));
  s["histograms"]["latency_us"] = exact.to_json();
  const std::string page = html_report(s, lost_rows_excerpt{});
  const json embedded = json::parse(embedded_json(page))["histograms"]["latency_us"];
  const histogram coarse = histogram::from_json(embedded);  // consistent
  EXPECT_EQ(coarse.significant_digits(), 2);
  EXPECT_EQ(coarse.count(), exact.count());
  EXPECT_EQ(coarse.max(), exact.max());
  EXPECT_EQ(coarse.min(), exact.min());
  EXPECT_LT(embedded["counts"].size() * 4, s["histograms"]["latency_us"]["counts"].size());
  for (double p : {1.0, 50.0, 90.0, 99.0, 99.9, 99.99}) {
    const auto want = static_cast<double>(exact.percentile(p));
    EXPECT_NEAR(static_cast<double>(coarse.percentile(p)), want, want / 100) << p;
  }
  EXPECT_LT(page.size(), 200u * 1024);
}

TEST(html_report, without_a_ledger_the_page_says_to_use_lost_rows) {
  const std::string page = html_report(lossy_summary(), lost_rows_excerpt{});
  EXPECT_NE(page.find("Run again with --lost-rows FILE"), std::string::npos);
}

TEST(html_report, text_from_the_summary_cannot_close_the_script_or_inject_markup) {
  json s = dry_summary(30'000);
  s["profile"] = "</script><script>alert(1)</script><!--";
  const std::string page = html_report(s, lost_rows_excerpt{});
  EXPECT_EQ(occurrences(page, "</script>"), 2u);  // the JSON's and the code's
  // Inside the JSON, "<script>" is inert once "</" and "<!--" are escaped; outside it,
  // the text is escaped.
  const std::string embedded = embedded_json(page);
  std::string outside = page;
  outside.erase(outside.find(embedded), embedded.size());
  EXPECT_EQ(outside.find("<script>alert"), std::string::npos);
  EXPECT_NE(outside.find("&lt;/script&gt;&lt;script&gt;alert(1)"), std::string::npos);
  EXPECT_NE(embedded.find(R"(<\/script>)"), std::string::npos);
  EXPECT_EQ(embedded.find("<!--"), std::string::npos);
  EXPECT_EQ(json::parse(embedded)["profile"], s["profile"]);  // and it still reads back
}

TEST(html_report, reads_the_first_lines_of_the_ledger) {
  const fs::path path = fs::temp_directory_path() / ("gmsim_lost_" + std::to_string(::getpid()));
  {
    std::ofstream out(path);
    for (int i = 0; i < 1005; ++i) out << "{\"row\":" << i << "}\n";
  }
  const auto lost = read_lost_rows(path.string());
  EXPECT_TRUE(lost.written);
  EXPECT_TRUE(lost.truncated);
  ASSERT_EQ(lost.lines.size(), 1000u);
  EXPECT_EQ(lost.lines.back(), "{\"row\":999}");
  EXPECT_FALSE(read_lost_rows(path.string(), 2000).truncated);
  fs::remove(path);
  EXPECT_TRUE(read_lost_rows(path.string()).lines.empty());  // gone: the page says so
}

TEST(html_report, a_six_hour_run_gives_a_page_under_500_kb) {
  const json s = dry_summary(6 * 3'600'000);
  EXPECT_LE(s["timeseries"]["buckets"].size(), 1200u);
  EXPECT_EQ(s["timeseries"]["bucket_ms"], 20'000);
  const std::string page = html_report(s, lost_rows_excerpt{});
  EXPECT_LT(page.size(), 500u * 1024) << page.size();
}

// Runs a shell command with its own time limit; returns its stdout and exit status.
std::pair<std::string, int> run_command(const std::string& command) {
  std::string out;
  std::FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return {"", -1};
  std::array<char, 65536> buffer;
  std::size_t n;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) out.append(buffer.data(), n);
  const int status = ::pclose(pipe);
  return {out, WIFEXITED(status) ? WEXITSTATUS(status) : -1};
}

std::string quoted(const std::string& s) { return "'" + s + "'"; }

// The opening tag of the element with this id, as Chromium serialised it.
std::string opening_tag(const std::string& dom, const std::string& id) {
  const auto at = dom.find("id=\"" + id + "\"");
  if (at == std::string::npos) return "";
  const auto begin = dom.rfind('<', at);
  return dom.substr(begin, dom.find('>', at) - begin + 1);
}

TEST(html_report, charts_render_in_headless_chromium) {
  const char* bin = std::getenv("GMSIM_BIN");
  if (bin == nullptr) GTEST_SKIP() << "GMSIM_BIN is not set: run through ctest";
  const fs::path chromium = "/usr/bin/chromium";
  if (!fs::exists(chromium)) {
    GTEST_SKIP() << "chromium is not installed: run scripts/bootstrap (it installs it)";
  }
  const fs::path dir = fs::temp_directory_path() / ("gmsim_html_" + std::to_string(::getpid()));
  fs::create_directories(dir / "profile");
  const fs::path page = dir / "report.html";

  const auto [run_out, run_status] = run_command(
      "timeout 120 " + quoted(bin) +
      " run --dry-run --quiet --duration 3m --max-delay 10s --html " + quoted(page.string()) +
      " --lost-rows " + quoted((dir / "lost.ndjson").string()) + " 2>&1");
  ASSERT_EQ(run_status, 0) << run_out;
  const std::string html = slurp(page);
  ASSERT_FALSE(html.empty());
  expect_self_contained(html);

  const auto [dom, status] =
      run_command("timeout 120 " + chromium.string() +
                  " --headless --no-sandbox --disable-gpu --disable-quic --no-first-run"
                  " --disable-background-networking --disable-component-update --disable-sync"
                  " --user-data-dir=" +
                  quoted((dir / "profile").string()) + " --virtual-time-budget=5000 --dump-dom " +
                  quoted("file://" + page.string()) + " 2>/dev/null");
  fs::remove_all(dir);
  ASSERT_EQ(status, 0) << "chromium failed or timed out";
  ASSERT_NE(dom.find("data-charts=\"done\""), std::string::npos)
      << "the script did not finish: " << dom.substr(std::min(dom.find("<body"), dom.size()), 300);
  static const std::regex series(R"re(data-series="(\d+)")re");
  static const std::regex points(R"re(data-points="(\d+)")re");
  for (const char* id :
       {"chart-requests", "chart-rows", "chart-latency", "chart-latency-dist", "chart-lag-dist"}) {
    const std::string tag = opening_tag(dom, id);
    EXPECT_NE(tag.find("data-rendered=\"true\""), std::string::npos) << tag;
    std::smatch m;
    ASSERT_TRUE(std::regex_search(tag, m, series)) << tag;
    EXPECT_GE(std::stoi(m[1]), 1) << tag;
    ASSERT_TRUE(std::regex_search(tag, m, points)) << tag;
    EXPECT_GE(std::stoi(m[1]), 1) << tag;
  }
  // The drawn paths are in the DOM, not just the attributes.
  EXPECT_GE(occurrences(dom, "class=\"series\""), 5u);
}

}  // namespace
}  // namespace gmsim
