#include "gmsim/ledger.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>

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
