// The live run: the engine on the scaled wall clock, sending over HTTP(S).
#pragma once

#include <string>
#include <vector>

#include "gmsim/runner.hpp"
#include "gmsim/scenario.hpp"

namespace gmsim {

run_result run_live(const run_config& config);

// Shared by the dry and the live run (runner.cpp): the deployments of each worker, and
// the first line of a recording.
std::vector<std::vector<std::uint32_t>> assign_deployments(const scenario& model,
                                                           const run_config& config, int workers);
std::string record_header(const run_config& config);

}  // namespace gmsim
