// `gmsim merge F... -o OUT`: the summaries of a run's shards into one.
#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/options.hpp"
#include "report/merge.hpp"
#include "report/report.hpp"

namespace gmsim::cli {

int merge_command(const args& a) {
  namespace po = boost::program_options;
  po::options_description opts("Options");
  // clang-format off
  opts.add_options()
    ("help,h", "show this help")
    ("output,o", po::value<std::string>(), "write the merged summary JSON here (required)")
    ("force", "merge inputs that are not exactly the shards 1/N..N/N of one run (shard: \"merged\")");
  // clang-format on
  po::options_description hidden;
  hidden.add_options()("input", po::value<std::vector<std::string>>(), "");
  po::options_description all;
  all.add(opts).add(hidden);
  po::positional_options_description positional;
  positional.add("input", -1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(a).options(all).positional(positional).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    print_error("merge", option_error(e, opts, "merge").what());
    return exit_usage;
  }
  if (vm.count("help")) {
    std::cout
        << "Usage: gmsim merge F... -o OUT [--force]\n\n"
           "Merges the summary JSONs of a run's shards (gmsim run --shard I/N --summary-json F)\n"
           "into the summary of the whole run: counts add, histograms merge exactly and the\n"
           "percentiles are computed again from them. The inputs must be the shards 1/N..N/N\n"
           "of one run (same profile, seed and start time). Thresholds come out empty.\n\n"
        << opts << "\nExit codes: 0 done, 1 gmsim failed, 2 bad usage or input.\n";
    return exit_ok;
  }
  if (!vm.count("input")) {
    print_error("merge", "no input: give the summary JSONs of the shards");
    return exit_usage;
  }
  if (!vm.count("output")) {
    print_error("merge", "-o OUT is required: where to write the merged summary");
    return exit_usage;
  }
  try {
    check_writable("output", vm["output"].as<std::string>());
  } catch (const usage_error& e) {
    print_error("merge", e.what());
    return exit_usage;
  }
  nlohmann::json merged;
  try {
    std::vector<summary_file> inputs;
    for (const auto& path : vm["input"].as<std::vector<std::string>>())
      inputs.push_back(read_summary(path));
    merged = merge_summaries(inputs, vm.count("force") != 0);
  } catch (const merge_error& e) {
    print_error("merge", e.what());
    return exit_usage;
  }
  write_file(vm["output"].as<std::string>(), merged.dump(2) + "\n");
  std::printf(
      "merged %zu summaries (shard %s): %lld requests, %lld rows generated, %lld delivered\n",
      merged["merged_from"].size(), merged["shard"].get<std::string>().c_str(),
      static_cast<long long>(merged["requests"]["attempted"].get<std::int64_t>()),
      static_cast<long long>(merged["rows"]["generated"].get<std::int64_t>()),
      static_cast<long long>(merged["rows"]["delivered"].get<std::int64_t>()));
  return exit_ok;
}

}  // namespace gmsim::cli
