#include "run/run_plan.hpp"

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
