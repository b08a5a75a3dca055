#include "gmsim/ledger.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <tuple>

namespace gmsim {
namespace {

TEST(ledger, parts_merge_in_intended_order_after_the_header) {
  ledger_part a, b;
  a.append(10, 0, 0, "a10\n");
  a.append(30, 0, 1, "a30\n");
  b.append(10, 1, 0, "b10-1\nb10-2\n");
  b.append(20, 3, 0, "b20\n");
  a.append(20, 2, 5, "a20\n");  // out of order within a part: still sorted
  auto path = (std::filesystem::temp_directory_path() / "gmsim_ledger_test.ndjson").string();
  merge_ledger_parts({&a, &b}, "header\n", path);
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), "header\na10\nb10-1\nb10-2\na20\nb20\na30\n");
  std::filesystem::remove(path);
}

// The merge reads a part back through a window of 1 MiB: blocks out of the order written
// (the window moves back), blocks across its edge, and a block larger than it.
TEST(ledger, parts_larger_than_the_read_window_merge_whole_and_in_order) {
  ledger_part a, b;
  std::map<std::tuple<millis, std::uint32_t, std::uint64_t>, std::string> expected;
  std::uint64_t sequence = 0;
  auto add = [&](ledger_part& part, millis t, std::uint32_t stream, std::string lines) {
    part.append(t, stream, sequence, lines);
    expected[{t, stream, sequence++}] = std::move(lines);
  };
  for (int i = 0; i < 4000; ++i) {
    // Written in an order that is not the merged one: every 7th block goes back in time.
    const millis t = i % 7 == 0 ? 4000 - i : i;
    add(a, t, 0, "a" + std::to_string(t) + ":" + std::string(700 + i % 300, 'x') + "\n");
    if (i % 3 == 0) add(b, t, 1, "b" + std::to_string(t) + ":" + std::string(900, 'y') + "\n");
  }
  add(b, 2000, 2, "big:" + std::string(std::size_t{5} << 19, 'z') + "\n");  // 2.5 MiB
  std::string want = "header\n";
  for (const auto& [key, lines] : expected) want += lines;
  auto path = (std::filesystem::temp_directory_path() / "gmsim_ledger_window_test.ndjson").string();
  merge_ledger_parts({&a, &b}, "header\n", path);
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str().size(), want.size());
  EXPECT_TRUE(text.str() == want);  // not EXPECT_EQ: a mismatch would print 6 MB
  std::filesystem::remove(path);
}

TEST(ledger, an_unwritable_path_is_an_error_that_names_it) {
  ledger_part a;
  try {
    merge_ledger_parts({&a}, "", "/nonexistent-dir/x.ndjson");
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent-dir/x.ndjson"), std::string::npos);
  }
}

// Sets an environment variable for the scope of a test, and puts the old value back.
class scoped_env {
 public:
  scoped_env(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value.c_str(), 1);
  }
  ~scoped_env() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

std::size_t entries_in(const std::filesystem::path& dir) {
  return static_cast<std::size_t>(std::distance(std::filesystem::directory_iterator(dir),
                                                std::filesystem::directory_iterator()));
}

// This process's open files that were made in dir and unlinked since ("... (deleted)").
std::size_t deleted_files_open_in(const std::filesystem::path& dir) {
  std::size_t n = 0;
  for (const auto& fd : std::filesystem::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    const std::string target = std::filesystem::read_symlink(fd.path(), ec).string();
    if (!ec && target.starts_with(dir.string() + "/gmsim-ledger-") &&
        target.ends_with(" (deleted)")) {
      ++n;
    }
  }
  return n;
}

TEST(ledger, parts_live_in_tmpdir_when_it_is_set_and_leave_nothing_behind) {
  auto dir = std::filesystem::temp_directory_path() / "gmsim_ledger_tmpdir_test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  {
    scoped_env env("TMPDIR", dir.string());
    ledger_part a;
    a.append(1, 0, 0, "line\n");
    EXPECT_EQ(deleted_files_open_in(dir), 1u);  // made there...
    EXPECT_EQ(entries_in(dir), 0u);  // ...and unlinked at once: nothing to clean up after a crash
    auto out = (dir / "out.ndjson").string();
    merge_ledger_parts({&a}, "", out);
    std::ifstream in(out);
    std::ostringstream text;
    text << in.rdbuf();
    EXPECT_EQ(text.str(), "line\n");
  }
  {
    scoped_env env("TMPDIR", (dir / "missing").string());
    try {
      ledger_part b;
      FAIL() << "a part in a missing directory";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find((dir / "missing").string() + " ($TMPDIR)"),
                std::string::npos)
          << e.what();
    }
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace gmsim
