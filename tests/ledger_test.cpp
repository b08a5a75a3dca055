#include "gmsim/ledger.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
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

}  // namespace
}  // namespace gmsim
