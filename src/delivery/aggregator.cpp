#include "delivery/aggregator.hpp"

#include <algorithm>
#include <bit>

#include "core/random.hpp"

namespace gmsim {

aggregator::aggregator(const stream_info& stream, int batch_rows, bool merge_variables)
    : stream_(stream),
      batch_rows_(static_cast<std::size_t>(std::max(1, batch_rows))),
      merge_variables_(merge_variables || stream.type != webhook_type::variables) {}

void aggregator::flush(millis tick, std::vector<page>& out, merge_scratch& scratch) {
  if (pending_.empty()) return;
  // Reused across ticks and streams, so that a flush allocates only the pages it returns.
  auto& table = scratch.table_;
  auto& row_of_event = scratch.row_of_event_;
  auto& row_start = scratch.row_start_;
  auto& next_of_row = scratch.next_of_row_;
  auto& sorted = scratch.sorted_;
  using slot = merge_scratch::slot;
  const bool by_session = stream_.type == webhook_type::session;

  // 1. Number the rows in order of first appearance (open addressing on the key).
  std::size_t capacity = std::bit_ceil(pending_.size() * 2 + 16);
  table.assign(capacity, slot{~0ull, 0});
  row_of_event.resize(pending_.size());
  std::uint32_t rows = 0;
  for (std::size_t i = 0; i < pending_.size(); ++i) {
    const event& e = pending_[i];
    // Unmerged variables: each event its own row (its index is a key no other has).
    std::uint64_t key = by_session ? e.payload : merge_variables_ ? e.viewer : i;
    std::size_t h = mix64(key) & (capacity - 1);
    while (table[h].key != key && table[h].key != ~0ull) h = (h + 1) & (capacity - 1);
    if (table[h].key == ~0ull) table[h] = slot{key, rows++};
    row_of_event[i] = table[h].row;
  }

  // 2. A stable counting sort by row keeps each row's events in time order.
  row_start.assign(rows + 1, 0);
  for (auto r : row_of_event) ++row_start[r + 1];
  for (std::uint32_t r = 0; r < rows; ++r) row_start[r + 1] += row_start[r];
  sorted.resize(pending_.size());
  next_of_row.assign(row_start.begin(), row_start.end() - 1);
  for (std::size_t i = 0; i < pending_.size(); ++i) {
    sorted[next_of_row[row_of_event[i]]++] = pending_[i];
  }

  // 3. Merge each row and cut pages.
  page* current = nullptr;
  for (std::uint32_t r = 0; r < rows; ++r) {
    if (current == nullptr || current->rows.size() == batch_rows_) {
      out.emplace_back();
      current = &out.back();
      current->stream = stream_.index;
      current->sequence = next_sequence_++;
      current->ready = tick;
      const auto last_row = static_cast<std::uint32_t>(std::min<std::size_t>(rows, r + batch_rows_));
      current->rows.reserve(last_row - r);
      // A row has at most one item per event: one allocation for the page's items.
      if (stream_.type != webhook_type::session) {
        current->items.reserve(row_start[last_row] - row_start[r]);
      }
    }
    const event* first = sorted.data() + row_start[r];
    const event* last = sorted.data() + row_start[r + 1];
    page_row row;
    row.viewer = first->viewer;
    row.first_item = static_cast<std::uint32_t>(current->items.size());
    row.event_count = static_cast<std::uint32_t>(last - first);
    row.oldest = first->t;
    row.newest = (last - 1)->t;
    row.created = first->created;
    row.session = first->payload;
    switch (stream_.type) {
      case webhook_type::variables:
        for (const event* e = first; e != last; ++e) {
          // Rows hold a handful of variables: a linear scan beats a map here.
          auto begin = current->items.begin() + row.first_item;
          auto found = std::find_if(begin, current->items.end(),
                                    [&](const page_item& item) { return item.index == e->item; });
          if (found != current->items.end()) {
            found->payload = e->payload;
            found->t = e->t;
          } else {
            current->items.push_back(page_item{e->t, e->payload, e->item});
          }
        }
        break;
      case webhook_type::rules:
        // A firing's timestamp is its event's `created` (t, but for edge cases).
        for (const event* e = first; e != last; ++e) {
          current->items.push_back(page_item{e->created, e->payload, e->item});
        }
        break;
      case webhook_type::session:
        break;
    }
    row.item_count = static_cast<std::uint32_t>(current->items.size() - row.first_item);
    current->rows.push_back(row);
  }
  pending_.clear();
}

}  // namespace gmsim
