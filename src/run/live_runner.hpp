// The live run: the engine on the scaled wall clock, sending over HTTP(S).
#pragma once

#include "run/run_plan.hpp"

namespace gmsim {

run_result run_live(const run_config& config);

}  // namespace gmsim
