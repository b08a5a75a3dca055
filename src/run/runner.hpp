// The runner: wires a profile into engines, one per worker thread, on a clock, and
// collects what they did. run() is the engine's entry point; the command line only
// fills a run_config (run/run_plan.hpp).
#pragma once

#include "run/run_plan.hpp"

namespace gmsim {

// Runs the whole profile. Throws std::runtime_error on a failure of gmsim itself (a
// file it cannot write), std::invalid_argument on bad settings.
run_result run(const run_config& config);

}  // namespace gmsim
