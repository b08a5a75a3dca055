#include "cli/metrics_publisher.hpp"

#include <chrono>
#include <cstdio>

#include "cli/options.hpp"
#include "core/exposition.hpp"
#include "net/receiver.hpp"   // parse_listen_address
#include "net/transport.hpp"  // post_once
#include "report/report.hpp"  // shown_target_url

namespace gmsim::cli {

metrics_labels metrics_labels_of(const std::string& command, const run_config& config) {
  metrics_labels l;
  l.command = command;
  l.profile = config.settings.name;
  l.seed = std::to_string(config.settings.seed);
  l.scope = std::string(to_string(config.settings.delivery.scope));
  l.shard = std::to_string(config.shard.index) + "/" + std::to_string(config.shard.count);
  const std::string& target = config.transport.target.text;
  l.target = config.dry_run ? "" : config.transport.show_url ? target : shown_target_url(target);
  l.duration_seconds = static_cast<double>(config.settings.duration) / 1000.0;
  return l;
}

metrics_publisher::metrics_publisher(metrics_options options, bool quiet)
    : options_(std::move(options)), quiet_(quiet) {}

metrics_publisher::~metrics_publisher() {
  if (server_) server_->stop();
}

void metrics_publisher::start() {
  if (options_.listen.empty()) return;
  render(run_counters{}, 0, 0, false);
  server_ = std::make_unique<endpoint_server>(options_.listen);
  server_->route("/metrics", [this] {
    std::lock_guard lock(mutex_);
    if (final_) {
      final_scrapes_ += 1;
      scraped_.notify_all();
    }
    return endpoint_answer{200, exposition_content_type, text_};
  });
  try {
    server_->start();
  } catch (const std::runtime_error& e) {
    server_.reset();
    throw std::runtime_error(std::string("--metrics-listen: ") + e.what());
  }
  const listen_address where = parse_listen_address(options_.listen);
  // Port 0 is known only now: said even with --quiet, or a scraper could not find it.
  if (!quiet_ || where.port == 0) {
    const std::string host =
        where.address.find(':') != std::string::npos ? "[" + where.address + "]" : where.address;
    std::fprintf(stderr, "gmsim: metrics at http://%s:%u/metrics\n", host.c_str(),
                 static_cast<unsigned>(server_->port()));
  }
}

void metrics_publisher::set_labels(metrics_labels labels) {
  bool zeros = false;
  {
    std::lock_guard lock(mutex_);
    labels_ = std::move(labels);
    zeros = !watched_ && !final_;
  }
  // Before the first tick a scrape gets the zeros, now with the run's gmsim_info.
  if (server_ && zeros) render(run_counters{}, 0, 0, false);
}

void metrics_publisher::render(const run_counters& counts, std::int64_t queued_rows,
                               std::int64_t in_flight, bool finished) {
  metrics_labels labels;
  {
    std::lock_guard lock(mutex_);
    labels = labels_;
  }
  std::string text = prometheus_text(labels, {counts, queued_rows, in_flight, finished});
  std::lock_guard lock(mutex_);
  text_ = std::move(text);
  final_ = finished;
}

run_watch metrics_publisher::watcher() {
  if (!server_) return {};
  return [this](const run_counters& counts, std::int64_t queued_rows, std::int64_t in_flight) {
    {
      std::lock_guard lock(mutex_);
      watched_ = true;
    }
    render(counts, queued_rows, in_flight, false);
  };
}

std::vector<std::string> metrics_publisher::finish(const run_counters& counts) {
  std::vector<std::string> failed;
  if (server_ || !options_.push.empty()) render(counts, 0, 0, true);
  if (options_.push.empty()) return failed;
  transport_config t;
  t.target = parse_target(options_.push);
  // The job's group, when the URL names none; shards push to groups of their own, or
  // each would replace the one before.
  if (t.target.target == "/") {
    t.target.target = "/metrics/job/gmsim";
    std::lock_guard lock(mutex_);
    if (labels_.shard != "1/1") {
      std::string instance = "shard-" + labels_.shard;
      instance.replace(instance.find('/'), 1, "-of-");
      t.target.target += "/instance/" + instance;
    }
  }
  t.headers = {{"Content-Type", exposition_content_type}};
  t.request_timeout = 10'000;
  t.connect_timeout = 5'000;
  std::string text;
  {
    std::lock_guard lock(mutex_);
    text = text_;
  }
  const request_outcome outcome = post_once(t, text);
  if (outcome.kind != outcome_kind::delivered) {
    const std::string shown = t.target.text;  // the URL as given, never with credentials
    failed.push_back(
        "--metrics-push: " + shown_target_url(shown) + ": " +
        (outcome.status != 0 ? "status " + std::to_string(outcome.status) + ": " : "") +
        outcome.detail);
  }
  return failed;
}

void metrics_publisher::hold() {
  if (!server_ || options_.hold <= 0) return;
  std::unique_lock lock(mutex_);
  if (final_scrapes_ == 0 && !quiet_) {
    std::fprintf(stderr,
                 "gmsim: --metrics-hold: serving the final numbers until the next scrape "
                 "(at most %s)\n",
                 format_duration(options_.hold).c_str());
  }
  scraped_.wait_for(lock, std::chrono::milliseconds(options_.hold),
                    [this] { return final_scrapes_ > 0; });
}

}  // namespace gmsim::cli
