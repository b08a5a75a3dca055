#include "delivery/timeseries.hpp"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

namespace gmsim {
namespace {

// A width past which doubling can only mean two widths that never line up.
constexpr millis widest_bucket_ms = millis{1} << 50;

double round3(double v) { return std::round(v * 1000.0) / 1000.0; }

}  // namespace

void timeseries_bucket::add(const timeseries_bucket& o) {
  requests += o.requests;
  delivered += o.delivered;
  rejected += o.rejected;
  failed += o.failed;
  unsent += o.unsent;
  rows_delivered += o.rows_delivered;
  rows_lost += o.rows_lost;
  rows_unsent += o.rows_unsent;
  bytes += o.bytes;
  for (std::size_t i = 0; i < status.size(); ++i) status[i] += o.status[i];
  for (std::size_t i = 0; i < errors.size(); ++i) errors[i] += o.errors[i];
  if (o.latency_us) {
    if (latency_us) {
      latency_us->merge(*o.latency_us);
    } else {
      latency_us = o.latency_us;
    }
  }
}

millis timeseries::bucket_ms_for(millis duration) {
  constexpr millis buckets_for_duration = 1100;
  const millis seconds = (std::max<millis>(duration, 0) + buckets_for_duration * 1000 - 1) /
                         (buckets_for_duration * 1000);
  return std::max<millis>(seconds, 1) * 1000;
}

timeseries::timeseries(std::size_t max_buckets, millis bucket_ms)
    : max_buckets_(max_buckets), bucket_ms_(bucket_ms) {
  if (max_buckets < 2) throw std::invalid_argument("timeseries: max_buckets must be at least 2");
  if (bucket_ms < 1) throw std::invalid_argument("timeseries: bucket_ms must be at least 1");
}

timeseries_bucket& timeseries::bucket_at(millis t) {
  t = std::max<millis>(t, 0);
  auto index = static_cast<std::size_t>(t / bucket_ms_);
  while (index >= max_buckets_) {
    coarsen();
    index = static_cast<std::size_t>(t / bucket_ms_);
  }
  if (index >= buckets_.size()) buckets_.resize(index + 1);
  return buckets_[index];
}

void timeseries::record_request(millis t, const request_outcome& outcome, std::int64_t rows,
                                std::int64_t bytes, std::int64_t latency_us) {
  timeseries_bucket& b = bucket_at(t);
  b.requests += 1;
  b.bytes += bytes;
  if (outcome.status >= 200 && outcome.status < 600) b.status[outcome.status / 100 - 2] += 1;
  switch (outcome.kind) {
    case outcome_kind::delivered:
      b.delivered += 1;
      b.rows_delivered += rows;
      break;
    case outcome_kind::rejected:
      b.rejected += 1;
      b.rows_lost += rows;
      break;
    case outcome_kind::failed:
    case outcome_kind::unsent:  // as the engine counts it: a send that could not start failed
      b.failed += 1;
      b.rows_lost += rows;
      b.errors[static_cast<std::size_t>(outcome.error)] += 1;
      break;
    case outcome_kind::unacknowledged:  // no answer, as a failure; its rows are not lost
      b.failed += 1;
      b.errors[static_cast<std::size_t>(outcome.error)] += 1;
      break;
  }
  if (!b.latency_us) b.latency_us.emplace(latency_highest_us, latency_digits);
  b.latency_us->record(latency_us);
}

void timeseries::record_unsent(millis t, std::int64_t rows) {
  timeseries_bucket& b = bucket_at(t);
  b.unsent += 1;
  b.rows_unsent += rows;
}

void timeseries::coarsen() {
  const std::size_t merged = (buckets_.size() + 1) / 2;
  for (std::size_t i = 0; i < merged; ++i) {
    // Bucket i takes 2i first (moved, not copied), then adds 2i + 1.
    if (i != 0) buckets_[i] = std::move(buckets_[2 * i]);
    if (2 * i + 1 < buckets_.size()) buckets_[i].add(buckets_[2 * i + 1]);
  }
  buckets_.resize(merged);
  bucket_ms_ *= 2;
}

void timeseries::merge(const timeseries& o) {
  if (o.buckets_.empty()) return;
  if (buckets_.empty()) bucket_ms_ = o.bucket_ms_;
  while (bucket_ms_ % o.bucket_ms_ != 0) {
    if (bucket_ms_ > widest_bucket_ms) {
      throw std::invalid_argument("timeseries: cannot align buckets of " +
                                  std::to_string(o.bucket_ms_) + " ms on " +
                                  std::to_string(bucket_ms_) + " ms");
    }
    coarsen();
  }
  // Each of other's buckets lies whole inside one of ours.
  auto step = static_cast<std::size_t>(bucket_ms_ / o.bucket_ms_);
  while ((o.buckets_.size() - 1) / step + 1 > max_buckets_) {
    coarsen();
    step = static_cast<std::size_t>(bucket_ms_ / o.bucket_ms_);
  }
  const std::size_t needed = (o.buckets_.size() - 1) / step + 1;
  if (needed > buckets_.size()) buckets_.resize(needed);
  for (std::size_t j = 0; j < o.buckets_.size(); ++j) buckets_[j / step].add(o.buckets_[j]);
}

nlohmann::json timeseries::to_json() const {
  static constexpr const char* status_names[] = {"2xx", "3xx", "4xx", "5xx"};
  auto list = nlohmann::json::array();
  for (std::size_t i = 0; i < buckets_.size(); ++i) {
    const timeseries_bucket& b = buckets_[i];
    nlohmann::json status = nlohmann::json::object();
    for (std::size_t k = 0; k < b.status.size(); ++k) status[status_names[k]] = b.status[k];
    nlohmann::json errors = nlohmann::json::object();
    for (std::size_t k = 1; k < b.errors.size(); ++k) {
      if (b.errors[k] != 0)
        errors[std::string(to_string(static_cast<failure_kind>(k)))] = b.errors[k];
    }
    nlohmann::json p50 = nullptr;
    nlohmann::json p99 = nullptr;
    if (b.latency_us && b.latency_us->count() > 0) {
      p50 = round3(static_cast<double>(b.latency_us->percentile(50)) / 1000.0);
      p99 = round3(static_cast<double>(b.latency_us->percentile(99)) / 1000.0);
    }
    list.push_back({{"t_ms", static_cast<millis>(i) * bucket_ms_},
                    {"requests", b.requests},
                    {"delivered", b.delivered},
                    {"rejected", b.rejected},
                    {"failed", b.failed},
                    {"unsent", b.unsent},
                    {"rows_delivered", b.rows_delivered},
                    {"rows_lost", b.rows_lost},
                    {"rows_unsent", b.rows_unsent},
                    {"bytes", b.bytes},
                    {"status", std::move(status)},
                    {"errors", std::move(errors)},
                    {"p50_ms", std::move(p50)},
                    {"p99_ms", std::move(p99)}});
  }
  return {{"bucket_ms", bucket_ms_}, {"buckets", std::move(list)}};
}

}  // namespace gmsim
