// gmsim_fuzz_replay CORPUS_DIR: runs every fuzz target's entry function over every file of
// its seed corpus (CORPUS_DIR/<target>/), so that a build without clang still proves that
// the targets compile and that no seed (crashes found before among them) fails again.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "fuzz_target.hpp"

namespace {

struct target {
  const char* name;
  gmsim::fuzz::entry_function entry;
};

constexpr target targets[] = {
    {"profile", gmsim::fuzz::profile_entry},     {"duration", gmsim::fuzz::duration_entry},
    {"threshold", gmsim::fuzz::threshold_entry}, {"schema", gmsim::fuzz::schema_entry},
    {"recording", gmsim::fuzz::recording_entry}, {"receiver", gmsim::fuzz::receiver_entry},
    {"merge", gmsim::fuzz::merge_entry},
};

}  // namespace

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  if (argc != 2) {
    std::cerr << "usage: gmsim_fuzz_replay CORPUS_DIR\n";
    return 2;
  }
  int failures = 0;
  for (const auto& t : targets) {
    const fs::path dir = fs::path(argv[1]) / t.name;
    std::vector<fs::path> seeds;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec))
      if (e.is_regular_file()) seeds.push_back(e.path());
    if (ec || seeds.empty()) {
      std::cerr << t.name << ": no seeds in " << dir << "\n";
      ++failures;
      continue;
    }
    std::sort(seeds.begin(), seeds.end());
    for (const auto& seed : seeds) {
      // Named before it runs: a seed that crashes ends the process, and the log shows it.
      std::cout << t.name << ": " << seed.filename().string() << std::endl;
      std::ifstream in(seed, std::ios::binary);
      const std::string bytes{std::istreambuf_iterator<char>(in), {}};
      t.entry(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
    }
    std::cout << t.name << ": " << seeds.size() << " seeds passed" << std::endl;
  }
  return failures == 0 ? 0 : 1;
}
