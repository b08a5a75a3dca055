// Secrets and exposure (docs/security.md): the auth string and secret-looking header values
// never reach a file or a stream gmsim writes. One test drives every producing command with
// the same secrets, then reads every file it left and every stdout and stderr. Only
// loopback: the embedded receiver, a `gmsim receive` started here, a closed port.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "binary_support.hpp"
#include "report/report.hpp"

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace std::chrono_literals;
using gmsim::testing::accepts_connections;
using gmsim::testing::free_port;
using gmsim::testing::gmsim_process;
using gmsim::testing::process_result;
using gmsim::testing::read_text;
using gmsim::testing::run_gmsim;
using gmsim::testing::scratch_dir;
using args = std::vector<std::string>;

// Every secret starts so: one search finds them all.
constexpr const char* secret_mark = "gmsim-secret-";
const std::string auth = "gmsim-secret-AUTH-5c1f0e9a7d3b";
const std::string api_key = "gmsim-secret-KEY-8e2d4b6a0c1f";
const std::string cookie = "sid=gmsim-secret-COOKIE-3a7b9c";
const std::string query_token = "gmsim-secret-QUERY-6d0e2f";
const std::string path_secret = "gmsim-secret-PATH-9f8e7d6c5b4a";

args with(args a, const args& more) {
  a.insert(a.end(), more.begin(), more.end());
  return a;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(security_looks_secret, names) {
  for (const char* name : {"Authorization", "proxy-authorization", "COOKIE", "Set-Cookie",
                           "X-Api-Key", "X-Auth-Token", "X-Hub-Signature-256", "X-Session-Id",
                           "X-Client-Secret", "X-Password", "X-Passwd", "X-Credentials"}) {
    EXPECT_TRUE(gmsim::looks_secret(name)) << name;
  }
  for (const char* name : {"X-Env", "Content-Type", "User-Agent", "X-Request-Id", "Accept"}) {
    EXPECT_FALSE(gmsim::looks_secret(name)) << name;
  }
  EXPECT_EQ(gmsim::shown_header_value("X-Api-Key", "k"), "[redacted]");
  EXPECT_EQ(gmsim::shown_header_value("X-Env", "staging"), "staging");
  EXPECT_EQ(gmsim::shown_target_url("http://h/p?token=abc&x=1&API_KEY=z#f"),
            "http://h/p?[redacted]");
  EXPECT_EQ(gmsim::shown_target_url("http://h/p?x=1"), "http://h/p?[redacted]");
  EXPECT_EQ(gmsim::shown_target_url("http://h/p"), "http://h/p");
  EXPECT_EQ(gmsim::shown_target_url("http://h"), "http://h");
  // No path: a '/' in the query or fragment is theirs (review: these were shown whole).
  EXPECT_EQ(gmsim::shown_target_url("http://h?sig=abc/x"), "http://h?[redacted]");
  EXPECT_EQ(gmsim::shown_target_url("https://h?token=SECRET/"), "https://h?[redacted]");
  EXPECT_EQ(gmsim::shown_target_url("http://h#frag/x"), "http://h?[redacted]");
  EXPECT_EQ(gmsim::shown_target_url("http://h/"), "http://h/");
  // Issue 20: the five forms that leaked. In the query: a percent-encoded name, sig=,
  // code=, hmac= (the whole query goes); in the path: a ;token= parameter and the secret
  // segment of a Slack-style URL, which reached the HTML.
  for (const char* query : {"%74oken=s3", "sig=s3", "code=s3", "hmac=s3"}) {
    const std::string shown = gmsim::shown_target_url(std::string("https://h/hook?") + query);
    EXPECT_EQ(shown, "https://h/hook?[redacted]") << query;
  }
  EXPECT_EQ(gmsim::shown_target_url("https://h/hook;token=s3cr3t/x"),
            "https://h/hook;[redacted]/x");
  EXPECT_EQ(gmsim::shown_target_url(
                "https://hooks.slack.com/services/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"),
            "https://hooks.slack.com/services/T0123ABCD/B0456EFGH/[redacted]");
  EXPECT_EQ(gmsim::shown_target_url("https://h/services/T000/B000/SECRET"),
            "https://h/services/T000/B000/[redacted]");
  EXPECT_EQ(gmsim::shown_target_url("https://h/hooks/3f1c2a9e-7b4d-4e2a-9c1f-0a2b3c4d5e6f"),
            "https://h/hooks/[redacted]");
  EXPECT_EQ(gmsim::shown_target_url("https://h/api/%6Bey-rotation"), "https://h/api/[redacted]");
  // What a reader needs stays: host, port, plain path words.
  EXPECT_EQ(gmsim::shown_target_url("https://hooks.example.test:8443/gmetri/webhook"),
            "https://hooks.example.test:8443/gmetri/webhook");
  // Idempotent: a shown URL (a summary's, shown again by the HTML) shows the same.
  const std::string once = gmsim::shown_target_url("https://h/a;k=v/x?y=1");
  EXPECT_EQ(gmsim::shown_target_url(once), once);
}

TEST(security, no_secret_reaches_any_output) {
  scratch_dir dir;
  const args secrets = {
      "--auth-string",     auth,       "--header",          "X-Api-Key: " + api_key, "--header",
      "Cookie: " + cookie, "--header", "X-Env: visible-env"};
  // The final flushes within a second of real time (max delay 3 s).
  const args short_live = {"--duration", "3s", "--time-scale", "3", "--max-delay", "3s"};

  // The receiver that checks the Authorization of every request.
  const int port = free_port();
  ASSERT_GT(port, 0);
  gmsim_process receiver(
      {"receive", "--listen", "127.0.0.1:" + std::to_string(port), "--auth-string", auth,
       "--duration", "120s", "--summary-json", dir.file("receiver.json")},
      dir);
  for (auto until = std::chrono::steady_clock::now() + 20s;
       !accepts_connections(port) && std::chrono::steady_clock::now() < until;) {
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_TRUE(accepts_connections(port));
  // Issue 20: a Slack-style secret path segment and a ;parameter reached the HTML.
  const std::string target = "http://127.0.0.1:" + std::to_string(port) +
                             "/services/T0123ABCD/B0456EFGH/" + path_secret +
                             "/hook;sig=" + path_secret + "?token=" + query_token + "&team=a";

  // 1. The embedded receiver (it checks the auth string too), every output, progress on.
  auto embedded = run_gmsim(
      with(with({"run"}, secrets),
           with(short_live, {"--summary-json", dir.file("run.json"), "--html", dir.file("run.html"),
                             "--junit", dir.file("run.xml"), "--lost-rows",
                             dir.file("run-lost.ndjson"), "--record", dir.file("run.ndjson")})),
      dir, 90s);
  ASSERT_EQ(embedded.exit_code, 0) << embedded.err;
  const json run = json::parse(read_text(dir.file("run.json")));
  EXPECT_GT(run["requests"]["delivered"].get<std::int64_t>(), 0);
  EXPECT_EQ(run["requests"]["delivered"], run["requests"]["attempted"]);
  EXPECT_EQ(run["receiver"]["unauthorized"], 0);
  // Shown, but redacted; a harmless header is shown as it is.
  EXPECT_EQ(run["headers"]["Authorization"], "[redacted]");
  EXPECT_EQ(run["headers"]["X-Api-Key"], "[redacted]");
  EXPECT_EQ(run["headers"]["Cookie"], "[redacted]");
  EXPECT_EQ(run["headers"]["X-Env"], "visible-env");
  EXPECT_TRUE(contains(embedded.out, "X-Api-Key: [redacted]")) << embedded.out;

  // 2. The same against `gmsim receive`, with a token in the URL's query.
  auto external = run_gmsim(
      with(with({"run", "--target", target}, secrets),
           with(short_live, {"--summary-json", dir.file("ext.json"), "--html", dir.file("ext.html"),
                             "--junit", dir.file("ext.xml"), "--lost-rows",
                             dir.file("ext-lost.ndjson"), "--record", dir.file("ext.ndjson")})),
      dir, 90s);
  ASSERT_EQ(external.exit_code, 0) << external.err;
  const json ext = json::parse(read_text(dir.file("ext.json")));
  EXPECT_GT(ext["requests"]["delivered"].get<std::int64_t>(), 0);
  EXPECT_EQ(ext["requests"]["delivered"], ext["requests"]["attempted"]);
  EXPECT_EQ(ext["target"],
            "http://127.0.0.1:" + std::to_string(port) +
                "/services/T0123ABCD/B0456EFGH/[redacted]/hook;[redacted]?[redacted]");

  // 3. A closed port: every request fails, and errors are reported.
  const int closed = free_port();
  auto failing = run_gmsim(
      with(with({"run", "--target",
                 "http://127.0.0.1:" + std::to_string(closed) + "/?token=" + query_token},
                secrets),
           {"--duration", "2s", "--time-scale", "4", "--summary-json", dir.file("closed.json"),
            "--junit", dir.file("closed.xml"), "--lost-rows", dir.file("closed-lost.ndjson")}),
      dir, 90s);
  EXPECT_EQ(failing.exit_code, 0) << failing.err;
  const json closed_summary = json::parse(read_text(dir.file("closed.json")));
  EXPECT_GT(closed_summary["requests"]["failed"].get<std::int64_t>(), 0);

  // 4. Replay: the recording holds no headers, so they are given again.
  auto replayed = run_gmsim(
      with(with({"replay", dir.file("run.ndjson"), "--target", target, "--time-scale", "10"},
                secrets),
           {"--summary-json", dir.file("replay.json"), "--record", dir.file("replay.ndjson"),
            "--lost-rows", dir.file("replay-lost.ndjson")}),
      dir, 90s);
  ASSERT_EQ(replayed.exit_code, 0) << replayed.err;
  const json replay = json::parse(read_text(dir.file("replay.json")));
  EXPECT_GT(replay["requests"]["delivered"].get<std::int64_t>(), 0);
  EXPECT_EQ(replay["requests"]["delivered"], replay["requests"]["attempted"]);
  EXPECT_EQ(replay["headers"]["X-Api-Key"], "[redacted]");

  // 5. Merge of summaries.
  auto merged = run_gmsim({"merge", dir.file("ext.json"), "-o", dir.file("merged.json")}, dir);
  EXPECT_EQ(merged.exit_code, 0) << merged.err;

  // 6. Bad input that carries the secrets: each exits 2 and quotes none of them.
  const std::vector<args> bad = {
      with({"run", "--dry-run", "--duration", "5x"}, secrets),
      {"run", "--dry-run", "--auth-string", auth + "\nX-Injected: 1"},
      {"run", "--dry-run", "--header", "X-Api-Key: " + api_key + "\r\nX-Injected: 1"},
      {"run", "--dry-run", "--header", "X-Api-Key=" + api_key},
      {"run", "--dry-run", "--header", "X-Api-Key:", api_key},  // forgot the quotes
      {"run", "--dry-run", "--auth-strig=" + auth},
      {"replay", dir.file("run.ndjson"), "--target", target, "--header", "X-Api-Key:", api_key},
      {"receive", "--auth-string", auth + "\n", "--duration", "1s"},
      // An auth string with a space, unquoted: its second half is a stray argument.
      {"run", "--dry-run", "--auth-string", "first-half", auth},
      {"run", "quickstart", "--dry-run", "--auth-string", "first-half", auth},
      {"run", "--dry-run", "--auth-string=first-half", auth},
      {"replay", dir.file("run.ndjson"), "--target", target, "--auth-string", "first-half", auth},
      {"replay", "--target", target, "--auth-string", "first-half", auth},  // no FILE
      {"run", "--dry-run", "--auth", "first-half", auth},                   // abbreviated
      {"run", "--dry-run", "--auth-string", "first", "second", auth},       // two spaces
  };
  for (const auto& a : bad) {
    auto r = run_gmsim(a, dir, 30s);
    EXPECT_EQ(r.exit_code, 2) << testing::PrintToString(a) << ": " << r.err;
  }

  // The receiver stops and writes its counts: every request it saw had the right
  // Authorization (1, 2 and 4 went there), so the secrets above really were sent.
  receiver.signal(SIGTERM);
  auto stopped = receiver.wait(30s);
  EXPECT_EQ(stopped.exit_code, 0) << stopped.err;
  const json counts = json::parse(read_text(dir.file("receiver.json")));
  EXPECT_GT(counts["requests"].get<std::int64_t>(), 0);
  EXPECT_EQ(counts["unauthorized"], 0);
  EXPECT_EQ(counts["rows_accepted"].get<std::int64_t>(),
            ext["rows"]["delivered"].get<std::int64_t>() +
                replay["rows"]["delivered"].get<std::int64_t>());

  // Every file left, the stdout and stderr of every command among them.
  int files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(dir.file(""))) {
    if (!entry.is_regular_file()) continue;
    ++files;
    const std::string text = read_text(entry.path().string());
    const auto at = text.find(secret_mark);
    EXPECT_EQ(at, std::string::npos)
        << entry.path() << " holds a secret: ..."
        << text.substr(at == std::string::npos ? 0 : at - std::min<std::size_t>(at, 40), 100);
  }
  EXPECT_GE(files, 30) << "fewer files than the commands above write: the scan proves little";
}

// TLS: verification is on unless --insecure, and --insecure always says so on stderr, for
// run and replay alike (the verification itself: live_test's live_nginx suite).
TEST(security, insecure_prints_a_warning) {
  scratch_dir dir;
  const int closed = free_port();
  const std::string target =
      "https://127.0.0.1:" + std::to_string(closed) + "/?token=" + query_token;
  auto run =
      run_gmsim({"run", "--target", target, "--no-auth", "--insecure", "--quiet", "--duration",
                 "1s", "--time-scale", "4", "--max-delay", "2s", "--record", dir.file("r.ndjson")},
                dir, 60s);
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_TRUE(contains(run.err, "warning: --insecure")) << run.err;
  EXPECT_TRUE(contains(run.err, "not verified")) << run.err;
  auto replay = run_gmsim({"replay", dir.file("r.ndjson"), "--target", target, "--no-auth",
                           "--insecure", "--quiet", "--time-scale", "10"},
                          dir, 60s);
  EXPECT_EQ(replay.exit_code, 0) << replay.err;
  EXPECT_TRUE(contains(replay.err, "warning: --insecure")) << replay.err;
  auto verified = run_gmsim({"replay", dir.file("r.ndjson"), "--target", target, "--no-auth",
                             "--quiet", "--time-scale", "10"},
                            dir, 60s);
  EXPECT_EQ(verified.exit_code, 0) << verified.err;
  EXPECT_FALSE(contains(verified.err, "warning")) << verified.err;
  EXPECT_FALSE(contains(run.err + replay.err, query_token));
}

}  // namespace

namespace {

// `gmsim receive` binds loopback unless --listen says otherwise.
TEST(security, receive_listens_on_loopback_by_default) {
  scratch_dir dir;
  auto help = run_gmsim({"receive", "--help"}, dir, 30s);
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_TRUE(contains(help.out, "--listen ADDR:PORT (=127.0.0.1:8080)")) << help.out;
}

}  // namespace
