// The lost-rows ledger (`--lost-rows`, docs/reports.md#the-lost-rows-ledger): its one
// owner. One NDJSON line per row not delivered, written by the dry run, the live run and
// the replay alike.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/duration.hpp"
#include "delivery/outcome.hpp"
#include "profile/profile.hpp"

namespace gmsim {

class json_writer;

// The page whose rows were lost, and how.
struct lost_page {
  std::string_view org, dep;
  webhook_type type = webhook_type::variables;
  std::uint64_t sequence = 0;  // the page's number in its stream
  millis intended = 0;         // its intended send time (an unsent page: the stop's, at least)
  const request_outcome* outcome = nullptr;
  std::int64_t rows = 0;
  bool auth_probe = false;  // an auth probe's rows: not lost, listed so that every row is
};

// Why a row was not delivered, as the ledger says it: "status 413", an error kind
// ("timeout"), "unsent" or "dropped". The line's "outcome" says which kind of end it was
// (an unacknowledged row may have been stored) and "cause" the details.
std::string lost_reason(const request_outcome& outcome);

// One line per row of the page into out (replacing what out held): identifier(w, i)
// writes row i's identifier as JSON; events, when given, says how many viewer events row
// i merged (a replay knows none: the field is left out).
void write_lost_lines(std::string& out, const lost_page& page,
                      const std::function<void(json_writer&, std::size_t)>& identifier,
                      const std::function<std::int64_t(std::size_t)>& events = {});

}  // namespace gmsim
