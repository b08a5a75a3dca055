// The replay: the recording's pacing queues (its header's pacing_scope: one per org, per
// deployment, per stream, or one) split over worker threads, each with its own
// io_context, a timer and a keep-alive connection per queue; the main thread handles
// signals and progress, as in a live run (run_control.cpp).
#include "run/replay.hpp"

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <tuple>

#include "core/bounded_json.hpp"
#include "core/json_writer.hpp"
#include "net/http_connection.hpp"
#include "record/ledger.hpp"
#include "record/lost_rows.hpp"
#include "record/recording.hpp"
#include "run/run_control.hpp"

namespace gmsim {
namespace {

namespace asio = boost::asio;
using steady = std::chrono::steady_clock;

// Recorded time runs time_scale times faster than the wall clock from the replay's start.
struct replay_clock {
  steady::time_point start;
  double scale = 1.0;
  std::int64_t now_us() const {
    return std::chrono::duration_cast<std::chrono::microseconds>(steady::now() - start).count();
  }
  std::int64_t at_us(millis t) const {
    return static_cast<std::int64_t>(static_cast<double>(t) * 1000.0 / scale);
  }
};

// One pacing queue of the recording: its requests in file order (intended time), each
// with its stream.
struct replay_queue {
  struct item {
    const recorded_stream* stream;
    const recorded_request* request;
  };
  std::vector<item> requests;
};

// The recording's queues under its header's pacing scope, in order of first appearance.
std::vector<replay_queue> queues_of(const recording_index& index) {
  std::vector<replay_queue> out;
  std::map<std::tuple<std::string, std::string, int>, std::size_t> queue_of;
  for (const auto& s : index.streams) {
    std::tuple<std::string, std::string, int> key;
    switch (index.header.scope) {
      case pacing_scope::webhook: key = {s.org, "", 0}; break;
      case pacing_scope::deployment: key = {s.org, s.dep, 0}; break;
      case pacing_scope::stream: key = {s.org, s.dep, static_cast<int>(s.type) + 1}; break;
      case pacing_scope::endpoint: break;
    }
    auto [it, added] = queue_of.emplace(key, out.size());
    if (added) out.emplace_back();
    for (const auto& r : s.requests) out[it->second].requests.push_back({&s, &r});
  }
  for (auto& q : out) {
    std::sort(q.requests.begin(), q.requests.end(),
              [](const auto& a, const auto& b) { return a.request->line < b.request->line; });
  }
  return out;
}

class replay_worker {
 public:
  replay_worker(const replay_config& config, const std::vector<const replay_queue*>& queues,
                const recording_file& file, const replay_clock& time,
                const std::shared_ptr<asio::ssl::context>& tls)
      : config_(config), file_(file), time_(time) {
    if (!config.record_path.empty()) record_ = std::make_unique<ledger_part>();
    if (!config.lost_rows_path.empty()) lost_ = std::make_unique<ledger_part>();
    // Connections are made here, on the calling thread, so that a bad header throws there.
    for (const auto* q : queues) {
      streams_.push_back(std::make_unique<stream_run>(io_, *q));
      streams_.back()->connection = std::make_unique<http_connection>(io_, config.transport, tls);
    }
    remaining_ = streams_.size();
  }

  // Replays the worker's streams to their end, then calls finished (on this thread).
  void run(const std::function<void()>& finished) {
    asio::post(io_, [this] {
      for (auto& s : streams_) do_wait(*s);
      if (remaining_ == 0) finish();
    });
    io_.run();
    publish(true);
    finished();
  }

  // From any thread: nothing more starts; what is left is unsent. hard: cut requests in
  // flight too.
  void request_stop(bool hard) {
    asio::post(io_, [this, hard] {
      stopping_ = true;
      for (auto& s : streams_) {
        if (s->in_flight) {
          if (hard) s->connection->close();
        } else if (!s->finished) {
          s->timer.cancel();
          end_stream(*s);
        }
      }
    });
  }

