#include "delivery/aggregator.hpp"

#include <algorithm>
#include <bit>

#include "core/random.hpp"

namespace gmsim {

aggregator::aggregator(const stream_info& stream, int batch_rows, variables_rows variables,
                       millis longest_session)
    : stream_(stream),
      batch_rows_(static_cast<std::size_t>(std::max(1, batch_rows))),
      merge_variables_(variables != variables_rows::every_change ||
                       stream.type != webhook_type::variables),
      snapshot_(variables == variables_rows::snapshot && stream.type == webhook_type::variables),
      longest_session_(longest_session) {}

bool aggregator::has_full_page(merge_scratch& scratch) const {
  return full_prefix(scratch) != 0;
}

std::size_t aggregator::full_prefix(merge_scratch& scratch) const {
  // Rows are never more than events: most looks end here.
  if (pending_.size() < batch_rows_) return 0;
  if (!merge_variables_) return batch_rows_;
  // An event adds one row at most: a look that found scanned_rows_ rows in scanned_events_
  // events, no full page, means none until batch_rows - scanned_rows_ more have come. A
  // closed loop looks after every 10 ms of generation, and each look scanned every pending
  // event again (10% of a stress run's CPU).
  if (pending_.size() >= scanned_events_ &&
      pending_.size() - scanned_events_ < batch_rows_ - scanned_rows_) {
    return 0;
  }
  auto& table = scratch.table_;
  using slot = merge_scratch::slot;
  std::size_t capacity = std::bit_ceil(pending_.size() * 2 + 16);
  table.assign(capacity, slot{~0ull, 0});
  std::size_t rows = 0;
  for (std::size_t i = 0; i < pending_.size(); ++i) {
    std::uint64_t key = key_of(pending_[i], i);
    std::size_t h = mix64(key) & (capacity - 1);
    while (table[h].key != key && table[h].key != ~0ull) h = (h + 1) & (capacity - 1);
    if (table[h].key == ~0ull) {
      if (rows == batch_rows_) return i;
      table[h] = slot{key, 0};
      ++rows;
    }
  }
  if (rows == batch_rows_) return pending_.size();
  scanned_events_ = pending_.size();
  scanned_rows_ = rows;
  return 0;
}

void aggregator::flush_full(millis tick, std::vector<page>& out, merge_scratch& scratch) {
  while (const std::size_t n = full_prefix(scratch)) {
    std::vector<event> rest(pending_.begin() + static_cast<std::ptrdiff_t>(n), pending_.end());
    pending_.resize(n);
    flush(tick, out, scratch);
    pending_ = std::move(rest);
    forget_scan();
  }
}

void aggregator::snapshot_row(page& current, page_row& row, millis tick) {
  // The row's own items are the changes since the last flush, each its last value; the
  // viewer's values so far take them in, and the row becomes all of them. A change from
  // a later session starts the values afresh (a viewer may have two sessions at once:
  // the later one's values win, as the documentation's rows are per identifier).
  auto& known = values_[row.viewer];
  const page_item* first = current.items.data() + row.first_item;
  const page_item* last = first + row.item_count;
  if (row.created > known.session) {
    known.session = row.created;
    known.items.clear();
  }
  for (const page_item* item = first; item != last; ++item) {
    auto found = std::find_if(known.items.begin(), known.items.end(),
                              [&](const page_item& k) { return k.index == item->index; });
    if (found != known.items.end()) {
      *found = *item;
    } else {
      known.items.push_back(*item);
    }
  }
  current.items.resize(row.first_item);
  current.items.insert(current.items.end(), known.items.begin(), known.items.end());
  row.item_count = static_cast<std::uint32_t>(known.items.size());
  // Sessions over for longer than any session lasts are forgotten, now and then: memory
  // follows the viewers in session, not the run's length.
  if (values_.size() >= 2 * values_swept_at_ + 1024) {
    std::erase_if(
        values_, [&](const auto& entry) { return entry.second.session + longest_session_ < tick; });
    values_swept_at_ = values_.size();
  }
}

void aggregator::flush(millis tick, std::vector<page>& out, merge_scratch& scratch) {
  if (pending_.empty()) return;
  // Reused across ticks and streams, so that a flush allocates only the pages it returns.
  auto& table = scratch.table_;
  auto& row_of_event = scratch.row_of_event_;
  auto& row_start = scratch.row_start_;
  auto& next_of_row = scratch.next_of_row_;
  auto& sorted = scratch.sorted_;
  using slot = merge_scratch::slot;

  // 1. Number the rows in order of first appearance (open addressing on the key).
  std::size_t capacity = std::bit_ceil(pending_.size() * 2 + 16);
  table.assign(capacity, slot{~0ull, 0});
  row_of_event.resize(pending_.size());
  std::uint32_t rows = 0;
  for (std::size_t i = 0; i < pending_.size(); ++i) {
    const event& e = pending_[i];
    // Unmerged variables: each event its own row (its index is a key no other has).
    std::uint64_t key = key_of(e, i);
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
    if (snapshot_) snapshot_row(*current, row, tick);
    current->rows.push_back(row);
  }
  pending_.clear();
  forget_scan();
}

}  // namespace gmsim
