// gmsim --help, --version, unknown commands, every command's --help, and docs/cli.md
// against the options each command really has.
#include "cli/cli_support.hpp"

// --- usage and help ---------------------------------------------------------------------

class cli_usage : public cli {};

TEST_F(cli_usage, no_arguments_prints_usage_on_stderr_and_exits_2) {
  auto r = gmsim({});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_TRUE(contains(r.err, "Usage: gmsim <command>")) << r.err;
  for (const char* command : {"run", "receive", "example", "validate", "profiles"}) {
    EXPECT_TRUE(contains(r.err, std::string("  ") + command)) << command;
  }
}

TEST_F(cli_usage, help_prints_usage_on_stdout_and_exits_0) {
  for (const char* flag : {"--help", "-h", "help"}) {
    auto r = gmsim({flag});
    EXPECT_EQ(r.exit_code, 0) << flag;
    EXPECT_TRUE(contains(r.out, "Usage: gmsim <command>")) << flag;
    EXPECT_EQ(r.err, "") << flag;
  }
}

TEST_F(cli_usage, version_prints_the_version) {
  auto r = gmsim({"--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(std::regex_match(r.out, std::regex("gmsim \\d+\\.\\d+\\.\\d+\n"))) << r.out;
}

TEST_F(cli_usage, unknown_command_exits_2_naming_it) {
  expect_usage_error(gmsim({"frobnicate", "--x"}), {"unknown command 'frobnicate'", "--help"});
  expect_usage_error(gmsim({"replya"}), {"unknown command 'replya'", "did you mean 'replay'"});
}

TEST_F(cli_usage, every_command_has_help_naming_its_options) {
  const std::vector<std::pair<std::string, std::vector<std::string>>> commands = {
      {"run",
       {"--target", "--auth-string", "--duration", "--seed", "--start-time", "--max-delay",
        "--batch-rows", "--time-scale", "--dry-run", "--workers", "--shard", "--summary-json",
        "--record", "--lost-rows", "--quiet"}},
      {"receive",
       {"--listen", "--auth-string", "--status", "--fail-ratio", "--latency", "--max-body",
        "--close-ratio", "--duration", "--summary-json"}},
      {"example", {"TYPE", "--compact", "variables", "rules", "session"}},
      {"validate", {"FILE", "recording"}},
      {"profiles", {"built-in"}},
  };
  for (const auto& [command, options] : commands) {
    for (const char* flag : {"--help", "-h"}) {
      auto r = gmsim({command, flag});
      EXPECT_EQ(r.exit_code, 0) << command << " " << flag << ": " << r.err;
      EXPECT_TRUE(contains(r.out, "Usage: gmsim " + command)) << command << ": " << r.out;
      EXPECT_EQ(r.err, "") << command;
      for (const auto& o : options)
        EXPECT_TRUE(contains(r.out, o)) << command << " help lacks " << o;
    }
  }
}

// --- the dry run and its summary --------------------------------------------------------

class cli_docs : public cli {};

TEST_F(cli_docs, cli_md_documents_every_option_of_every_command) {
  std::string doc = read_text(source_dir() / "docs" / "cli.md");
  ASSERT_FALSE(doc.empty()) << "no docs/cli.md under " << source_dir();
  const std::regex option("(?:^|\\s)(--[a-z][a-z-]+)");
  for (const std::string command : {"run", "receive", "example", "validate", "profiles"}) {
    EXPECT_TRUE(contains(doc, "## gmsim " + command)) << command;
    auto help = gmsim({command, "--help"}).out;
    for (std::sregex_iterator m(help.begin(), help.end(), option), end; m != end; ++m) {
      std::string name = (*m)[1];
      if (name == "--help") continue;
      EXPECT_TRUE(contains(doc, "`" + name)) << "docs/cli.md lacks " << command << " " << name;
    }
  }
}