  progress_snapshot snapshot() {
    std::lock_guard lock(mutex_);
    return snapshot_;
  }
  const run_stats& stats() const { return stats_; }
  ledger_part* record() { return record_.get(); }
  ledger_part* lost() { return lost_.get(); }

 private:
  struct stream_run {  // a queue's run
    stream_run(asio::io_context& io, const replay_queue& q) : info(q), timer(io) {}
    const replay_queue& info;
    const recorded_request& request() const { return *info.requests[next].request; }
    const recorded_stream& stream() const { return *info.requests[next].stream; }
    std::size_t next = 0;  // the request to send next
    bool in_flight = false;
    bool finished = false;
    std::int64_t last_sent_us = 0;
    std::int64_t due_us = 0;  // the earliest start the recording and the gap allow
    asio::steady_timer timer;
    std::unique_ptr<http_connection> connection;
    std::string body;  // of the request in flight: it must outlive the send
  };

  // Waits for the next request's time: its recorded time, and no sooner after the
  // previous start than the recorded gap or min_gap, whichever is shorter.
  void do_wait(stream_run& s) {
    if (stopping_ || s.next == s.info.requests.size()) return end_stream(s);
    const auto& r = s.request();
    std::int64_t due = time_.at_us(r.t);
    if (s.next > 0) {
      millis gap = std::min(std::max<millis>(r.t - s.info.requests[s.next - 1].request->t, 0),
                            std::max<millis>(config_.min_gap, 0));
      due = std::max(due, s.last_sent_us + time_.at_us(gap));
    }
    s.due_us = due;
    s.timer.expires_at(time_.start + std::chrono::microseconds(due));
    s.timer.async_wait([this, &s](const boost::system::error_code& ec) {
      if (!ec) on_due(s);
    });
  }

  void on_due(stream_run& s) {
    if (s.finished) return;  // stopped while this wait was already due
    if (stopping_) return end_stream(s);
    const auto& r = s.request();
    std::string why;
    if (!file_.read_body(r, s.body, why)) {
      // Counted as a failed request, not a crash: the rest of the replay stays valid.
      std::int64_t now = time_.now_us();
      return on_answer(s, request_outcome{outcome_kind::failed, 0, failure_kind::other, why}, now,
                       now);
    }
    const std::int64_t started = time_.now_us();
    s.last_sent_us = started;
    s.in_flight = true;
    in_flight_ += 1;
    stats_.page_rows.record(r.rows);
    stats_.page_bytes.record(static_cast<std::int64_t>(s.body.size()));
    stats_.send_delay_us.record(started - time_.at_us(r.t));
    stats_.record_start_delay(started - s.due_us);
    s.connection->send(s.body, [this, &s, started](const request_outcome& outcome) {
      on_answer(s, outcome, started, time_.now_us());
    });
  }

  void on_answer(stream_run& s, const request_outcome& outcome, std::int64_t started_us,
                 std::int64_t finished_us) {
    if (s.in_flight) in_flight_ -= 1;
    s.in_flight = false;
    const auto& r = s.request();
    count_generated(s, r);
    stats_.requests_by_type[static_cast<int>(s.stream().type)] += 1;
    stats_.last_answer_ms = std::max(
        stats_.last_answer_ms,
        static_cast<millis>(static_cast<double>(finished_us) * config_.time_scale / 1000.0));
    stats_.count_answer(outcome, s.stream().type, r.rows, static_cast<std::int64_t>(s.body.size()),
                        finished_us - time_.at_us(r.t), finished_us - started_us);
    if (record_) write_record(s, r, outcome, started_us, finished_us - started_us);
    if (lost_ && outcome.kind != outcome_kind::delivered) write_lost(s, r, outcome, s.body);
    s.body.clear();
    s.next += 1;
    publish(false);
    do_wait(s);
  }

  // A recorded page counts as generated when its turn comes, sent or not: a replay has
  // no ticks to cut it.
  void count_generated(const stream_run& s, const recorded_request& r) {
    stats_.rows_generated += r.rows;
    stats_.rows_by_type[static_cast<int>(s.stream().type)] += r.rows;
  }

