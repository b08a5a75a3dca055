#include "run/run_plan.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "delivery/aggregator.hpp"  // page
#include "profile/edge_case_catalogue.hpp"
#include "record/recording.hpp"

namespace gmsim {

std::uint32_t shard_unit(const scenario& model, std::uint32_t deployment) {
  return model.settings().delivery.scope == pacing_scope::webhook
             ? model.deployments()[deployment].org
             : deployment;
}

bool in_shard(std::size_t unit, const shard_spec& shard) {
  return static_cast<int>(unit % static_cast<std::size_t>(shard.count)) == shard.index - 1;
}

std::vector<std::vector<std::uint32_t>> assign_deployments(const scenario& model,
                                                           const run_config& config,
                                                           int workers) {
  std::vector<std::vector<std::uint32_t>> out(static_cast<std::size_t>(workers));
  const pacing_scope scope = model.settings().delivery.scope;
  // Units in the order they first appear (deployments are grouped by org), dealt in turn.
  std::size_t next = 0;
  bool first = true;
  std::uint32_t last_unit = 0;
  for (std::uint32_t d = 0; d < model.deployments().size(); ++d) {
    const std::uint32_t unit = shard_unit(model, d);
    if (!in_shard(unit, config.shard)) continue;
    const bool same_queue = !first && (scope == pacing_scope::endpoint ||
                                       (scope == pacing_scope::webhook && unit == last_unit));
    if (!first && !same_queue) ++next;
    first = false;
    last_unit = unit;
    out[next % out.size()].push_back(d);
  }
  return out;
}

memory_estimate estimate_memory(const profile& settings) {
  // Measured with /usr/bin/time on dry runs (docs/security.md), rounded up: 100,000
  // deployments 250 MB, `--edge-case all:1000` (39,000 instances) 600 MB.
  constexpr std::uint64_t base = 32u << 20;
  constexpr std::uint64_t per_deployment = 3u << 10;
  constexpr std::uint64_t per_edge_case = 16u << 10;
  constexpr std::uint64_t per_queued_row = 96;
  std::uint64_t deployments = 0;
  for (const auto& org : settings.orgs) deployments += org.deployments.size();
  std::uint64_t edge_cases = 0;
  for (const auto& e : expand_edge_cases(settings.edge_cases)) {
    edge_cases += static_cast<std::uint64_t>(e.count);
  }
  // Queued rows past queue_memory_rows wait on disk; their pages keep their place in
  // memory (a page without its rows, about 100 bytes with its queue's share).
  const auto& d = settings.delivery;
  const auto queued = static_cast<std::uint64_t>(std::min(d.max_queued_rows, d.queue_memory_rows));
  const auto spilled = static_cast<std::uint64_t>(d.max_queued_rows) - queued;
  constexpr std::uint64_t per_spilled_page = sizeof(page) + 16;
  const std::uint64_t spilled_pages = (spilled + static_cast<std::uint64_t>(d.batch_rows) - 1) /
                                      static_cast<std::uint64_t>(d.batch_rows);
  memory_estimate out;
  out.bytes = base + deployments * per_deployment + edge_cases * per_edge_case +
              queued * per_queued_row + spilled_pages * per_spilled_page;
  out.parts = "32 MiB base + " + std::to_string(deployments) + " deployments x 3 KiB";
  if (edge_cases > 0)
    out.parts += " + " + std::to_string(edge_cases) + " edge-case instances x 16 KiB";
  out.parts += " + up to " + std::to_string(queued) +
               " queued rows in memory x 96 B (delivery.queue_memory_rows)";
  if (spilled_pages > 0) {
    out.parts += " + up to " + std::to_string(spilled_pages) + " pages on disk x " +
                 std::to_string(per_spilled_page) + " B (delivery.max_queued_rows)";
  }
  return out;
}

namespace {

// A "Key:   N kB" line of /proc/meminfo or /proc/self/status, in bytes.
std::optional<std::uint64_t> kb_field(const char* path, const std::string& key) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key + ":", 0) != 0) continue;
    std::istringstream fields(line.substr(key.size() + 1));
    std::uint64_t kb = 0;
    if (fields >> kb) return kb * 1024;
  }
  return std::nullopt;
}

std::optional<std::uint64_t> number_file(const char* path) {
  std::ifstream in(path);
  std::uint64_t n = 0;
  if (in >> n) return n;  // "max" reads as nothing: no limit
  return std::nullopt;
}

}  // namespace

std::optional<memory_budget> available_memory() {
  std::optional<memory_budget> least;
  const auto consider = [&least](std::uint64_t bytes, const char* source) {
    if (!least || bytes < least->bytes) least = memory_budget{bytes, source};
  };
  if (const auto available = kb_field("/proc/meminfo", "MemAvailable")) {
    consider(*available, "MemAvailable");
  }
  const auto max = number_file("/sys/fs/cgroup/memory.max");
  const auto current = number_file("/sys/fs/cgroup/memory.current");
  if (max && current) consider(*max > *current ? *max - *current : 0, "cgroup memory.max");
  rlimit limit{};
  if (getrlimit(RLIMIT_AS, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
    // The address space counts what is reserved, not used: each worker thread's stack
    // (8 MiB) and malloc arena (64 MiB) among it.
    const std::uint64_t in_use = kb_field("/proc/self/status", "VmSize").value_or(0);
    const std::uint64_t reserve = in_use + (256u << 20);
    consider(limit.rlim_cur > reserve ? limit.rlim_cur - reserve : 0, "ulimit -v");
  }
  return least;
}

void note_accounting(run_result& result, std::int64_t expected_requests) {
  try {
    check_accounting(result.stats, 0, expected_requests);
  } catch (const accounting_error& e) {
    result.internal_error += (result.internal_error.empty() ? "" : "; ") + std::string(e.what());
  }
}

std::string recording_header_line(const run_config& config) {
  recording_header h;
  h.profile = config.settings.name;
  h.seed = config.settings.seed;
  h.start_time = config.settings.start_time;
  h.shard = config.shard;
  h.dry_run = config.dry_run;
  h.scope = config.settings.delivery.scope;
  return recording_header_line(h);
}

}  // namespace gmsim
