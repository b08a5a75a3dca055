// Queued pages on disk (delivery.queue_memory_rows): what goes out is what came in, the
// disk is given back as pages leave, and a directory that cannot take them says why.
#include "delivery/page_spill.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "test_support.hpp"

namespace gmsim {
namespace {

page make_page(std::uint32_t stream, std::uint64_t sequence, std::uint32_t rows,
               std::uint32_t items_per_row) {
  page p;
  p.stream = stream;
  p.sequence = sequence;
  p.ready = static_cast<millis>(sequence * 1000);
  for (std::uint32_t r = 0; r < rows; ++r) {
    page_row row;
    row.viewer = r * 7 + stream;
    row.first_item = static_cast<std::uint32_t>(p.items.size());
    row.item_count = items_per_row;
    row.event_count = r + 1;
    row.oldest = static_cast<millis>(sequence + r);
    row.newest = static_cast<millis>(sequence + 2 * r);
    row.created = static_cast<millis>(r);
    row.session = (std::uint64_t{sequence} << 20) | r;
    p.rows.push_back(row);
    for (std::uint32_t i = 0; i < items_per_row; ++i) {
      p.items.push_back(page_item{static_cast<millis>(r * 10 + i), sequence * 31 + i, i});
    }
  }
  return p;
}

// Byte for byte; an empty vector's data() may be null, which memcmp must not get.
template <typename T>
bool same_bytes(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0);
}

bool same_rows(const page& a, const page& b) {
  return a.stream == b.stream && a.sequence == b.sequence && a.ready == b.ready &&
         same_bytes(a.rows, b.rows) && same_bytes(a.items, b.items);
}

TEST(page_spill, a_stored_page_keeps_its_place_and_comes_back_byte_for_byte) {
  testing::scratch_dir dir;
  page_spill spill(dir.path());
  std::vector<page> originals, queued;
  for (std::uint32_t i = 0; i < 50; ++i) {
    originals.push_back(make_page(i % 3, i, 1 + i % 20, i % 4));
    queued.push_back(originals.back());
  }
  for (auto& p : queued) {
    ASSERT_TRUE(spill.store(p)) << spill.failure();
    EXPECT_TRUE(p.rows.empty());
    EXPECT_EQ(p.rows.capacity(), 0u);  // the memory goes, not only the size
    EXPECT_TRUE(p.items.empty());
    EXPECT_GT(p.spilled_rows, 0u);
  }
  for (std::size_t i = 0; i < queued.size(); ++i) {
    EXPECT_EQ(queued[i].row_count(), originals[i].rows.size());
  }
  EXPECT_GT(spill.bytes_held(), 0u);
  EXPECT_EQ(spill.peak_bytes(), spill.bytes_held());
  // Out of order: queues consume their own pages in turn, not the spill's order.
  for (std::size_t i = queued.size(); i-- > 0;) {
    if (i % 2 == 0) continue;
    spill.load(queued[i]);
    EXPECT_TRUE(same_rows(queued[i], originals[i])) << "page " << i;
    EXPECT_EQ(queued[i].spilled_rows, 0u);
  }
  for (std::size_t i = 0; i < queued.size(); i += 2) {
    if (i % 4 == 0) {
      spill.load(queued[i]);
      EXPECT_TRUE(same_rows(queued[i], originals[i])) << "page " << i;
    } else {
      spill.discard(queued[i]);  // counted unsent without a ledger: never read
      EXPECT_EQ(queued[i].spilled_rows, 0u);
      EXPECT_EQ(queued[i].row_count(), 0u);
    }
  }
  EXPECT_EQ(spill.bytes_held(), 0u);
  EXPECT_TRUE(spill.failure().empty());
  // The file is given back: its directory holds nothing (it never had a name).
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

TEST(page_spill, a_page_in_memory_is_left_alone) {
  testing::scratch_dir dir;
  page_spill spill(dir.path());
  page p = make_page(1, 1, 3, 1);
  const page copy = p;
  spill.load(p);
  spill.discard(p);
  EXPECT_TRUE(same_rows(p, copy));
  EXPECT_EQ(spill.bytes_held(), 0u);
}

TEST(page_spill, a_directory_that_cannot_take_files_fails_the_store_and_keeps_the_page) {
  page_spill spill("/nonexistent/gmsim-spill");
  page p = make_page(0, 0, 5, 2);
  const page copy = p;
  EXPECT_FALSE(spill.store(p));
  EXPECT_TRUE(same_rows(p, copy));
  EXPECT_EQ(p.spilled_rows, 0u);
  EXPECT_NE(spill.failure().find("/nonexistent/gmsim-spill: cannot create a file"),
            std::string::npos)
      << spill.failure();
  EXPECT_NE(page_spill::check_directory("/nonexistent/gmsim-spill").find("No such file"),
            std::string::npos);
  testing::scratch_dir dir;
  EXPECT_EQ(page_spill::check_directory(dir.path()), "");
}

}  // namespace
}  // namespace gmsim