  // The stream is over: whatever it did not send is unsent.
  void end_stream(stream_run& s) {
    if (s.finished) return;
    s.finished = true;
    static const request_outcome unsent{outcome_kind::unsent, 0, failure_kind::none,
                                        "the replay stopped first"};
    for (; s.next < s.info.requests.size(); ++s.next) {
      const auto& r = s.request();
      count_generated(s, r);
      stats_.count_unsent(s.stream().type, r.rows);
      if (lost_) {
        std::string body, why;
        file_.read_body(r, body, why);  // without it, the identifiers are null
        write_lost(s, r, unsent, body);
      }
    }
    if (--remaining_ == 0) finish();
  }

  void finish() {
    for (auto& s : streams_) s->connection->close();
    io_.stop();
  }

  // The same line as a run's recording, so that a replay can be replayed and validated.
  void write_record(const stream_run& s, const recorded_request& r, const request_outcome& outcome,
                    std::int64_t sent_us, std::int64_t latency_us) {
    const recorded_stream& stream = s.stream();
    write_request_line(line_, request_line{r.t, stream.org, stream.dep, stream.type, r.sequence,
                                           r.rows, &outcome, sent_us, latency_us, s.body});
    record_->append(r.t, 0, r.line, line_);
  }

  // One line per row the request carried. The identifiers come from the body: a
  // recording keeps no other trace of them. This is the failure path only.
  void write_lost(const stream_run& s, const recorded_request& r, const request_outcome& outcome,
                  const std::string& body) {
    nlohmann::json doc = parse_json_bounded(body, false);
    const nlohmann::json* rows = nullptr;
    if (doc.is_object() && doc.contains("data") && doc["data"].is_object() &&
        doc["data"].contains("rows") && doc["data"]["rows"].is_array()) {
      rows = &doc["data"]["rows"];
    }
    write_lost_lines(line_,
                     lost_page{s.stream().org, s.stream().dep, s.stream().type, r.sequence, r.t,
                               &outcome, r.rows},
                     [rows](json_writer& w, std::size_t row) {
                       if (rows != nullptr && row < rows->size() && (*rows)[row].is_object() &&
                           (*rows)[row].contains("identifier")) {
                         w.raw((*rows)[row]["identifier"].dump());
                       } else {
                         w.null();
                       }
                     });
    lost_->append(r.t, 0, r.line, line_);
  }

  // At most every 100 ms but at the end: a percentile reads every counter.
  void publish(bool finished) {
    const auto now = steady::now();
    if (!finished && now - last_publish_ < std::chrono::milliseconds(100)) return;
    last_publish_ = now;
    std::lock_guard lock(mutex_);
    snapshot_.counts = stats_;
    snapshot_.in_flight = in_flight_;
    snapshot_.p99_us = stats_.latency_us.percentile(99);
    snapshot_.finished = finished;
  }

