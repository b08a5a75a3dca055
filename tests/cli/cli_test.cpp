// End-to-end tests of the gmsim binary, driven as a user drives it: a command line in,
// an exit code, stdout, stderr and files out. ctest sets GMSIM_BIN (the built binary) and
// GMSIM_SOURCE_DIR; run by hand, the binary beside gmsim_tests is used. The only network
// is loopback: `gmsim run` to its embedded receiver, and to a `gmsim receive` started here.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;
using args = std::vector<std::string>;

// --- running the binary -----------------------------------------------------------------

std::string gmsim_bin() {
  if (const char* bin = std::getenv("GMSIM_BIN")) return bin;
  // Run by hand: the build puts gmsim beside gmsim_tests.
  return (fs::read_symlink("/proc/self/exe").parent_path() / "gmsim").string();
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

fs::path source_dir() {
  if (const char* dir = std::getenv("GMSIM_SOURCE_DIR")) return dir;
  return fs::path(__FILE__).parent_path().parent_path().parent_path();  // tests/cli/ -> the root
}

struct command_result {
  int exit_code = -1;  // -1: killed by a signal, or by us at the timeout
  bool timed_out = false;
  std::string out, err;
};

// One gmsim process, its stdout and stderr going to files (no pipe to fill and block it).
// The environment is ours minus GMSIM_AUTH_STRING, plus `env`.
class gmsim_process {
 public:
  gmsim_process(const args& arguments, const fs::path& out, const fs::path& err,
                const std::vector<std::string>& env = {})
      : out_(out), err_(err) {
    // Everything the child needs is built before fork(): after it, only async-signal-safe
    // calls, since gtest may have started threads.
    std::vector<std::string> argv_text{gmsim_bin()};
    argv_text.insert(argv_text.end(), arguments.begin(), arguments.end());
    std::vector<std::string> env_text;
    for (char** e = environ; *e != nullptr; ++e) {
      if (std::string_view(*e).rfind("GMSIM_AUTH_STRING=", 0) != 0) env_text.emplace_back(*e);
    }
    env_text.insert(env_text.end(), env.begin(), env.end());
    std::vector<char*> argv, envp;
    for (auto& s : argv_text) argv.push_back(s.data());
    argv.push_back(nullptr);
    for (auto& s : env_text) envp.push_back(s.data());
    envp.push_back(nullptr);
    int out_fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int err_fd = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int in_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(in_fd, 0);
      ::dup2(out_fd, 1);
      ::dup2(err_fd, 2);
      ::execve(argv[0], argv.data(), envp.data());
      ::_exit(127);
    }
    ::close(out_fd);
    ::close(err_fd);
    ::close(in_fd);
  }
  ~gmsim_process() {
    if (running()) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  gmsim_process(const gmsim_process&) = delete;
  gmsim_process& operator=(const gmsim_process&) = delete;

  bool running() const { return pid_ > 0 && !status_; }
  std::string err_text() const { return read_text(err_); }

  // Waits for the exit; kills the process (by its id) if it takes longer than timeout.
  command_result wait(std::chrono::milliseconds timeout) {
    command_result r;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (running() && !reap()) {
      if (std::chrono::steady_clock::now() >= deadline) {
        r.timed_out = true;
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        status_ = -1;
        break;
      }
      std::this_thread::sleep_for(10ms);
    }
    if (!r.timed_out && status_ && WIFEXITED(*status_)) r.exit_code = WEXITSTATUS(*status_);
    r.out = read_text(out_);
    r.err = read_text(err_);
    return r;
  }

  void signal(int number) {
    if (running()) ::kill(pid_, number);
  }

  // Polls stderr until `pattern` matches (returning the first group), or the timeout.
  std::optional<std::string> wait_for_err(const std::regex& pattern,
                                          std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      std::smatch m;
      std::string text = err_text();
      if (std::regex_search(text, m, pattern)) return m.size() > 1 ? m[1].str() : m[0].str();
      if (!running() || reap()) return std::nullopt;
      std::this_thread::sleep_for(20ms);
    }
    return std::nullopt;
  }

 private:
  bool reap() {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) != pid_) return false;
    status_ = status;
    return true;
  }

  pid_t pid_ = -1;
  std::optional<int> status_;
  fs::path out_, err_;
};

// Each test gets a scratch directory and runs gmsim with it.
class cli : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "gmsim_cli_XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    scratch_ = pattern;
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(scratch_, ignored);
  }

  fs::path path(const std::string& name) const { return scratch_ / name; }
  std::string file(const std::string& name) const { return path(name).string(); }

  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(path(name), std::ios::binary) << text;
    return file(name);
  }

  std::unique_ptr<gmsim_process> start(const args& arguments,
                                       const std::vector<std::string>& env = {}) {
    ++commands_;
    auto stem = "cmd" + std::to_string(commands_);
    return std::make_unique<gmsim_process>(arguments, path(stem + ".out"), path(stem + ".err"),
                                           env);
  }

  // Runs gmsim to its end. The timeout only bounds a hang; it is no speed assertion.
  command_result gmsim(const args& arguments, std::chrono::milliseconds timeout = 120s,
                       const std::vector<std::string>& env = {}) {
    auto r = start(arguments, env)->wait(timeout);
    EXPECT_FALSE(r.timed_out) << "gmsim " << testing::PrintToString(arguments) << " hung";
    return r;
  }

  json read_json(const std::string& name) const {
    return json::parse(read_text(path(name)), nullptr, false);
  }

  fs::path scratch_;
  int commands_ = 0;
};

