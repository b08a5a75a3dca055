// gmsim replay, end to end through the binary, against a loopback server that keeps
// every body it is sent.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "binary_support.hpp"
#include "record/recording.hpp"

namespace gmsim {
namespace {

using json = nlohmann::json;
using testing::gmsim_process;
using testing::read_lines;
using testing::run_gmsim;
using testing::scratch_dir;
using steady = std::chrono::steady_clock;

// A minimal HTTP/1.1 keep-alive server on 127.0.0.1 that answers 200 (after
// answer_delay) and keeps each request's body and headers, and when it arrived and was
// answered.
class body_server {
 public:
  struct request {
    std::string body;
    std::map<std::string, std::string> headers;  // names lowercased
    steady::time_point arrived, answered;
  };

  explicit body_server(std::chrono::milliseconds answer_delay = {}) : answer_delay_(answer_delay) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listen_fd_, 64) != 0) {
      throw std::runtime_error("body_server: cannot listen");
    }
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~body_server() {
    stop_ = true;
    acceptor_.join();
    for (auto& t : connections_) t.join();
    ::close(listen_fd_);
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hook"; }
  std::vector<request> requests() {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  std::size_t count() {
    std::lock_guard lock(mutex_);
    return requests_.size();
  }

 private:
  // Waits for fd to be readable, at most 50 ms at a time, until stop_.
  bool readable(int fd) {
    pollfd p{fd, POLLIN, 0};
    while (!stop_) {
      if (::poll(&p, 1, 50) > 0) return true;
    }
    return false;
  }

  void accept_loop() {
    while (readable(listen_fd_)) {
      int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd >= 0) connections_.emplace_back([this, fd] { serve(fd); });
    }
  }

  void serve(int fd) {
    std::string buffer;
    char chunk[65536];
    auto fill = [&]() {
      if (!readable(fd)) return false;
      ssize_t n = ::read(fd, chunk, sizeof chunk);
      if (n <= 0) return false;
      buffer.append(chunk, static_cast<std::size_t>(n));
      return true;
    };
    for (;;) {
      while (buffer.empty()) {
        if (!fill()) return (void)::close(fd);
      }
      request r;
      r.arrived = steady::now();
      std::size_t end;
      while ((end = buffer.find("\r\n\r\n")) == std::string::npos) {
        if (!fill()) return (void)::close(fd);
      }
      std::istringstream head(buffer.substr(0, end));
      std::string line;
      std::getline(head, line);  // the request line
      while (std::getline(head, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        std::string name = line.substr(0, colon);
        std::transform(name.begin(), name.end(), name.begin(),
                       [](unsigned char c) { return std::tolower(c); });
        r.headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
      }
      std::size_t length = std::stoul(r.headers["content-length"]);
      buffer.erase(0, end + 4);
      while (buffer.size() < length) {
        if (!fill()) return (void)::close(fd);
      }
      r.body = buffer.substr(0, length);
      buffer.erase(0, length);
      static const std::string answer = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
      std::this_thread::sleep_for(answer_delay_);
      r.answered = steady::now();
      {
        std::lock_guard lock(mutex_);
        requests_.push_back(std::move(r));
      }
      if (::write(fd, answer.data(), answer.size()) != static_cast<ssize_t>(answer.size())) {
        return (void)::close(fd);
      }
    }
  }

  std::chrono::milliseconds answer_delay_;
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread acceptor_;
  std::vector<std::thread> connections_;  // only the acceptor adds to it
  std::mutex mutex_;
  std::vector<request> requests_;
};

struct recorded_line {
  millis t;
  std::string stream;
  std::string queue;  // the org: these recordings are of the default webhook scope
  std::int64_t rows;
  std::string body;
  std::int64_t sent_us;
};

std::string stream_of(const json& line) {
  return line["org"].get<std::string>() + "/" + line["dep"].get<std::string>() + "/" +
         line["type"].get<std::string>();
}

std::vector<recorded_line> read_recording(const std::string& path) {
  auto lines = read_lines(path);
  EXPECT_FALSE(lines.empty()) << path;
  std::vector<recorded_line> out;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    auto doc = json::parse(lines[i]);
    out.push_back({doc["t_ms"].get<millis>(), stream_of(doc), doc["org"].get<std::string>(),
                   doc["rows"].get<std::int64_t>(),
                   doc["body"].get<std::string>(), doc.value("sent_us", std::int64_t{-1})});
  }
  return out;
}

std::string org_of_body(const std::string& body) {
  return json::parse(body)["data"]["orgSlug"].get<std::string>();
}

// The server got exactly the recording's bodies, each pacing queue's (the recordings
// here are of the default webhook scope: one queue per org) in recorded order, and never
// a queue's next request before the previous one was answered.
void expect_same_bodies(const std::vector<recorded_line>& recording,
                        const std::vector<body_server::request>& got) {
  std::map<std::string, std::vector<std::string>> want_by_queue, got_by_queue;
  for (const auto& r : recording) want_by_queue[r.queue].push_back(r.body);
  std::map<std::string, const body_server::request*> previous;
  for (const auto& r : got) {
    auto queue = org_of_body(r.body);
    got_by_queue[queue].push_back(r.body);
    if (auto it = previous.find(queue); it != previous.end()) {
      EXPECT_GE(r.arrived, it->second->answered) << "two requests of " << queue << " in flight";
    }
    previous[queue] = &r;
  }
  ASSERT_EQ(got.size(), recording.size());
  EXPECT_EQ(got_by_queue, want_by_queue);  // byte for byte, in order per queue
}

json read_json(const std::string& path) { return json::parse(testing::read_text(path)); }

// A minute of quickstart in small pages and short ticks: a hundred requests or so, many of
// them back to back (200 ms apart) in their stream.
std::vector<std::string> traffic(std::vector<std::string> args) {
  for (const char* a : {"--duration", "1m", "--max-delay", "5s", "--batch-rows", "5", "--quiet"})
    args.push_back(a);
  return args;
}

std::int64_t total_rows(const std::vector<recorded_line>& recording) {
  std::int64_t rows = 0;
  for (const auto& r : recording) rows += r.rows;
  return rows;
}

TEST(replay, dry_recording_goes_out_byte_identical_with_the_recorded_spacing) {
  scratch_dir dir;
  const auto original = dir.file("dry.ndjson");
  auto recorded = run_gmsim(
      traffic({"run", "quickstart", "--dry-run", "--seed", "7", "--record", original}), dir);
  ASSERT_EQ(recorded.exit_code, 0) << recorded.err;
  const auto recording = read_recording(original);
  ASSERT_GT(recording.size(), 10u);

  // Answers take 15 ms, longer than the 10 ms that a 200 ms gap is at time scale 20: a
  // replay that paced each stream apart would have two of the org's requests in flight.
  body_server server(std::chrono::milliseconds(15));
  const double scale = 20;
  auto replayed =
      run_gmsim({"replay", original, "--target", server.url(), "--time-scale", "20",
                 "--auth-string", "s3cret-string", "--header", "X-Replay: yes", "--record",
                 dir.file("replay.ndjson"), "--summary-json", dir.file("summary.json"),
                 "--lost-rows", dir.file("lost.ndjson"), "--workers", "2", "--quiet"},
                dir);
  ASSERT_EQ(replayed.exit_code, 0) << replayed.err;
  auto got = server.requests();
  expect_same_bodies(recording, got);
  for (const auto& r : got) {
    EXPECT_EQ(r.headers.at("authorization"), "Basic s3cret-string");
    EXPECT_EQ(r.headers.at("x-replay"), "yes");
  }

  auto summary = read_json(dir.file("summary.json"));
  const auto n = static_cast<std::int64_t>(recording.size());
  EXPECT_EQ(summary["profile"], "quickstart");
  EXPECT_EQ(summary["seed"], 7);
  EXPECT_EQ(summary["shard"], "1/1");
  EXPECT_EQ(summary["dry_run"], false);
  EXPECT_EQ(summary["replay_of"], original);
  EXPECT_EQ(summary["requests"]["attempted"], n);
  EXPECT_EQ(summary["requests"]["delivered"], n);
  EXPECT_EQ(summary["requests"]["unsent"], 0);
  EXPECT_EQ(summary["requests"]["by_status"]["200"], n);
  EXPECT_EQ(summary["rows"]["generated"], total_rows(recording));
  EXPECT_EQ(summary["rows"]["delivered"], total_rows(recording));
  EXPECT_EQ(summary["latency_ms"]["count"], n);
  EXPECT_TRUE(read_lines(dir.file("lost.ndjson")).empty());

  // The replay's own recording: the same lines in the same order, and its send times keep
  // each request at or after its scaled time and each queue's starts at least the
  // recorded gap apart (or 200 ms, the shorter), scaled.
  auto again = read_recording(dir.file("replay.ndjson"));
  ASSERT_EQ(again.size(), recording.size());
  std::map<std::string, const recorded_line*> previous;
  for (std::size_t i = 0; i < again.size(); ++i) {
    EXPECT_EQ(again[i].body, recording[i].body);
    EXPECT_EQ(again[i].t, recording[i].t);
    const auto& r = again[i];
    EXPECT_GE(r.sent_us, static_cast<std::int64_t>(static_cast<double>(r.t) * 1000 / scale));
    if (auto it = previous.find(r.queue); it != previous.end()) {
      const millis gap = std::min<millis>(r.t - it->second->t, 200);
      EXPECT_GE(r.sent_us - it->second->sent_us,
                static_cast<std::int64_t>(static_cast<double>(gap) * 1000 / scale))
          << r.queue << " at t_ms " << r.t;
    }
    previous[r.queue] = &r;
  }
  // The replay's recording replays too (validate reads it as any recording).
  auto valid = run_gmsim({"validate", dir.file("replay.ndjson")}, dir);
  EXPECT_EQ(valid.exit_code, 0) << valid.out;
}

TEST(replay, live_recording_replays) {
  scratch_dir dir;
  const auto original = dir.file("live.ndjson");
  auto recorded =
      run_gmsim(traffic({"run", "quickstart", "--time-scale", "30", "--record", original}), dir);
  ASSERT_EQ(recorded.exit_code, 0) << recorded.err;
  const auto recording = read_recording(original);
  ASSERT_GT(recording.size(), 10u);

  body_server server;
  auto replayed =
      run_gmsim({"replay", original, "--target", server.url(), "--no-auth", "--time-scale", "50",
                 "--summary-json", dir.file("summary.json"), "--quiet"},
                dir);
  ASSERT_EQ(replayed.exit_code, 0) << replayed.err;
  expect_same_bodies(recording, server.requests());
  auto summary = read_json(dir.file("summary.json"));
  EXPECT_EQ(summary["requests"]["delivered"], static_cast<std::int64_t>(recording.size()));
  EXPECT_EQ(summary["rows"]["delivered"], total_rows(recording));
  EXPECT_NE(replayed.out.find("live: " + server.url()), std::string::npos) << replayed.out;
}

std::uint16_t closed_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);  // bound, never listened: nothing accepts there
  return ntohs(addr.sin_port);
}

