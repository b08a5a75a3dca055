// The aggregator: one per stream. Events wait for the stream's next flush tick; at the
// tick they are merged per identifier and cut into pages of at most batch_rows rows.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "scenario/scenario.hpp"

namespace gmsim {

// One merged item of a row: a variable's last value, or one rule firing.
struct page_item {
  millis t = 0;               // the event's time (rules: the timestamp written)
  std::uint64_t payload = 0;  // variables: value seed; rules: scene index
  std::uint32_t index = 0;    // variable or rule index
};

// One row of a page. Items are page.items[first_item, first_item + item_count).
struct page_row {
  std::uint32_t viewer = 0;
  std::uint32_t first_item = 0;
  std::uint32_t item_count = 0;
  std::uint32_t event_count = 0;  // events merged into this row
  millis oldest = 0;              // its oldest event: delivery lag is measured from here
  millis newest = 0;              // session rows: modified_at
  millis created = 0;             // session rows: created_at
  std::uint64_t session = 0;      // session rows: the session's ordinal
};

// A request's worth of rows, in compact form; the encoder turns it into bytes when it
// goes on the wire, so a backlog costs tens of bytes a row, not the JSON.
struct page {
  std::uint32_t stream = 0;    // stream_info::index
  std::uint64_t sequence = 0;  // per stream, from 0
  millis ready = 0;            // the tick that cut it
  std::vector<page_row> rows;
  std::vector<page_item> items;
  // When spilled_rows > 0, rows and items wait on disk (page_spill), at spill_offset of
  // the spill's file spill_file, and are empty here.
  std::uint32_t spilled_rows = 0;
  std::uint32_t spilled_items = 0;
  std::uint32_t spill_file = 0;
  std::uint64_t spill_offset = 0;
  std::size_t row_count() const { return spilled_rows > 0 ? spilled_rows : rows.size(); }
};

// The working space of a merge: used only inside aggregator::flush, so the aggregators
// of one thread share one (the engine's), and it keeps the capacity of the largest
// tick. Kept per aggregator, it cost each stream the size of its busiest tick even
// while idle: 300 MB at 10,000 streams.
class merge_scratch {
  friend class aggregator;
  std::vector<std::uint32_t> row_of_event_;
  std::vector<std::uint32_t> row_start_;
  std::vector<std::uint32_t> next_of_row_;
  std::vector<event> sorted_;
  struct slot {
    std::uint64_t key;
    std::uint32_t row;
  };
  std::vector<slot> table_;  // open addressing: key -> row, for this tick
};

class aggregator {
 public:
  // variables (delivery.variables), for a variables stream: changed: a row holds a
  // viewer's changes since the last flush, the last value of each; every_change: each
  // change is its own row; snapshot: as changed, but the row holds every variable set
  // so far in the viewer's session (longest_session: how long a session can last, after
  // which its values are forgotten).
  aggregator(const stream_info& stream, int batch_rows,
             variables_rows variables = variables_rows::changed, millis longest_session = 0);

  // Events must come in time order (the generator's order).
  void add(const event& e) { pending_.push_back(e); }
  std::size_t pending_events() const { return pending_.size(); }
  // Whether the events pending make at least batch_rows rows (delivery.flush eager).
  bool has_full_page(merge_scratch& scratch) const;
  // Cuts full pages only (delivery.loop closed): the longest prefixes of the pending
  // events that make batch_rows rows, merged as flush merges them, as a tick just
  // before the next row's first event would; the rest waits.
  void flush_full(millis tick, std::vector<page>& out, merge_scratch& scratch);

  // Merges the pending events and appends the pages to out. Merge rules:
  // variables: one row per identifier, the last value of each variable wins, variables
  // in the order first set; rules: one row per identifier, firings appended in time
  // order; session: one row per session, created_at its start, modified_at its latest
  // event. Rows keep the order of their first event.
  void flush(millis tick, std::vector<page>& out, merge_scratch& scratch);

 private:
  // A row's key: rows merge the events with one key.
  std::uint64_t key_of(const event& e, std::size_t i) const {
    if (stream_.type == webhook_type::session) return e.payload;
    return merge_variables_ ? e.viewer : i;
  }
  // How many pending events make the first full page: up to the first event of row
  // batch_rows + 1, or all of them when they make exactly batch_rows rows; 0 when they
  // make fewer.
  std::size_t full_prefix(merge_scratch& scratch) const;
  // snapshot: the viewer's session's values so far, replaced by the row's own items.
  void snapshot_row(page& current, page_row& row, millis tick);

  stream_info stream_;
  std::size_t batch_rows_;
  bool merge_variables_;
  bool snapshot_ = false;
  millis longest_session_ = 0;
  // snapshot: per viewer, the session its values belong to (its start) and the values.
  struct viewer_values {
    millis session = 0;
    std::vector<page_item> items;
  };
  std::unordered_map<std::uint32_t, viewer_values> values_;
  std::size_t values_swept_at_ = 0;  // values_' size at its last sweep
  std::uint64_t next_sequence_ = 0;
  std::vector<event> pending_;
  // What the last look for a full page found in pending_ (full_prefix), while pending_
  // has only grown since: its events and rows.
  mutable std::size_t scanned_events_ = 0;
  mutable std::size_t scanned_rows_ = 0;
  void forget_scan() { scanned_events_ = scanned_rows_ = 0; }
};

}  // namespace gmsim
