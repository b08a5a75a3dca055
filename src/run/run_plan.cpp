#include "run/run_plan.hpp"

#include "record/recording.hpp"

namespace gmsim {

bool in_shard(std::size_t deployment, const shard_spec& shard) {
  return static_cast<int>(deployment % static_cast<std::size_t>(shard.count)) == shard.index - 1;
}

std::vector<std::vector<std::uint32_t>> assign_deployments(const scenario& model,
                                                           const run_config& config,
                                                           int workers) {
  std::vector<std::vector<std::uint32_t>> out(static_cast<std::size_t>(workers));
  std::size_t next = 0;
  for (std::uint32_t d = 0; d < model.deployments().size(); ++d) {
    if (!in_shard(d, config.shard)) continue;
    out[next++ % out.size()].push_back(d);
  }
  return out;
}

std::string recording_header_line(const run_config& config) {
  recording_header h;
  h.profile = config.settings.name;
  h.seed = config.settings.seed;
  h.start_time = config.settings.start_time;
  h.shard = config.shard;
  h.dry_run = config.dry_run;
  return recording_header_line(h);
}

}  // namespace gmsim