TEST(replay, closed_port_fails_every_request_and_lists_every_row_lost) {
  scratch_dir dir;
  const auto original = dir.file("dry.ndjson");
  ASSERT_EQ(run_gmsim({"run", "--dry-run", "--record", original, "--quiet"}, dir).exit_code, 0);
  const auto recording = read_recording(original);
  const auto url = "http://127.0.0.1:" + std::to_string(closed_port()) + "/hook";
  auto replayed = run_gmsim(
      {"replay", original, "--target", url, "--no-auth", "--time-scale", "1000", "--summary-json",
       dir.file("summary.json"), "--lost-rows", dir.file("lost.ndjson"), "--quiet"},
      dir);
  ASSERT_EQ(replayed.exit_code, 0) << replayed.err;
  auto summary = read_json(dir.file("summary.json"));
  const auto n = static_cast<std::int64_t>(recording.size());
  EXPECT_EQ(summary["requests"]["attempted"], n);
  EXPECT_EQ(summary["requests"]["failed"], n);
  EXPECT_EQ(summary["requests"]["by_error"], json({{"connect_refused", n}}));
  EXPECT_EQ(summary["rows"]["failed"], total_rows(recording));
  EXPECT_EQ(summary["rows"]["lost"], total_rows(recording));

  // One line per row, naming the identifier the body carried, in the recording's order.
  std::vector<std::string> want, got;
  for (const auto& r : recording) {
    const json body = json::parse(r.body);
    for (const auto& row : body["data"]["rows"])
      want.push_back(r.stream + " " + row["identifier"].dump());
  }
  for (const auto& line : read_lines(dir.file("lost.ndjson"))) {
    auto doc = json::parse(line);
    EXPECT_EQ(doc["outcome"], "failed");
    EXPECT_EQ(doc["reason"], "connect_refused");
    got.push_back(stream_of(doc) + " " + doc["identifier"].dump());
  }
  EXPECT_EQ(got, want);
}

