// gmsim: the command line. main() only picks the command from one table (ninja's
// kTools[] is the model: name, one-line help, function); each command parses its own
// options into a plain config and calls the engine.
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include "cli/commands.hpp"
#include "core/did_you_mean.hpp"
#include "core/shown_text.hpp"

namespace {

using namespace gmsim::cli;

struct command {
  std::string_view synopsis;  // its name first
  std::string_view help;      // one line, or more separated by '\n'
  int (*run)(const args&);
};

constexpr command commands[] = {
    {"run [PROFILE]",
     "generate GMetri webhook traffic and send it (the main job);\n"
     "PROFILE is a built-in name or a file, default \"quickstart\"",
     run_command},
    {"receive", "run the validating receiver (for receiver teams and tests)", receive_command},
    {"example TYPE", "print a valid example body: variables, rules or session", example_command},
    {"validate FILE...", "check bodies (or recordings) against the GMetri contract",
     validate_command},
    {"replay FILE", "send a recording again (--target URL), same bytes, same timing",
     replay_command},
    {"merge F... -o OUT", "merge the summary JSONs of a run's shards into one", merge_command},
    {"check SUMMARY...",
     "evaluate --threshold on a summary JSON (merged ones too): exit 99 on failure", check_command},
    {"verify RECORDING EXPORT",
     "did the rows arrive intact? compare a recording with the store's rows: exit 1 on a "
     "difference",
     verify_command},
    {"profiles", "list the built-in profiles", profiles_command},
    {"edge-cases", "list the edge-case catalogue (gmsim run --edge-case NAME)", edge_cases_command},
};

std::string_view name_of(const command& c) { return c.synopsis.substr(0, c.synopsis.find(' ')); }

std::string usage() {
  std::string text =
      "gmsim: GMetri webhook simulator and load generator\n\n"
      "Usage: gmsim <command> [options]\n\nCommands:\n";
  for (const auto& c : commands) {
    std::string synopsis(c.synopsis);
    synopsis.resize(std::max<std::size_t>(synopsis.size(), 17), ' ');
    text += "  " + synopsis + " ";
    for (std::size_t from = 0;;) {
      const std::size_t end = c.help.find('\n', from);
      text += std::string(c.help.substr(from, end - from)) + "\n";
      if (end == std::string_view::npos) break;
      text += std::string(20, ' ');
      from = end + 1;
    }
  }
  text += "\nRun \"gmsim <command> --help\" for a command's options. Docs: docs/cli.md.\n";
  return text;
}

// The last net: an exception that nothing caught (on a thread of a library, in a
// destructor) says one line and exits 1, never "terminate called" and an abort's core.
// The runs catch their workers' exceptions and still write their reports.
[[noreturn]] void on_terminate() {
  const auto e = std::current_exception();
  const std::string what = e ? gmsim::exception_text(e) : "std::terminate was called";
  std::fprintf(stderr, "gmsim: internal error: %s\n", what.c_str());
  std::_Exit(exit_failure);
}

}  // namespace

int main(int argc, char** argv) {
  std::set_terminate(on_terminate);
  // A file past `ulimit -f` is a write error (EFBIG) that the command reports, naming the
  // output, with the others still written: not a signal that kills it with no report.
  std::signal(SIGXFSZ, SIG_IGN);
  if (argc < 2) {
    std::fputs(usage().c_str(), stderr);
    return exit_usage;
  }
  const std::string name = argv[1];
  const args rest(argv + 2, argv + argc);
  if (name == "--help" || name == "-h" || name == "help") {
    std::fputs(usage().c_str(), stdout);
    return exit_ok;
  }
  if (name == "--version") {
    std::printf("gmsim %s\n", GMSIM_VERSION);
    return exit_ok;
  }
  for (const auto& c : commands) {
    if (name_of(c) != name) continue;
    try {
      return c.run(rest);
    } catch (const std::exception&) {
      // std::bad_alloc's what() says little: exception_text names it "out of memory".
      print_error(name, gmsim::exception_text(std::current_exception()));
      return exit_failure;
    }
  }
  // One line, like every other bad input; `gmsim --help` has the list.
  std::vector<std::string_view> names;
  for (const auto& c : commands) names.push_back(name_of(c));
  const std::string_view near = gmsim::detail::nearest_name(name, names);
  std::fprintf(stderr, "gmsim: unknown command '%s'; %s\n", name.c_str(),
               near.empty() ? "gmsim --help lists them"
                            : ("did you mean '" + std::string(near) + "'?").c_str());
  return exit_usage;
}
