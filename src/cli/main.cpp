// gmsim: the command line. main() only picks the command; each command parses its own
// options into a plain config and calls the engine.
#include <cstdio>
#include <exception>
#include <string>

#include "commands.hpp"
#include "profile/profile_json.hpp"  // nearest_name

namespace {

constexpr const char* usage = R"(gmsim: GMetri webhook simulator and load generator

Usage: gmsim <command> [options]

Commands:
  run [PROFILE]     generate GMetri webhook traffic and send it (the main job);
                    PROFILE is a built-in name or a file, default "quickstart"
  receive           run the validating receiver (for receiver teams and tests)
  example TYPE      print a valid example body: variables, rules or session
  validate FILE...  check bodies (or recordings) against the GMetri contract
  replay FILE       send a recording again (--target URL), same bytes, same timing
  merge F... -o OUT merge the summary JSONs of a run's shards into one
  profiles          list the built-in profiles
  edge-cases        list the edge-case catalogue (gmsim run --edge-case NAME)

Run "gmsim <command> --help" for a command's options. Docs: docs/cli.md.
)";

}  // namespace

int main(int argc, char** argv) {
  using namespace gmsim::cli;
  if (argc < 2) {
    std::fputs(usage, stderr);
    return exit_usage;
  }
  std::string command = argv[1];
  args rest(argv + 2, argv + argc);
  if (command == "--help" || command == "-h" || command == "help") {
    std::fputs(usage, stdout);
    return exit_ok;
  }
  if (command == "--version") {
    std::printf("gmsim %s\n", GMSIM_VERSION);
    return exit_ok;
  }
  try {
    if (command == "run") return run_command(rest);
    if (command == "receive") return receive_command(rest);
    if (command == "example") return example_command(rest);
    if (command == "validate") return validate_command(rest);
    if (command == "profiles") return profiles_command(rest);
    if (command == "edge-cases") return edge_cases_command(rest);
    if (command == "replay") return replay_command(rest);
    if (command == "merge") return merge_command(rest);
  } catch (const std::exception& e) {
    print_error(command, e.what());
    return exit_failure;
  }
  // One line, like every other bad input; `gmsim --help` has the list.
  const std::string_view commands[] = {"run",      "receive", "example",    "validate",
                                       "profiles", "replay",  "edge-cases", "merge"};
  const std::string_view near = gmsim::detail::nearest_name(command, commands);
  std::fprintf(stderr, "gmsim: unknown command '%s'; %s\n", command.c_str(),
               near.empty() ? "gmsim --help lists them"
                            : ("did you mean '" + std::string(near) + "'?").c_str());
  return exit_usage;
}