// How many lines a reader that splits at every Unicode line boundary sees (Python's
// str.splitlines, editors, log shippers): '\n', and U+0085, U+2028, U+2029 raw (JSON
// escapes every other control character).
std::size_t lines_split_everywhere(const std::string& text) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n') ++n;
    if (text.compare(i, 2, "\xc2\x85") == 0 || text.compare(i, 3, "\xe2\x80\xa8") == 0 ||
        text.compare(i, 3, "\xe2\x80\xa9") == 0) {
      ++n;
    }
  }
  return n;
}

// The recording and the lost rows have one owner (src/record/), whoever writes them: a
// replay's files split into lines as a run's do, for a '\n' reader and for one that
// splits at every line boundary alike. Every edge case, U+2028/U+2029 among them, and a
// closed port, so that every row is lost too.
TEST(replay, a_replays_files_split_into_lines_as_a_runs_do) {
  scratch_dir dir;
  const auto original = dir.file("run.ndjson");
  auto recorded = run_gmsim({"run", "--dry-run", "--edge-case", "all", "--record", original,
                             "--quiet"},
                            dir);
  ASSERT_EQ(recorded.exit_code, 0) << recorded.err;
  const auto url = "http://127.0.0.1:" + std::to_string(closed_port()) + "/hook";
  auto replayed = run_gmsim(
      {"replay", original, "--target", url, "--no-auth", "--time-scale", "1000", "--record",
       dir.file("replay.ndjson"), "--lost-rows", dir.file("lost.ndjson"), "--quiet"},
      dir);
  ASSERT_EQ(replayed.exit_code, 0) << replayed.err;

  const std::string run_text = testing::read_text(original);
  const std::string replay_text = testing::read_text(dir.file("replay.ndjson"));
  const std::string lost_text = testing::read_text(dir.file("lost.ndjson"));
  ASSERT_NE(run_text.find("\\u2028"), std::string::npos) << "no edge case with U+2028 ran";
  for (const auto* text : {&run_text, &replay_text, &lost_text}) {
    EXPECT_EQ(lines_split_everywhere(*text),
              static_cast<std::size_t>(std::count(text->begin(), text->end(), '\n')));
  }
  // The same requests, line for line, and a lost-rows line per recorded row.
  const auto recording = read_recording(original);
  EXPECT_EQ(read_recording(dir.file("replay.ndjson")).size(), recording.size());
  EXPECT_EQ(static_cast<std::int64_t>(read_lines(dir.file("lost.ndjson")).size()),
            total_rows(recording));
}