// Exit 2, nothing on stdout, exactly one line on stderr, naming each of `mentions`.
void expect_usage_error(const command_result& r, const std::vector<std::string>& mentions) {
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(lines_of(r.err).size(), 1u) << r.err;
  for (const auto& m : mentions)
    EXPECT_NE(r.err.find(m), std::string::npos) << "no '" << m << "' in: " << r.err;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

// --- usage and help ---------------------------------------------------------------------

class cli_usage : public cli {};

TEST_F(cli_usage, no_arguments_prints_usage_on_stderr_and_exits_2) {
  auto r = gmsim({});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_TRUE(contains(r.err, "Usage: gmsim <command>")) << r.err;
  for (const char* command : {"run", "receive", "example", "validate", "profiles"}) {
    EXPECT_TRUE(contains(r.err, std::string("  ") + command)) << command;
  }
}

TEST_F(cli_usage, help_prints_usage_on_stdout_and_exits_0) {
  for (const char* flag : {"--help", "-h", "help"}) {
    auto r = gmsim({flag});
    EXPECT_EQ(r.exit_code, 0) << flag;
    EXPECT_TRUE(contains(r.out, "Usage: gmsim <command>")) << flag;
    EXPECT_EQ(r.err, "") << flag;
  }
}

TEST_F(cli_usage, version_prints_the_version) {
  auto r = gmsim({"--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(std::regex_match(r.out, std::regex("gmsim \\d+\\.\\d+\\.\\d+\n"))) << r.out;
}

TEST_F(cli_usage, unknown_command_exits_2_naming_it) {
  expect_usage_error(gmsim({"frobnicate", "--x"}), {"unknown command 'frobnicate'", "--help"});
  expect_usage_error(gmsim({"replya"}), {"unknown command 'replya'", "did you mean 'replay'"});
}

TEST_F(cli_usage, every_command_has_help_naming_its_options) {
  const std::vector<std::pair<std::string, std::vector<std::string>>> commands = {
      {"run",
       {"--target", "--auth-string", "--duration", "--seed", "--start-time", "--max-delay",
        "--batch-rows", "--time-scale", "--dry-run", "--workers", "--shard", "--summary-json",
        "--record", "--lost-rows", "--quiet"}},
      {"receive",
       {"--listen", "--auth-string", "--status", "--fail-ratio", "--latency", "--max-body",
        "--close-ratio", "--duration", "--summary-json"}},
      {"example", {"TYPE", "--compact", "variables", "rules", "session"}},
      {"validate", {"FILE", "recording"}},
      {"profiles", {"built-in"}},
  };
  for (const auto& [command, options] : commands) {
    for (const char* flag : {"--help", "-h"}) {
      auto r = gmsim({command, flag});
      EXPECT_EQ(r.exit_code, 0) << command << " " << flag << ": " << r.err;
      EXPECT_TRUE(contains(r.out, "Usage: gmsim " + command)) << command << ": " << r.out;
      EXPECT_EQ(r.err, "") << command;
      for (const auto& o : options)
        EXPECT_TRUE(contains(r.out, o)) << command << " help lacks " << o;
    }
  }
}

// --- the dry run and its summary --------------------------------------------------------

class cli_dry_run : public cli {};

TEST_F(cli_dry_run, prints_the_summary_and_loses_nothing) {
  auto r = gmsim({"run", "--dry-run"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "profile quickstart")) << r.out;
  EXPECT_TRUE(contains(r.out, "dry run")) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("rows lost +0\n"))) << r.out;
  EXPECT_TRUE(std::regex_search(
      r.out, std::regex("rows +[1-9]\\d* generated, [1-9]\\d* delivered \\(100\\.0%\\)")))
      << r.out;
  for (const auto& line : lines_of(r.out)) {
    EXPECT_TRUE(line.empty() || line.back() != ' ') << "trailing space: '" << line << "'";
  }
  EXPECT_EQ(r.err, "");
  auto one = gmsim({"run", "--dry-run", "--workers", "1"});
  EXPECT_TRUE(contains(one.out, "2 deployments, 6 streams, 1 worker; ")) << one.out;
}

// Every field of DESIGN.md's summary contract, with its JSON type.
void expect_summary_contract(const json& s) {
  ASSERT_TRUE(s.is_object()) << "not a JSON object";
  EXPECT_TRUE(s["version"].is_string());
  EXPECT_TRUE(s["profile"].is_string());
  EXPECT_TRUE(s["seed"].is_number_unsigned() || s["seed"].is_number_integer());
  EXPECT_TRUE(s["shard"].is_string());
  EXPECT_TRUE(s["events"]["generated"].is_number_integer());
  for (const char* k : {"attempted", "delivered", "rejected", "failed", "unsent"}) {
    EXPECT_TRUE(s["requests"][k].is_number_integer()) << "requests." << k;
  }
  for (const char* k : {"by_status", "by_error"}) {
    ASSERT_TRUE(s["requests"][k].is_object()) << "requests." << k;
    for (const auto& [key, n] : s["requests"][k].items()) EXPECT_TRUE(n.is_number_integer()) << key;
  }
  for (const char* k : {"generated", "delivered", "rejected", "failed", "unsent"}) {
    EXPECT_TRUE(s["rows"][k].is_number_integer()) << "rows." << k;
  }
  for (const char* k : {"variables", "rules", "session"}) {
    EXPECT_TRUE(s["rows"]["by_type"][k].is_number_integer()) << "rows.by_type." << k;
  }
  for (const char* h : {"latency_ms", "latency_uncorrected_ms"}) {
    for (const char* k : {"p50", "p90", "p99", "p999", "max"})
      EXPECT_TRUE(s[h][k].is_number()) << h << "." << k;
  }
  for (const char* k : {"p50", "p90", "p99", "max"})
    EXPECT_TRUE(s["delivery_lag_ms"][k].is_number()) << k;
  EXPECT_TRUE(s["thresholds"].is_array());
  const auto& rows = s["rows"];
  if (rows["generated"].is_number_integer()) {
    EXPECT_EQ(rows["generated"].get<std::int64_t>(),
              rows["delivered"].get<std::int64_t>() + rows["rejected"].get<std::int64_t>() +
                  rows["failed"].get<std::int64_t>() + rows["unsent"].get<std::int64_t>());
    std::int64_t by_type = 0;
    for (const auto& [type, n] : rows["by_type"].items()) by_type += n.get<std::int64_t>();
    EXPECT_EQ(by_type, rows["generated"].get<std::int64_t>());
  }
}

TEST_F(cli_dry_run, summary_json_holds_the_contract_fields) {
  auto r = gmsim({"run", "--dry-run", "--summary-json", file("s.json")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json s = read_json("s.json");
  expect_summary_contract(s);
  EXPECT_EQ(s["profile"], "quickstart");
  EXPECT_EQ(s["seed"], 1);
  EXPECT_EQ(s["shard"], "1/1");
  EXPECT_GT(s["events"]["generated"].get<std::int64_t>(), 0);
  const auto& rows = s["rows"];
  EXPECT_GT(rows["generated"].get<std::int64_t>(), 0);
  EXPECT_EQ(rows["delivered"], rows["generated"]);
  for (const char* k : {"rejected", "failed", "unsent"}) EXPECT_EQ(rows[k], 0) << k;
  for (const char* k : {"variables", "rules", "session"})
    EXPECT_GT(rows["by_type"][k].get<std::int64_t>(), 0) << k;
  const auto& requests = s["requests"];
  EXPECT_GT(requests["attempted"].get<std::int64_t>(), 0);
  EXPECT_EQ(requests["delivered"], requests["attempted"]);
  EXPECT_EQ(requests["by_status"]["200"], requests["attempted"]);
  EXPECT_TRUE(requests["by_error"].empty());
  EXPECT_FALSE(s.contains("receiver"));  // a dry run has none
}

// --- determinism ------------------------------------------------------------------------

class cli_determinism : public cli {};

TEST_F(cli_determinism, same_seed_and_start_give_the_same_bytes_whatever_the_workers) {
  const args common = {"run",          "--dry-run",           "--quiet", "--duration", "3m",
                       "--start-time", "2026-02-03T04:05:06Z"};
  auto with = [&](args extra) {
    args a = common;
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  ASSERT_EQ(gmsim(with({"--seed", "7", "--workers", "1", "--record", file("w1.ndjson")})).exit_code,
            0);
  ASSERT_EQ(gmsim(with({"--seed", "7", "--workers", "2", "--record", file("w2.ndjson")})).exit_code,
            0);
  ASSERT_EQ(gmsim(with({"--seed", "8", "--workers", "2", "--record", file("s8.ndjson")})).exit_code,
            0);
  std::string one = read_text(path("w1.ndjson")), two = read_text(path("w2.ndjson"));
  ASSERT_GT(lines_of(one).size(), 10u);
  EXPECT_TRUE(one == two) << "workers 1 and 2 recorded different bytes";
  std::string other = read_text(path("s8.ndjson"));
  EXPECT_NE(lines_of(one).at(1), lines_of(other).at(1));

  json header = json::parse(lines_of(one).at(0));
  EXPECT_EQ(header["gmsim_record"], 1);
  EXPECT_TRUE(header["version"].is_string());
  EXPECT_EQ(header["profile"], "quickstart");
  EXPECT_EQ(header["seed"], 7);
  EXPECT_EQ(header["start_time"], 1'770'091'506'000);
  json second = json::parse(lines_of(one).at(1));
  for (const char* k : {"t_ms", "rows"}) EXPECT_TRUE(second[k].is_number_integer()) << k;
  for (const char* k : {"org", "dep", "type", "body"}) EXPECT_TRUE(second[k].is_string()) << k;

  auto v = gmsim({"validate", file("w1.ndjson")});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  EXPECT_TRUE(contains(v.out, "all valid")) << v.out;
}

TEST_F(cli_determinism, a_builtin_and_its_file_give_the_same_bytes) {
  auto profile_file = (source_dir() / "profiles" / "quickstart.json").string();
  auto by_file = gmsim({"run", "--dry-run", "--quiet", profile_file, "--record", file("f.ndjson")});
  ASSERT_EQ(by_file.exit_code, 0) << by_file.err;
  ASSERT_EQ(
      gmsim({"run", "--dry-run", "--quiet", "quickstart", "--record", file("b.ndjson")}).exit_code,
      0);
  EXPECT_TRUE(read_text(path("f.ndjson")) == read_text(path("b.ndjson")));
}

// --- overrides change the run -----------------------------------------------------------

class cli_overrides : public cli {
 protected:
  // The request lines of a recording, without its header.
  std::vector<json> recorded(const std::string& name) const {
    std::vector<json> out;
    auto lines = lines_of(read_text(path(name)));
    for (std::size_t i = 1; i < lines.size(); ++i) out.push_back(json::parse(lines[i]));
    return out;
  }
  json dry_summary(args extra) {
    args a = {"run", "--dry-run", "--quiet", "--summary-json", file("s.json")};
    a.insert(a.end(), extra.begin(), extra.end());
    auto r = gmsim(a);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return read_json("s.json");
  }
};

TEST_F(cli_overrides, batch_rows_caps_every_request) {
  auto r = gmsim({"run", "--dry-run", "--quiet", "--duration", "2m", "--batch-rows", "5",
                  "--record", file("r.ndjson")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto requests = recorded("r.ndjson");
  ASSERT_FALSE(requests.empty());
  bool some_full = false;
  for (const auto& q : requests) {
    EXPECT_LE(q["rows"].get<int>(), 5);
    EXPECT_EQ(json::parse(q["body"].get<std::string>())["data"]["rows"].size(),
              q["rows"].get<std::size_t>());
    some_full = some_full || q["rows"] == 5;
  }
  EXPECT_TRUE(some_full) << "no request reached the cap: the test proves nothing";
}

TEST_F(cli_overrides, max_delay_bounds_the_delivery_lag) {
  json base = dry_summary({"--duration", "3m"});
  EXPECT_GT(base["delivery_lag_ms"]["max"].get<double>(),
            10'000);  // else the override shows nothing
  json s = dry_summary({"--duration", "3m", "--max-delay", "10s"});
  EXPECT_LE(s["delivery_lag_ms"]["max"].get<double>(), 10'000);
  EXPECT_GT(s["delivery_lag_ms"]["max"].get<double>(), 0);
  EXPECT_EQ(s["delivery"]["max_delay_ms"], 10'000);
}

TEST_F(cli_overrides, duration_changes_the_events) {
  json base = dry_summary({});
  json longer = dry_summary({"--duration", "10m"});
  EXPECT_EQ(longer["duration_ms"], 600'000);
  EXPECT_GT(longer["events"]["generated"].get<std::int64_t>(),
            5 * base["events"]["generated"].get<std::int64_t>());
}

TEST_F(cli_overrides, start_time_moves_the_timestamps_in_the_bodies) {
  for (const std::string start : {"2026-05-01T00:00:00Z", "1777593600000"}) {
    SCOPED_TRACE(start);
    auto r =
        gmsim({"run", "--dry-run", "--quiet", "--start-time", start, "--record", file("r.ndjson")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::int64_t begin = 1'777'593'600'000, end = begin + 30'000;
    EXPECT_EQ(json::parse(lines_of(read_text(path("r.ndjson"))).at(0))["start_time"], begin);
    int rules = 0, sessions = 0;
    for (const auto& q : recorded("r.ndjson")) {
      json body = json::parse(q["body"].get<std::string>());
      for (const auto& row : body["data"]["rows"]) {
        if (body["type"] == "rules") {
          for (const auto& rule : row["rules"]) {
            ++rules;
            EXPECT_GE(rule["timestamp"].get<std::int64_t>(), begin);
            EXPECT_LE(rule["timestamp"].get<std::int64_t>(), end);
          }
        } else if (body["type"] == "session") {
          ++sessions;
          EXPECT_GE(row["session"]["created_at"].get<std::int64_t>(), begin);
          EXPECT_LE(row["session"]["created_at"].get<std::int64_t>(), end);
        }
      }
    }
    EXPECT_GT(rules, 0);
    EXPECT_GT(sessions, 0);
  }
}

TEST_F(cli_overrides, shards_split_the_rows_without_loss_or_overlap) {
  json whole = dry_summary({"--duration", "2m"});
  json one = dry_summary({"--duration", "2m", "--shard", "1/2"});
  EXPECT_EQ(one["shard"], "1/2");
  EXPECT_EQ(one["deployments"], 1);
  json two = dry_summary({"--duration", "2m", "--shard", "2/2"});
  EXPECT_EQ(two["shard"], "2/2");
  auto rows = [](const json& s) { return s["rows"]["generated"].get<std::int64_t>(); };
  EXPECT_GT(rows(one), 0);
  EXPECT_GT(rows(two), 0);
  EXPECT_EQ(rows(one) + rows(two), rows(whole));
  EXPECT_EQ(one["events"]["generated"].get<std::int64_t>() +
                two["events"]["generated"].get<std::int64_t>(),
            whole["events"]["generated"].get<std::int64_t>());
}

// --- bad input: exit 2, one clear line ----------------------------------------------------

class cli_bad_input : public cli {};

TEST_F(cli_bad_input, stray_arguments_are_refused_not_ignored) {
  expect_usage_error(gmsim({"profiles", "quickstart"}), {"'quickstart'"});
  expect_usage_error(gmsim({"validate", "--compact"}), {"unknown option '--compact'"});
  expect_usage_error(gmsim({"example", "rules", "--pretty"}), {"'--pretty'"});
  expect_usage_error(gmsim({"example", "rules", "session"}), {"'session'"});
  // Without the check, receive would drop the 9000 and listen on 8080.
  expect_usage_error(gmsim({"receive", "9000"}, 30s), {"'9000'", "--listen"});
}

TEST_F(cli_bad_input, bad_options_name_the_option_and_the_reason) {
  struct bad_case {
    args arguments;
    std::vector<std::string> mentions;
  };
  const std::vector<bad_case> cases = {
      {{"run", "--dry-run", "--frobnicate"}, {"--frobnicate"}},
      {{"run", "--dry-run", "--duration", "5x"}, {"--duration", "5x", "unit"}},
      {{"run", "--dry-run", "--duration", "0"}, {"--duration"}},
      {{"run", "--dry-run", "--batch-rows", "0"}, {"--batch-rows", "0"}},
      {{"run", "--dry-run", "--shard", "3/2"}, {"--shard", "3/2"}},
      {{"run", "--dry-run", "--shard", "x"}, {"--shard", "'x'"}},
      {{"run", "--target", "ftp://x"}, {"--target", "ftp"}},
      {{"run", "--target", "not a url"}, {"--target", "not a URL"}},
      {{"run", "--target", "http://"}, {"--target", "no host"}},
      {{"run", "--target", "http://user:pw@127.0.0.1:1/"}, {"--target", "--auth-string"}},
      {{"run", "--dry-run", "--summary-json", "/nonexistent-dir/s.json"},
       {"--summary-json", "/nonexistent-dir/s.json", "No such file"}},
      {{"run", "--dry-run", "--record", "/"}, {"--record", "directory"}},
      {{"run", "--dry-run", "--lost-rows", "/nonexistent-dir/l.ndjson"},
       {"--lost-rows", "/nonexistent-dir/l.ndjson"}},
      {{"run", "--dry-run", "--start-time", "yesterday"}, {"--start-time", "yesterday"}},
      {{"run", "--dry-run", "--target", "http://127.0.0.1:1/"}, {"--dry-run", "--target"}},
      {{"run", "--dry-run", "--seed", "-1"}, {"--seed", "'-1'"}},
      {{"run", "--dry-run", "--seed", "18446744073709551616"}, {"--seed"}},
      {{"run", "--dry-run", "--workers", "0"}, {"--workers"}},
      {{"run", "--dry-run", "--time-scale", "0"}, {"--time-scale"}},
      {{"run", "--dry-run", "--header", "no colon"}, {"--header"}},
      {{"run", "--dry-run", "quickstart", "quickstart"}, {"one profile"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(testing::PrintToString(c.arguments));
    auto r = gmsim(c.arguments);
    expect_usage_error(r, c.mentions);
    // A URL may hold credentials: errors never quote it.
    EXPECT_FALSE(contains(r.err, "user:pw")) << r.err;
  }
  EXPECT_FALSE(fs::exists("/nonexistent-dir"));
}

TEST_F(cli_bad_input, profile_syntax_error_gives_file_line_and_column) {
  auto f = write("broken.json", "{\n  \"duration\": \"1m\",\n  \"seed\": 1,,\n}\n");
  expect_usage_error(gmsim({"run", "--dry-run", f}), {f + ":3:"});
  auto r = gmsim({"run", "--dry-run", f});
  EXPECT_TRUE(std::regex_search(
      r.err, std::regex(std::regex_replace(f, std::regex("[.]"), "\\.") + ":3:\\d+")))
      << r.err;
}

TEST_F(cli_bad_input, profile_unknown_key_suggests_the_right_one) {
  auto f =
      write("typo.json",
            "{\n  \"duration\": \"1m\",\n  \"delivery\": {\n    \"max_dealy\": \"10s\"\n  }\n}\n");
  expect_usage_error(gmsim({"run", "--dry-run", f}),
                     {f + ":4: delivery", "'max_dealy'", "did you mean 'max_delay'"});
}

TEST_F(cli_bad_input, profile_wrong_type_names_the_field) {
  auto f = write("type.json",
                 "{\n  \"duration\": \"1m\",\n  \"delivery\": { \"batch_rows\": \"many\" }\n}\n");
  expect_usage_error(gmsim({"run", "--dry-run", f}), {f + ":3", "delivery.batch_rows"});
}

TEST_F(cli_bad_input, missing_profile_file_is_named) {
  auto f = file("nowhere.json");
  expect_usage_error(gmsim({"run", "--dry-run", f}), {f});
}

TEST_F(cli_bad_input, unknown_builtin_profile_suggests_one) {
  expect_usage_error(gmsim({"run", "--dry-run", "quickstrat"}), {"quickstrat", "quickstart"});
}

// The catalogue of bad input (docs/cli.md, "Errors and exit codes"): every row exits 2 with
// nothing on stdout and exactly one line on stderr, "gmsim <command>: ...", naming the file,
// line, field or option, and the reason. None needs the network: each fails before it.
TEST_F(cli_bad_input, catalogue_one_line_each) {
  const auto profile = [&](const std::string& name, const std::string& text) {
    return write(name, text);
  };
  const auto broken = profile("broken.json", "{\n  \"duration\": \"1m\",\n  \"seed\": 1,,\n}\n");
  const auto typo =
      profile("typo.json", "{\n  \"delivery\": {\n    \"max_dealy\": \"10s\"\n  }\n}\n");
  const auto type = profile("type.json", "{\n\n  \"delivery\": { \"batch_rows\": \"many\" }\n}");
  const auto negative = profile("negative.json", R"({"duration": "-5s"})");
  const auto zero = profile("zero.json", R"({"duration": 0})");
  const auto no_viewers = profile("viewers.json", R"({"viewers": {"count": 0}})");
  const auto unit = profile("unit.json", R"({"session": {"length": "5 fortnights"}})");
  const auto rate_unit = profile("rate_unit.json", R"({"arrival": {"rate": "10/d"}})");
  const auto huge_rate = profile("huge.json", R"({"arrival": {"rate": 1e12}})");
  const auto huge_string = profile("huge_string.json", R"({"arrival": {"rate": "1e400/s"}})");
  const auto spike = profile("spike.json", R"({"arrival": {"rate": "5/s",
      "spikes": [{"at": "1m", "duration": "10s", "factor": 1000000}]}})");
  const auto ramp =
      profile("ramp.json", R"({"arrival": {"stages": [{"duration": "1m", "rate": "-5/s"}]}})");
  const auto silent = profile("silent.json", R"({"arrival": {"rate": 0}})");
  const auto not_recording = write("notes.txt", "hello\n");
  const auto not_json = write("summary.txt", "not json\n");
  const auto ok_profile = profile("ok.json", R"({"duration": "10s"})");
  const std::string missing = file("missing.json");
  const std::string dir = scratch_.string();
  const std::string nowhere = "/nonexistent-dir/out";

  struct bad_case {
    args arguments;
    std::vector<std::string> mentions;
  };
  const std::vector<bad_case> cases = {
      // profiles: file, line, field, reason
      {{"run", "--dry-run", broken}, {broken + ":3:", "syntax error"}},
      {{"run", "--dry-run", typo},
       {typo + ":3: delivery", "'max_dealy'", "did you mean 'max_delay'"}},
      {{"run", "--dry-run", type}, {type + ":3: delivery.batch_rows", "expected an integer"}},
      {{"run", "--dry-run", negative}, {negative + ":1: duration", "negative"}},
      {{"run", "--dry-run", zero}, {zero + ":1: duration", "more than 0"}},
      {{"run", "--dry-run", no_viewers}, {"viewers.count", "from 1"}},
      {{"run", "--dry-run", unit}, {"session.length", "fortnights"}},
      {{"run", "--dry-run", rate_unit}, {"arrival.rate", "unknown rate unit 'd'", "/s, /m or /h"}},
      {{"run", "--dry-run", huge_rate}, {huge_rate + ":1: arrival", "1000000 sessions/s"}},
      {{"run", "--dry-run", huge_string}, {"arrival.rate", "too large"}},
      {{"run", "--dry-run", spike}, {spike + ":1: arrival", "5000000/s at 1m", "spike"}},
      {{"run", "--dry-run", ramp}, {"arrival.stages[0].rate", "negative"}},
      {{"run", "--dry-run", silent}, {"arrival.rate", "no sessions"}},
      {{"run", "--dry-run", missing}, {missing, "cannot read", "No such file"}},
      {{"run", "--dry-run", dir + "/"}, {dir, "Is a directory"}},
      {{"run", "--dry-run", "quickstrat"},
       {"unknown profile 'quickstrat'", "did you mean 'quickstart'"}},
      // run: options
      {{"run", "--frobnicate"}, {"unknown option '--frobnicate'", "gmsim run --help"}},
      {{"run", "--recrod", "x"}, {"unknown option '--recrod'", "did you mean '--record'"}},
      {{"run", "--dry-run", "--duration", "5x"}, {"--duration", "unknown unit 'x'"}},
      {{"run", "--dry-run", "--duration", "0"}, {"--duration", "at least"}},
      {{"run", "--dry-run", "--duration", "-5s"}, {"--duration", "negative"}},
      {{"run", "--dry-run", "--max-delay", "0"}, {"--max-delay", "at least"}},
      {{"run", "--dry-run", "--batch-rows", "0"}, {"--batch-rows", "1..100000"}},
      {{"run", "--dry-run", "--workers", "0"}, {"--workers", "1..256"}},
      {{"run", "--dry-run", "--workers", "two"}, {"--workers", "'two'"}},
      {{"run", "--dry-run", "--seed", "-1"}, {"--seed", "'-1'"}},
      {{"run", "--dry-run", "--time-scale", "0"}, {"--time-scale"}},
      {{"run", "--dry-run", "--start-time", "yesterday"}, {"--start-time", "yesterday"}},
      {{"run", "--dry-run", "--duration", "100000000h"},
       {"duration: 100000000h", "ends after 9999-12-31T23:59:59.999Z"}},
      {{"run", "--dry-run", "--start-time", "9999-12-31T23:00:00Z", "--duration", "2h"},
       {"duration: 2h from the start time 9999-12-31T23:00:00.000Z"}},
      {{"run", "--dry-run", "--shard", "0/2"}, {"--shard", "'0/2'", "1 <= I <= N"}},
      {{"run", "--dry-run", "--shard", "3/2"}, {"--shard", "'3/2'"}},
      {{"run", "--dry-run", "--shard", "1/0"}, {"--shard", "'1/0'"}},
      {{"run", "--dry-run", "--shard", "x"}, {"--shard", "'x'"}},
      {{"run", "--dry-run", "--threshold", "p99<<5ms"}, {"--threshold", "'p99<<5ms'"}},
      {{"run", "--dry-run", "--threshold", "bogus<1"}, {"--threshold", "bogus"}},
      {{"run", "--dry-run", "--edge-case", "emoij"}, {"--edge-case", "emoij"}},
      {{"run", "--target", "ftp://x/"}, {"--target", "scheme 'ftp'"}},
      {{"run", "--target", "not a url"}, {"--target", "not a URL"}},
      {{"run", "--target", "http://"}, {"--target", "no host"}},
      {{"run", "--target", "http://127.0.0.1:99999/"}, {"--target", "99999", "out of range"}},
      {{"run", "--dry-run", "--target", "http://127.0.0.1:1/"}, {"--dry-run", "--target"}},
      {{"run", "--dry-run", "--header", "no colon"}, {"--header", "Name: value"}},
      {{"run", "--dry-run", "--header", "X-Api-Key:"}, {"--header", "'X-Api-Key' has no value"}},
      {{"run", "--dry-run", "--header", "X-A: a\r\nX-B: b"}, {"--header", "'X-A'", "line break"}},
      {{"run", "--dry-run", "--auth-string", "a\nb"}, {"--auth-string", "line break"}},
      {{"run", "--dry-run", "--ca-file", missing}, {"--ca-file", missing, "No such file"}},
      {{"run", "--target", "https://127.0.0.1:1/", "--ca-file", not_recording},
       {"gmsim run: --ca-file: " + not_recording + ": not a PEM certificate bundle"}},
      {{"run", "--dry-run", "--summary-json", nowhere},
       {"--summary-json", nowhere, "No such file"}},
      {{"run", "--dry-run", "--html", nowhere}, {"--html", nowhere}},
      {{"run", "--dry-run", "--junit", nowhere}, {"--junit", nowhere}},
      {{"run", "--dry-run", "--record", dir}, {"--record", "directory"}},
      {{"run", "--dry-run", "--lost-rows", nowhere}, {"--lost-rows", nowhere}},
      {{"run", "--dry-run", ok_profile, "quickstart"}, {"one profile", "'quickstart'"}},
      // receive
      {{"receive", "--bogus"}, {"unknown option '--bogus'", "gmsim receive --help"}},
      {{"receive", "--listne", "127.0.0.1:0"}, {"did you mean '--listen'"}},
      {{"receive", "9000"}, {"'9000'", "--listen"}},
      {{"receive", "--listen", "bogus"}, {"--listen", "bogus"}},
      {{"receive", "--status", "42"}, {"--status", "100..599"}},
      {{"receive", "--fail-ratio", "2"}, {"--fail-ratio", "[0, 1]"}},
      {{"receive", "--duration", "0"}, {"--duration"}},
      {{"receive", "--latency", "2s:1s"}, {"--latency", "MAX is below MIN"}},
      {{"receive", "--summary-json", nowhere}, {"--summary-json", nowhere}},
      // replay
      {{"replay", "--target", "http://127.0.0.1:1/"}, {"FILE is missing"}},
      {{"replay", missing, "--target", "http://127.0.0.1:1/"}, {missing, "cannot read"}},
      {{"replay", not_recording, "--target", "http://127.0.0.1:1/"},
       {not_recording + ":1", "not a recording"}},
      {{"replay", dir, "--target", "http://127.0.0.1:1/"}, {dir}},
      {{"replay", not_recording}, {"--target is required"}},
      {{"replay", not_recording, "--target", "ftp://x/"}, {"--target", "scheme 'ftp'"}},
      {{"replay", not_recording, "--target", "localhost"}, {"--target", "not a URL"}},
      {{"replay", not_recording, "--traget", "http://127.0.0.1:1/"}, {"did you mean '--target'"}},
      {{"replay", not_recording, "--target", "http://127.0.0.1:1/", "--summary-json", nowhere},
       {"--summary-json", nowhere}},
      {{"replay", not_recording, "--target", "http://127.0.0.1:1/", "--ca-file", missing},
       {"--ca-file", missing}},
      {{"replay", not_recording, "--target", "http://127.0.0.1:1/", "--time-scale", "0"},
       {"--time-scale"}},
      // merge
      {{"merge", "-o", file("m.json")}, {"no input"}},
      {{"merge", not_json}, {"-o OUT is required"}},
      {{"merge", missing, "-o", file("m.json")}, {missing, "cannot read"}},
      {{"merge", not_json, "-o", file("m.json")}, {not_json, "not JSON"}},
      {{"merge", not_json, "-o", nowhere}, {"--output", nowhere}},
      {{"merge", not_json, "-o", file("m.json"), "--froce"}, {"did you mean '--force'"}},
      // the small commands
      {{"validate", "--strict", not_json}, {"unknown option '--strict'"}},
      {{"validate", missing}, {missing, "No such file"}},
      {{"example", "rules", "--pretty"}, {"unknown option '--pretty'", "--compact"}},
      {{"example", "rule"}, {"unknown TYPE 'rule'"}},
      {{"profiles", "quickstart"}, {"takes no arguments"}},
      {{"edge-cases", "all"}, {"takes no arguments"}},
      {{"frobnicate"}, {"unknown command 'frobnicate'"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(testing::PrintToString(c.arguments));
    auto r = gmsim(c.arguments, 30s);
    expect_usage_error(r, c.mentions);
    const std::string prefix =
        c.arguments.front() == "frobnicate" ? "gmsim: " : "gmsim " + c.arguments.front() + ": ";
    EXPECT_EQ(r.err.rfind(prefix, 0), 0u) << r.err;
    // One message, not a stack of them ("error: ... caused by: ...").
    EXPECT_FALSE(contains(r.err, "caused by")) << r.err;
    EXPECT_FALSE(contains(r.err, "what()")) << r.err;
  }
  EXPECT_FALSE(fs::exists(file("m.json")));
  EXPECT_FALSE(fs::exists("/nonexistent-dir"));
}

// The built-in backlog profile overloads GMetri's pacing on purpose: never refused as a
// rate it "cannot meet".
TEST_F(cli_bad_input, the_backlog_profile_is_not_refused) {
  auto r = gmsim({"run", "backlog", "--dry-run", "--quiet", "--duration", "40s"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

// --- example ----------------------------------------------------------------------------

class cli_example : public cli {};

TEST_F(cli_example, prints_a_valid_body_of_each_type) {
  for (const std::string type : {"variables", "rules", "session"}) {
    SCOPED_TRACE(type);
    auto r = gmsim({"example", type});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    json body = json::parse(r.out, nullptr, false);
    ASSERT_FALSE(body.is_discarded()) << r.out;
    EXPECT_EQ(body["type"], type);
    EXPECT_TRUE(body["data"]["orgSlug"].is_string());
    EXPECT_TRUE(body["data"]["depSlug"].is_string());
    ASSERT_FALSE(body["data"]["rows"].empty());
    EXPECT_TRUE(body["data"]["rows"][0].contains(type)) << body.dump();
    EXPECT_GT(lines_of(r.out).size(), 5u);  // pretty-printed

    auto compact = gmsim({"example", type, "--compact"});
    ASSERT_EQ(compact.exit_code, 0) << compact.err;
    ASSERT_EQ(lines_of(compact.out).size(), 1u) << compact.out;
    EXPECT_EQ(json::parse(compact.out), body);
    auto v = gmsim({"validate", write(type + ".json", compact.out)});
    EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  }
}

TEST_F(cli_example, bogus_type_exits_2) {
  auto r = gmsim({"example", "bogus"});
  expect_usage_error(r, {"bogus", "variables, rules or session"});
  expect_usage_error(gmsim({"example"}), {"TYPE"});
}

// --- validate ---------------------------------------------------------------------------

class cli_validate : public cli {
 protected:
  json example(const std::string& type) {
    auto r = gmsim({"example", type, "--compact"});
    EXPECT_EQ(r.exit_code, 0);
    return json::parse(r.out);
  }
};

TEST_F(cli_validate, a_valid_body_passes) {
  auto f = write("ok.json", example("rules").dump());
  auto r = gmsim({"validate", f});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out, f + ": valid\n");
}

TEST_F(cli_validate, faults_are_named_by_json_pointer_and_reason) {
  json rules = example("rules");
  rules["data"]["rows"][0]["rules"][0]["cid"] = "1";
  json many = example("variables");
  while (many["data"]["rows"].size() < 501) many["data"]["rows"].push_back(many["data"]["rows"][0]);
  json anonymous = example("session");
  anonymous["data"]["rows"][0].erase("identifier");
  struct fault_case {
    std::string name, body, pointer, reason;
  };
  const std::vector<fault_case> cases = {
      {"cid.json", rules.dump(), "/data/rows/0/rules/0/cid", "integer"},
      {"many.json", many.dump(), "/data/rows", "500"},
      {"anonymous.json", anonymous.dump(), "/data/rows/0", "identifier"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto f = write(c.name, c.body);
    auto r = gmsim({"validate", f});
    EXPECT_EQ(r.exit_code, 1);
    auto first = lines_of(r.out).at(0);
    EXPECT_EQ(first.rfind(f + ": " + c.pointer, 0), 0u) << first;
    EXPECT_TRUE(contains(first, c.reason)) << first;
    EXPECT_TRUE(contains(r.err, "fault")) << r.err;
  }
}

TEST_F(cli_validate, arbitrary_bytes_are_refused_with_a_reason) {
  std::mt19937 random(7);
  std::string bytes(4096, '\0');
  for (auto& b : bytes) b = static_cast<char>(random() & 0xff);
  for (const auto& [name, text] :
       std::vector<std::pair<std::string, std::string>>{{"random.bin", bytes},
                                                        {"empty.json", ""},
                                                        {"array.json", "[1,2]"},
                                                        {"cut.json", "{\"type\":\"rul"}}) {
    SCOPED_TRACE(name);
    auto f = write(name, text);
    auto r = gmsim({"validate", f});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    ASSERT_FALSE(r.out.empty());
    EXPECT_EQ(r.out.rfind(f + ": ", 0), 0u) << r.out;
    EXPECT_GT(lines_of(r.out).at(0).size(), f.size() + 8) << "no reason given: " << r.out;
    EXPECT_LE(lines_of(r.out).size(), 3u) << r.out;
    // The input's bytes are not echoed raw onto the terminal.
    for (unsigned char c : r.out)
      EXPECT_TRUE(c == '\n' || (c >= 0x20 && c < 0x7f)) << static_cast<int>(c);
  }
}

TEST_F(cli_validate, missing_file_exits_2) {
  auto f = file("nowhere.json");
  auto r = gmsim({"validate", f});
  expect_usage_error(r, {f, "No such file"});
  expect_usage_error(gmsim({"validate", scratch_.string()}), {scratch_.string(), "directory"});
  auto none = gmsim({"validate"});
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_EQ(none.out, "");
  EXPECT_TRUE(contains(none.err, "Usage: gmsim validate FILE")) << none.err;
}

TEST_F(cli_validate, a_corrupted_recording_line_is_reported_by_number) {
  ASSERT_EQ(gmsim({"run", "--dry-run", "--quiet", "--record", file("r.ndjson")}).exit_code, 0);
  auto lines = lines_of(read_text(path("r.ndjson")));
  ASSERT_GT(lines.size(), 5u);
  json third = json::parse(lines[2]);
  json body = json::parse(third["body"].get<std::string>());
  body["data"].erase("depSlug");
  third["body"] = body.dump();
  lines[2] = third.dump();
  lines[4] = "{\"t_ms\": 1, garbage";
  std::string text;
  for (const auto& l : lines) text += l + "\n";
  auto f = write("bad.ndjson", text);
  auto r = gmsim({"validate", f});
  EXPECT_EQ(r.exit_code, 1);
  auto out = lines_of(r.out);
  ASSERT_EQ(out.size(), 2u) << r.out;
  EXPECT_EQ(out[0].rfind(f + ":3: /data", 0), 0u) << out[0];
  EXPECT_TRUE(contains(out[0], "depSlug")) << out[0];
  EXPECT_EQ(out[1].rfind(f + ":5: (body): recording line: not JSON", 0), 0u) << out[1];
  EXPECT_TRUE(contains(r.err, "2 fault")) << r.err;
}

// --- profiles ---------------------------------------------------------------------------

class cli_profiles : public cli {};

TEST_F(cli_profiles, lists_quickstart_with_its_description) {
  auto r = gmsim({"profiles"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(std::regex_search(
      r.out, std::regex("(^|\n)quickstart +A small run of all three webhook types")))
      << r.out;
  EXPECT_FALSE(contains(r.out, "broken"));
  EXPECT_EQ(r.err, "");
}

// --- live runs over loopback --------------------------------------------------------------

// A socket listening on 127.0.0.1 at a free port, which the kernel's backlog lets
// clients connect to whether or not anyone accepts; -1 if it cannot be made.
int listen_on_loopback(int& port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof address;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), size) != 0 || ::listen(fd, 64) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) != 0) {
    ::close(fd);
    return -1;
  }
  port = ntohs(address.sin_port);
  return fd;
}

class cli_live : public cli {
 protected:
  // A short live run: 3 s of traffic at 3x, about a second of wall time plus the drain.
  args live(args extra) {
    args a = {"run",     "--duration",     "3s",          "--time-scale", "3",
              "--quiet", "--summary-json", file("s.json")};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }
  static std::int64_t count(const json& j) { return j.get<std::int64_t>(); }
};

TEST_F(cli_live, embedded_receiver_takes_every_row_and_the_secret_stays_secret) {
  const std::string secret = "s3cret-Auth-String-0123456789";
  auto r = gmsim(live({"--auth-string", secret, "--record", file("r.ndjson")}), 60s);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json s = read_json("s.json");
  expect_summary_contract(s);
  EXPECT_FALSE(s["dry_run"].get<bool>());
  EXPECT_GT(count(s["requests"]["attempted"]), 0);
  EXPECT_EQ(s["requests"]["delivered"], s["requests"]["attempted"]);
  EXPECT_EQ(s["rows"]["delivered"], s["rows"]["generated"]);
  EXPECT_EQ(s["rows"]["lost"], 0);
  EXPECT_TRUE(std::regex_search(r.out, std::regex("rows lost +0\n"))) << r.out;
  ASSERT_TRUE(s["receiver"].is_object()) << s.dump();
  EXPECT_EQ(s["receiver"]["rows_accepted"], s["rows"]["delivered"]);
  EXPECT_EQ(s["receiver"]["requests"], s["requests"]["attempted"]);
  EXPECT_EQ(s["receiver"]["unauthorized"], 0);
  EXPECT_EQ(s["receiver"]["invalid"], 0);

  std::string summary_file = read_text(path("s.json"));
  for (const auto& [where, text] : std::vector<std::pair<std::string, std::string>>{
           {"stdout", r.out},
           {"stderr", r.err},
           {"summary", summary_file},
           {"recording", read_text(path("r.ndjson"))}}) {
    EXPECT_FALSE(contains(text, secret)) << "the auth string is in " << where;
  }
  // The environment variable is a way to give it too.
  auto env = gmsim(live({}), 60s, {"GMSIM_AUTH_STRING=" + secret});
  ASSERT_EQ(env.exit_code, 0) << env.err;
  json e = read_json("s.json");
  EXPECT_EQ(e["receiver"]["unauthorized"], 0);
  EXPECT_EQ(e["requests"]["delivered"], e["requests"]["attempted"]);
  EXPECT_FALSE(contains(env.out + env.err + read_text(path("s.json")), secret));
}

TEST_F(cli_live, ctrl_c_stops_the_run_and_still_writes_its_reports) {
  auto run = start({"run", "--duration", "10m", "--summary-json", file("s.json"), "--lost-rows",
                    file("lost.ndjson")});
  ASSERT_TRUE(run->wait_for_err(std::regex("sending to the embedded receiver"), 30s))
      << run->err_text();
  // The message comes just before the signal handler is set: leave it time to be.
  std::this_thread::sleep_for(1s);
  run->signal(SIGINT);
  auto r = run->wait(60s);
  EXPECT_EQ(r.exit_code, 130) << r.err;
  EXPECT_TRUE(contains(r.err, "stopping")) << r.err;
  EXPECT_TRUE(contains(r.out, "(interrupted)")) << r.out;
  json s = read_json("s.json");
  expect_summary_contract(s);
  EXPECT_TRUE(s["interrupted"].get<bool>());
  EXPECT_EQ(s["requests"]["failed"], 0);
  auto lost = lines_of(read_text(path("lost.ndjson")));
  EXPECT_EQ(static_cast<std::int64_t>(lost.size()), s["rows"]["lost"].get<std::int64_t>());
}

// The second Ctrl-C cuts every request in flight, the auth probes' too: they go on
// connections of their own. Against a server that takes connections and never answers,
// a probe left open held the run until its request timeout (120 s here).
TEST_F(cli_live, a_second_ctrl_c_cuts_the_auth_probes_in_flight_too) {
  int port = 0;
  const int silent = listen_on_loopback(port);
  ASSERT_GE(silent, 0);
  const auto profile = write("probe.json", R"({"name": "probe-stop", "seed": 3, "duration": "2m",
    "delivery": {"max_delay": "1s", "timeout": "120s"}, "edge_cases": ["auth-missing"]})");
  auto run =
      start({"run", profile, "--target", "http://127.0.0.1:" + std::to_string(port) + "/webhook",
             "--quiet", "--summary-json", file("s.json")});
  // The first window's requests: a stream's page and the probe, each on its connection.
  std::vector<int> held;
  const auto give_up = std::chrono::steady_clock::now() + 60s;
  while (held.size() < 2 && std::chrono::steady_clock::now() < give_up) {
    pollfd ready{silent, POLLIN, 0};
    if (::poll(&ready, 1, 100) == 1) held.push_back(::accept(silent, nullptr, nullptr));
  }
  ASSERT_EQ(held.size(), 2u) << run->err_text();
  std::this_thread::sleep_for(1s);  // the signal handler is set just after the first request
  run->signal(SIGINT);
  std::this_thread::sleep_for(200ms);
  run->signal(SIGINT);
  auto r = run->wait(60s);
  for (int fd : held) ::close(fd);
  ::close(silent);
  EXPECT_FALSE(r.timed_out) << "the run waited for a request it should have cut";
  EXPECT_EQ(r.exit_code, 130) << r.err;
  json s = read_json("s.json");
  EXPECT_EQ(s["auth_probes"]["sent"], 1) << s.dump();
  EXPECT_EQ(s["requests"]["by_error"]["reset"], s["requests"]["failed"]) << s.dump();
  EXPECT_EQ(s["requests"]["by_error"].count("timeout"), 0u) << s.dump();
}

class cli_receive : public cli {
 protected:
  // Starts `gmsim receive` on a free loopback port; returns the port, or 0.
  int start_receiver(std::unique_ptr<gmsim_process>& process, args extra) {
    args a = {"receive", "--listen", "127.0.0.1:0", "--quiet"};
    a.insert(a.end(), extra.begin(), extra.end());
    process = start(a);
    auto port =
        process->wait_for_err(std::regex("listening on http://127\\.0\\.0\\.1:(\\d+)/"), 20s);
    EXPECT_TRUE(port.has_value()) << process->err_text();
    return port ? std::stoi(*port) : 0;
  }
};

TEST_F(cli_receive, listens_counts_and_stops_by_itself) {
  std::unique_ptr<gmsim_process> receiver;
  int port = start_receiver(receiver, {"--duration", "2s", "--summary-json", file("counts.json")});
  ASSERT_GT(port, 0);
  auto r = receiver->wait(30s);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_TRUE(contains(r.err, "gmsim receive: stopped")) << r.err;
  json counts = read_json("counts.json");
  ASSERT_TRUE(counts.is_object());
  for (const char* k : {"requests", "valid", "invalid", "unauthorized", "rows_accepted"}) {
    EXPECT_EQ(counts[k], 0) << k;
  }
}

TEST_F(cli_receive, bad_options_exit_2) {
  expect_usage_error(gmsim({"receive", "--listen", "bogus", "--duration", "1s"}, 30s),
                     {"--listen", "bogus"});
  expect_usage_error(gmsim({"receive", "--listen", "127.0.0.1:0", "--duration", "0"}, 30s),
                     {"--duration"});
  expect_usage_error(gmsim({"receive", "--listen", "127.0.0.1:0", "--max-body", "-1"}, 30s),
                     {"--max-body", "'-1'"});
  expect_usage_error(gmsim({"receive", "--listen", "127.0.0.1:0", "--status", "42"}, 30s),
                     {"--status", "42"});
  expect_usage_error(gmsim({"receive", "--listen", "127.0.0.1:0", "--latency", "5x"}, 30s),
                     {"--latency", "5x"});
  expect_usage_error(gmsim({"receive", "--bogus"}, 30s), {"--bogus"});
}

TEST_F(cli_receive, port_in_use_exits_1_naming_the_address) {
  int port = 0;
  const int held = listen_on_loopback(port);
  ASSERT_GE(held, 0);
  std::string listen = "127.0.0.1:" + std::to_string(port);
  auto r = gmsim({"receive", "--listen", listen, "--duration", "1s"}, 30s);
  ::close(held);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(lines_of(r.err).size(), 1u) << r.err;
  EXPECT_TRUE(contains(r.err, listen)) << r.err;
}

TEST_F(cli_receive, run_against_receive_right_and_wrong_auth_string) {
  const std::string secret = "pair-secret-0123456789abcdef";
  std::unique_ptr<gmsim_process> receiver;
  int port = start_receiver(receiver, {"--auth-string", secret, "--duration", "30s",
                                       "--summary-json", file("counts.json")});
  ASSERT_GT(port, 0);
  const std::string target = "http://127.0.0.1:" + std::to_string(port) + "/hook";
  auto live = [&](const std::string& auth, const std::string& summary) {
    return gmsim(
        {"run", "--target", target, "--auth-string", auth, "--duration", "3s", "--time-scale", "3",
         "--summary-json", file(summary), "--lost-rows", file(summary + ".lost"), "--quiet"},
        60s);
  };
  auto good = live(secret, "good.json");
  ASSERT_EQ(good.exit_code, 0) << good.err;
  json g = read_json("good.json");
  expect_summary_contract(g);
  EXPECT_EQ(g["target"], target);
  EXPECT_GT(g["requests"]["attempted"].get<std::int64_t>(), 0);
  EXPECT_EQ(g["requests"]["delivered"], g["requests"]["attempted"]);
  EXPECT_EQ(g["rows"]["delivered"], g["rows"]["generated"]);
  EXPECT_FALSE(g.contains("receiver"));  // not the embedded one
  EXPECT_EQ(read_text(path("good.json.lost")), "");

  auto bad = live("wrong-secret-0123456789abcdef", "bad.json");
  ASSERT_EQ(bad.exit_code, 0) << bad.err;
  json b = read_json("bad.json");
  expect_summary_contract(b);
  EXPECT_GT(b["requests"]["attempted"].get<std::int64_t>(), 0);
  EXPECT_EQ(b["requests"]["rejected"], b["requests"]["attempted"]);
  EXPECT_EQ(b["requests"]["by_status"]["401"], b["requests"]["attempted"]);
  EXPECT_EQ(b["rows"]["rejected"], b["rows"]["generated"]);
  EXPECT_EQ(b["rows"]["delivered"], 0);
  EXPECT_TRUE(std::regex_search(bad.out, std::regex("statuses +401 x"))) << bad.out;
  auto lost = lines_of(read_text(path("bad.json.lost")));
  EXPECT_EQ(static_cast<std::int64_t>(lost.size()), b["rows"]["rejected"].get<std::int64_t>());
  for (const auto& line : lost) {
    json row = json::parse(line);
    EXPECT_EQ(row["reason"], "status 401") << line;
    EXPECT_EQ(row["outcome"], "rejected") << line;
  }

  receiver->signal(SIGTERM);
  auto stopped = receiver->wait(30s);
  EXPECT_EQ(stopped.exit_code, 0) << stopped.err;
  EXPECT_FALSE(
      contains(stopped.out + stopped.err + good.out + good.err + bad.out + bad.err, secret));
  json counts = read_json("counts.json");
  EXPECT_EQ(counts["rows_accepted"], g["rows"]["delivered"]);
  EXPECT_EQ(counts["unauthorized"], b["requests"]["attempted"]);
  EXPECT_EQ(counts["invalid"], 0);
}

// --- docs/cli.md ----------------------------------------------------------------------------

class cli_docs : public cli {};

TEST_F(cli_docs, cli_md_documents_every_option_of_every_command) {
  std::string doc = read_text(source_dir() / "docs" / "cli.md");
  ASSERT_FALSE(doc.empty()) << "no docs/cli.md under " << source_dir();
  const std::regex option("(?:^|\\s)(--[a-z][a-z-]+)");
  for (const std::string command : {"run", "receive", "example", "validate", "profiles"}) {
    EXPECT_TRUE(contains(doc, "## gmsim " + command)) << command;
    auto help = gmsim({command, "--help"}).out;
    for (std::sregex_iterator m(help.begin(), help.end(), option), end; m != end; ++m) {
      std::string name = (*m)[1];
      if (name == "--help") continue;
      EXPECT_TRUE(contains(doc, "`" + name)) << "docs/cli.md lacks " << command << " " << name;
    }
  }
}