  const replay_config& config_;
  const recording_file& file_;
  const replay_clock& time_;
  asio::io_context io_{1};
  std::vector<std::unique_ptr<stream_run>> streams_;
  std::size_t remaining_ = 0;   // streams not finished
  std::int64_t in_flight_ = 0;  // streams with a request in flight
  bool stopping_ = false;
  run_stats stats_;
  std::unique_ptr<ledger_part> record_, lost_;
  std::string line_;
  std::mutex mutex_;
  progress_snapshot snapshot_;
  steady::time_point last_publish_{};
};

std::string progress_line(std::size_t total, const progress_snapshot& sum) {
  char line[192];
  std::snprintf(
      line, sizeof line,
      "replay: requests %lld/%zu  delivered %lld  errors %lld  p99 %.1fms  in flight %lld",
      static_cast<long long>(sum.counts.requests_attempted), total,
      static_cast<long long>(sum.counts.requests_delivered),
      static_cast<long long>(sum.counts.requests_failed + sum.counts.requests_rejected),
      static_cast<double>(sum.p99_us) / 1000.0,
      static_cast<long long>(sum.in_flight));
  return line;
}

}  // namespace

run_result replay(const replay_config& config, recording_header* header) {
  if (config.transport.target.text.empty()) throw std::invalid_argument("a replay needs a target");
  if (!(config.time_scale > 0)) throw std::invalid_argument("time_scale must be positive");
  const auto began = steady::now();
  recording_index index = index_recording(config.recording_path);
  if (header) *header = index.header;
  recording_file file(config.recording_path);
  raise_descriptor_limit();
  std::shared_ptr<asio::ssl::context> tls;
  if (config.transport.target.tls) tls = make_tls_context(config.transport);

  int count = config.workers > 0
                  ? config.workers
                  : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const std::vector<replay_queue> queues = queues_of(index);
  count = std::max(1, std::min<int>(count, static_cast<int>(queues.size())));
  std::vector<std::vector<const replay_queue*>> assignment(static_cast<std::size_t>(count));
  for (std::size_t q = 0; q < queues.size(); ++q) assignment[q % assignment.size()].push_back(&queues[q]);

  replay_clock time{steady::now(), config.time_scale};
  std::vector<std::unique_ptr<replay_worker>> workers;
  for (const auto& mine : assignment) {
    workers.push_back(std::make_unique<replay_worker>(config, mine, file, time, tls));
  }
  // The main thread: signals, progress, and the end.
  run_control_hooks hooks;
  hooks.progress_line = [&](const progress_snapshot& sum) {
    return progress_line(index.header.requests, sum);
  };
  if (config.should_stop) {
    hooks.should_abort = [&](const progress_snapshot& sum) {
      return config.should_stop(sum.counts);
    };
  }
  hooks.quiet = config.quiet;
  hooks.stop_grace = std::chrono::milliseconds(config.stop_grace);
  hooks.progress = config.progress;
  if (config.watch) {
    hooks.watch = [&](const progress_snapshot& sum) {
      config.watch(sum.counts, sum.backlog_rows, sum.in_flight);
    };
  }
  const control_outcome control = run_workers(workers, std::move(hooks));

  run_result result;
  std::vector<ledger_part*> records, lost;
  for (auto& w : workers) {
    result.stats.merge(w->stats());
    if (w->record()) records.push_back(w->record());
    if (w->lost()) lost.push_back(w->lost());
  }
  // Every line of the recording was sent or counted unsent, once.
  result.internal_error = control.failure;
  note_accounting(result, static_cast<std::int64_t>(index.header.requests));
  // Each file on its own: one that cannot be written costs no other report.
  if (!config.record_path.empty()) {
    recording_header replayed = index.header;
    replayed.dry_run = false;
    const std::string why = try_merge_ledger_parts(
        records, recording_header_line(replayed, config.recording_path), config.record_path);
    if (!why.empty()) result.failed_outputs.push_back("--record: " + why);
  }
  if (!config.lost_rows_path.empty()) {
    const std::string why = try_merge_ledger_parts(lost, "", config.lost_rows_path);
    if (!why.empty()) result.failed_outputs.push_back("--lost-rows: " + why);
  }
  result.deployments = index.deployments;
  result.streams = index.streams.size();
  result.queues = queues.size();
  result.workers = count;
  result.target = config.transport.target.text;
  result.replay = true;
  result.interrupted = control.interrupted;
  result.stop_signal = control.stop_signal;
  result.aborted = control.aborted;
  result.wall_seconds = std::chrono::duration<double>(steady::now() - began).count();
  return result;
}

run_config replay_report_config(const replay_config& config, const recording_header& header) {
  run_config c;
  c.settings.name = header.profile;
  c.settings.source = config.recording_path;
  c.settings.seed = header.seed;
  c.settings.start_time = header.start_time;
  c.settings.duration = header.last_t_ms;
  c.settings.delivery.min_gap = config.min_gap;
  c.settings.delivery.scope = header.scope;
  c.settings.delivery.timeout = config.transport.request_timeout;
  c.workers = config.workers;
  c.shard = header.shard;
  c.dry_run = false;
  c.record_path = config.record_path;
  c.lost_rows_path = config.lost_rows_path;
  c.transport = config.transport;
  c.time_scale = config.time_scale;
  c.quiet = config.quiet;
  return c;
}

}  // namespace gmsim