TEST(replay, sigint_stops_counts_the_rest_unsent_and_exits_130) {
  scratch_dir dir;
  const auto original = dir.file("dry.ndjson");
  ASSERT_EQ(run_gmsim(traffic({"run", "--dry-run", "--record", original}), dir).exit_code, 0);
  const auto recording = read_recording(original);
  body_server server;
  // At real speed the recording lasts tens of seconds: it is stopped long before its end.
  gmsim_process replay(
      {"replay", original, "--target", server.url(), "--no-auth", "--summary-json",
       dir.file("summary.json"), "--lost-rows", dir.file("lost.ndjson"), "--quiet"},
      dir);
  const auto deadline = steady::now() + std::chrono::seconds(30);
  while (server.count() == 0 && steady::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_GT(server.count(), 0u);
  replay.signal(SIGINT);
  auto result = replay.wait(std::chrono::seconds(30));
  ASSERT_EQ(result.exit_code, 130) << result.err;

  auto summary = read_json(dir.file("summary.json"));
  const auto& rows = summary["rows"];
  EXPECT_EQ(summary["interrupted"], true);
  EXPECT_GT(summary["requests"]["unsent"].get<std::int64_t>(), 0);
  EXPECT_EQ(summary["requests"]["delivered"].get<std::int64_t>() +
                summary["requests"]["unsent"].get<std::int64_t>(),
            static_cast<std::int64_t>(recording.size()));
  EXPECT_EQ(rows["generated"], total_rows(recording));
  EXPECT_EQ(rows["generated"].get<std::int64_t>(),
            rows["delivered"].get<std::int64_t>() + rows["rejected"].get<std::int64_t>() +
                rows["failed"].get<std::int64_t>() + rows["unacknowledged"].get<std::int64_t>() +
                rows["unsent"].get<std::int64_t>() + rows["auth_probes"].get<std::int64_t>());
  auto lost = read_lines(dir.file("lost.ndjson"));
  EXPECT_EQ(static_cast<std::int64_t>(lost.size()), rows["unsent"].get<std::int64_t>());
  for (const auto& line : lost) {
    auto doc = json::parse(line);
    EXPECT_EQ(doc["reason"], "unsent");
    EXPECT_TRUE(doc["identifier"].is_string()) << line;
  }
}

void write(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

TEST(replay, a_file_that_is_not_a_recording_exits_2_naming_the_line) {
  scratch_dir dir;
  body_server server;
  const std::string header = R"({"gmsim_record":1,"profile":"p","seed":1,"start_time":0})";
  const std::string good =
      R"({"t_ms":0,"org":"o","dep":"d","type":"rules","seq":0,"rows":1,"body":"{\"data\":{\"rows\":[{}]}}"})";
  const auto line = [](const std::string& fields) {
    return R"({"org":"o","dep":"d","type":"rules",)" + fields + "}";
  };
  struct bad_case {
    std::string name, text, expect;
  } cases[] = {
      {"body.json", R"({"type":"rules","data":{"orgSlug":"o","depSlug":"d","rows":[]}})",
       "body.json:1: not a recording: no \"gmsim_record\" header"},
      {"empty.ndjson", "", "empty.ndjson:1: not a recording"},
      {"bad_json.ndjson", header + "\n" + good + "\n{\"t_ms\":\n",
       "bad_json.ndjson:3: the line is not JSON"},
      {"no_body.ndjson",
       header + "\n" + R"({"t_ms":0,"org":"o","dep":"d","type":"rules","rows":1})" + "\n",
       "no_body.ndjson:2: \"body\" is missing"},
      {"bad_type.ndjson",
       header + "\n" + good + "\n" +
           R"({"t_ms":5,"org":"o","dep":"d","type":"x","rows":1,"body":""})",
       "bad_type.ndjson:3: \"type\" must be variables, rules or session"},
      {"format.ndjson", R"({"gmsim_record":2})", "format.ndjson:1: unsupported recording format 2"},
      // Issue 20: "rows" was trusted (a 1-row body counted as 999,999 rows), and a t_ms of
      // 10^12 made the replay wait 31 years.
      {"rows.ndjson",
       header + "\n" + line(R"("t_ms":0,"rows":999999,"body":"{\"data\":{\"rows\":[{}]}}")"),
       "rows.ndjson:2: \"rows\" is 999999 but the body holds 1 rows"},
      {"no_rows.ndjson", header + "\n" + line(R"("t_ms":0,"rows":1,"body":"{}")"),
       "no_rows.ndjson:2: \"body\" is not a webhook body with a data.rows list"},
      {"t_ms.ndjson",
       header + "\n" + line(R"("t_ms":1000000000000,"rows":1,"body":"{\"data\":{\"rows\":[{}]}}")"),
       "t_ms.ndjson:2: \"t_ms\" is 1000000000000, past the 30 days a run may last"},
  };
  for (const auto& c : cases) {
    write(dir.file(c.name), c.text);
    auto r = run_gmsim(
        {"replay", dir.file(c.name), "--target", server.url(), "--no-auth", "--quiet"}, dir);
    EXPECT_EQ(r.exit_code, 2) << c.name;
    EXPECT_NE(r.err.find(c.expect), std::string::npos) << c.name << ": " << r.err;
  }
  auto missing =
      run_gmsim({"replay", dir.file("nope.ndjson"), "--target", server.url(), "--no-auth"}, dir);
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("nope.ndjson: cannot read"), std::string::npos) << missing.err;
  auto no_target = run_gmsim({"replay", dir.file("format.ndjson")}, dir);
  EXPECT_EQ(no_target.exit_code, 2);
  EXPECT_NE(no_target.err.find("--target is required"), std::string::npos) << no_target.err;
  EXPECT_EQ(server.count(), 0u);  // nothing goes out before the whole file checks
}

// Found in the fuzzing work (docs/fuzzing.md; tests/fuzz/corpus/recording/regression-*): nlohmann
// throws out_of_range, not parse_error, for 1e999, and it escaped as "gmsim failed".
TEST(recording_index, a_number_beyond_a_double_is_not_json_on_its_line) {
  scratch_dir dir;
  const auto path = dir.file("r.ndjson");
  const auto error_of = [&](const std::string& text) -> std::string {
    write(path, text);
    try {
      index_recording(path);
    } catch (const recording_error& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_EQ(error_of("{\"gmsim_record\":1,\"seed\":1e999}\n"),
            path +
                ":1: not a recording: the first line is not JSON; a recording starts with a "
                "{\"gmsim_record\":1,...} line");
  EXPECT_EQ(error_of("{\"gmsim_record\":1}\n{\"t_ms\":1e999}\n"),
            path + ":2: the line is not JSON: a number is out of range");
}

TEST(recording_index, streams_in_order_of_appearance_with_their_lines) {
  scratch_dir dir;
  const auto path = dir.file("r.ndjson");
  write(path,
        "{\"gmsim_record\":1,\"version\":\"0.1.0\",\"profile\":\"p\",\"seed\":9,\"start_time\":5,"
        "\"shard\":\"2/3\","
        "\"dry_run\":true}\n"
        "{\"t_ms\":10,\"org\":\"o\",\"dep\":\"a\",\"type\":\"rules\",\"seq\":0,\"rows\":2,\"body\":"
        "\"{\\\"data\\\":{\\\"rows\\\":[\\\"x\\\",\\\"y\\\"]}}\"}\r\n"
        "\n"
        "{\"t_ms\":20,\"org\":\"o\",\"dep\":\"b\",\"type\":\"session\",\"rows\":1,\"body\":"
        "\"{\\\"data\\\":{\\\"rows\\\":[0]}}\"}\n"
        "{\"t_ms\":30,\"org\":\"o\",\"dep\":\"a\",\"type\":\"rules\",\"seq\":1,\"rows\":3,\"body\":"
        "\"{\\\"data\\\":{\\\"rows\\\":[1,2,3]}}\"}");
  auto index = index_recording(path);
  EXPECT_EQ(index.header.profile, "p");
  EXPECT_EQ(index.header.seed, 9u);
  EXPECT_EQ(index.header.start_time, 5);
  EXPECT_EQ(index.header.shard.index, 2);
  EXPECT_EQ(index.header.shard.count, 3);
  EXPECT_TRUE(index.header.dry_run);
  EXPECT_EQ(index.header.requests, 3u);
  EXPECT_EQ(index.header.last_t_ms, 30);
  EXPECT_EQ(index.deployments, 2u);
  ASSERT_EQ(index.streams.size(), 2u);
  EXPECT_EQ(index.streams[0].dep, "a");
  ASSERT_EQ(index.streams[0].requests.size(), 2u);
  EXPECT_EQ(index.streams[0].requests[1].line, 5u);
  EXPECT_EQ(index.streams[0].requests[1].rows, 3);
  EXPECT_EQ(index.streams[1].requests[0].sequence, 0u);  // no seq: its place in the stream

  recording_file file(path);
  std::string body, why;
  ASSERT_TRUE(file.read_body(index.streams[0].requests[0], body, why)) << why;
  EXPECT_EQ(body, R"({"data":{"rows":["x","y"]}})");
  ASSERT_TRUE(file.read_body(index.streams[0].requests[1], body, why)) << why;
  EXPECT_EQ(body, R"({"data":{"rows":[1,2,3]}})");
}

}  // namespace
}  // namespace gmsim
