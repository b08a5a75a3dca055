#include "record/ledger_sink.hpp"

#include "core/json_writer.hpp"
#include "record/lost_rows.hpp"
#include "record/recording.hpp"

namespace gmsim {

ledger_sink::ledger_sink(const scenario& model, bool record, bool lost) : model_(model) {
  if (record) record_ = std::make_unique<ledger_part>();
  if (lost) lost_ = std::make_unique<ledger_part>();
}

void ledger_sink::request_ended(const stream_info& stream, const page& p, millis intended,
                                const request_outcome& outcome, std::int64_t sent_us,
                                std::int64_t latency_us, std::string_view body, bool auth_probe) {
  if (record_) {
    const auto& dep = model_.deployments()[stream.deployment];
    write_request_line(line_, request_line{intended, dep.org_slug, dep.dep_slug, stream.type,
                                           p.sequence, static_cast<std::int64_t>(p.rows.size()),
                                           &outcome, sent_us, latency_us, body});
    record_->append(intended, stream.index, p.sequence, line_);
  }
  if (lost_ && outcome.kind != outcome_kind::delivered) {
    write_lost(stream, p, intended, outcome, auth_probe);
  }
}

void ledger_sink::page_unsent(const stream_info& stream, const page& p, millis at,
                              const request_outcome& unsent) {
  if (lost_) write_lost(stream, p, at, unsent);
}

void ledger_sink::write_lost(const stream_info& stream, const page& p, millis intended,
                             const request_outcome& outcome, bool auth_probe) {
  const auto& dep = model_.deployments()[stream.deployment];
  write_lost_lines(
      line_,
      lost_page{dep.org_slug, dep.dep_slug, stream.type, p.sequence, intended, &outcome,
                static_cast<std::int64_t>(p.rows.size()), auth_probe},
      [&](json_writer& w, std::size_t i) { model_.write_identifier(w, p.rows[i].viewer); },
      [&](std::size_t i) { return static_cast<std::int64_t>(p.rows[i].event_count); });
  lost_->append(intended, stream.index, p.sequence, line_);
}

std::vector<std::string> merge_ledger_sinks(const std::vector<const ledger_sink*>& sinks,
                                            const std::string& header,
                                            const std::string& record_path,
                                            const std::string& lost_path) {
  std::vector<ledger_part*> records, lost;
  for (const auto* s : sinks) {
    if (s->record() != nullptr) records.push_back(s->record());
    if (s->lost() != nullptr) lost.push_back(s->lost());
  }
  std::vector<std::string> failed;
  if (!record_path.empty()) {
    if (auto why = try_merge_ledger_parts(records, header, record_path); !why.empty()) {
      failed.push_back("--record: " + why);
    }
  }
  if (!lost_path.empty()) {
    if (auto why = try_merge_ledger_parts(lost, "", lost_path); !why.empty()) {
      failed.push_back("--lost-rows: " + why);
    }
  }
  return failed;
}

}  // namespace gmsim
