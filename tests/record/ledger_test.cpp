#include "record/ledger.hpp"

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
#include <utility>
#include <vector>

#include "test_support.hpp"

namespace gmsim {
namespace {

TEST(ledger, parts_merge_in_intended_order_after_the_header) {
  ledger_part a, b;
  a.append(10, 0, 0, "a10\n");
  a.append(30, 0, 1, "a30\n");
  b.append(10, 1, 0, "b10-1\nb10-2\n");
  b.append(20, 3, 0, "b20\n");
  a.append(20, 2, 5, "a20\n");  // out of order within a part: still sorted
  testing::scratch_dir dir;
  const auto path = dir.file("merged.ndjson");
  merge_ledger_parts({&a, &b}, "header\n", path);
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), "header\na10\nb10-1\nb10-2\na20\nb20\na30\n");
}

// Bytes this process has read with read(2) and pread(2) so far (/proc/self/io's rchar).
std::optional<std::uint64_t> bytes_read_so_far() {
  std::ifstream io("/proc/self/io");
  std::string name;
  std::uint64_t value = 0;
  while (io >> name >> value) {
    if (name == "rchar:") return value;
  }
  return std::nullopt;
}

using blocks = std::vector<std::pair<millis, std::string>>;

// Writes parts in the order given, merges them, and checks the merged file against the
// blocks sorted by key, and that the merge read at most the parts' size plus the bytes
// it wrote (each byte into the read-ahead window once, or alone).
void check_merge(const blocks& a_blocks, const blocks& b_blocks) {
  ledger_part a, b;
  std::map<std::tuple<millis, std::uint32_t, std::uint64_t>, std::string> expected;
  std::uint64_t sequence = 0;
  std::uint64_t part_bytes = 0;
  auto write = [&](ledger_part& part, std::uint32_t stream, const blocks& written) {
    for (const auto& [t, lines] : written) {
      part.append(t, stream, sequence, lines);
      expected[{t, stream, sequence++}] = lines;
      part_bytes += lines.size();
    }
  };
  write(a, 0, a_blocks);
  write(b, 1, b_blocks);
  std::string want = "header\n";
  for (const auto& [key, lines] : expected) want += lines;
  testing::scratch_dir dir;
  const auto path = dir.file("merged.ndjson");
  const auto before = bytes_read_so_far();
  ASSERT_TRUE(before.has_value()) << "no rchar in /proc/self/io: the bytes read cannot be checked";
  merge_ledger_parts({&a, &b}, "header\n", path);
  EXPECT_LE(*bytes_read_so_far() - *before, 2 * part_bytes + 4096) << "the merge re-read the parts";
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str().size(), want.size());
  EXPECT_TRUE(text.str() == want);  // not EXPECT_EQ: a mismatch would print megabytes
}

// The merge reads a part back through a window of 1 MiB: blocks nearly in the order
// written (every 7th one elsewhere in time), blocks across the window's edge, and a
// block larger than the window.
TEST(ledger, parts_larger_than_the_read_window_merge_whole_and_in_order) {
  blocks a, b;
  for (int i = 0; i < 4000; ++i) {
    const millis t = i % 7 == 0 ? 4000 - i : i;
    a.emplace_back(t, "a" + std::to_string(t) + ":" + std::string(700 + i % 300, 'x') + "\n");
    if (i % 3 == 0) b.emplace_back(t, "b" + std::to_string(t) + ":" + std::string(900, 'y') + "\n");
  }
  b.emplace_back(2000, "big:" + std::string(std::size_t{5} << 19, 'z') + "\n");  // 2.5 MiB
  check_merge(a, b);
}

// In backlog each stream is late by its own amount: the order written (requests
// finished) is far from the merged one (requests meant). Reading a window at every
// block that missed it read hundreds of times the parts.
TEST(ledger, parts_written_far_from_the_merged_order_are_read_about_once) {
  blocks a, b;
  for (int i = 0; i < 6000; ++i) {
    const millis t = (static_cast<millis>(i) * 7919) % 6000;  // a scattered permutation
    (i % 2 == 0 ? a : b).emplace_back(t, std::to_string(t) + ":" + std::string(3500, 'q') + "\n");
  }
  check_merge(a, b);
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
  testing::scratch_dir scratch;
  const std::filesystem::path dir = scratch.file("tmpdir");
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
}

}  // namespace
}  // namespace gmsim
