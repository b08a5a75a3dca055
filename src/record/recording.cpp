#include "record/recording.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <tuple>

#include "core/bounded_json.hpp"
#include "core/file_io.hpp"
#include "core/json_writer.hpp"

namespace gmsim {
namespace {

using json = nlohmann::json;

// Checks one line after the other, so that every error names its line.
class line_checker {
 public:
  line_checker(const std::string& path, std::uint32_t line) : path_(path), line_(line) {}

  [[noreturn]] void fail(const std::string& reason) const {
    throw recording_error(path_ + ":" + std::to_string(line_) + ": " + reason);
  }

  json parse(const std::string& text, const char* what) const {
    try {
      json doc = parse_json_bounded(text);
      if (!doc.is_object()) fail(std::string(what) + " is not a JSON object");
      return doc;
    } catch (const json_too_deep& e) {
      fail(std::string(what) + " is " + e.what());
    } catch (const json::parse_error& e) {
      fail(std::string(what) + " is not JSON (at byte " + std::to_string(e.byte) + ")");
    } catch (const json::exception&) {
      // nlohmann throws out_of_range, not parse_error, for a number beyond a double (1e999).
      fail(std::string(what) + " is not JSON: a number is out of range");
    }
  }

  const json* field(const json& doc, const char* name, bool required) const {
    auto it = doc.find(name);
    if (it == doc.end()) {
      if (required) fail(std::string("\"") + name + "\" is missing");
      return nullptr;
    }
    return &*it;
  }

  std::int64_t non_negative(const json& doc, const char* name) const {
    const json* v = field(doc, name, true);
    if (!v->is_number_integer() || v->get<std::int64_t>() < 0) {
      fail(std::string("\"") + name + "\" must be a non-negative integer, got " + v->dump());
    }
    return v->get<std::int64_t>();
  }

  const std::string& text(const json& doc, const char* name, bool non_empty) const {
    const json* v = field(doc, name, true);
    if (!v->is_string() || (non_empty && v->get_ref<const std::string&>().empty())) {
      fail(std::string("\"") + name + "\" must be a" + (non_empty ? " non-empty" : "") +
           " string, got " + v->dump());
    }
    return v->get_ref<const std::string&>();
  }

 private:
  const std::string& path_;
  std::uint32_t line_;
};

shard_spec parse_shard(const line_checker& check, const std::string& text) {
  shard_spec shard;
  char slash = 0;
  std::istringstream in(text);
  if (!(in >> shard.index >> slash >> shard.count) || slash != '/' || !in.eof() ||
      shard.count < 1 || shard.index < 1 || shard.index > shard.count) {
    check.fail("\"shard\" must read I/N, got \"" + text + "\"");
  }
  return shard;
}

recording_header read_header(const line_checker& check, const std::string& line) {
  static const char* expected = "a recording starts with a {\"gmsim_record\":1,...} line";
  json doc;
  try {
    doc = parse_json_bounded(line);
  } catch (const json_too_deep& e) {
    check.fail(std::string("not a recording: the first line is ") + e.what());
  } catch (const json::exception&) {  // parse_error, or out_of_range for 1e999
    check.fail(std::string("not a recording: the first line is not JSON; ") + expected);
  }
  if (!doc.is_object() || !doc.contains("gmsim_record")) {
    check.fail(std::string("not a recording: no \"gmsim_record\" header; ") + expected);
  }
  if (doc["gmsim_record"] != 1) {
    check.fail("unsupported recording format " + doc["gmsim_record"].dump() +
               " (this gmsim reads 1)");
  }
  recording_header h;
  if (check.field(doc, "version", false)) h.version = check.text(doc, "version", false);
  if (check.field(doc, "profile", false)) h.profile = check.text(doc, "profile", false);
  if (const json* seed = check.field(doc, "seed", false)) {
    if (!seed->is_number_unsigned()) check.fail("\"seed\" must be a non-negative integer");
    h.seed = seed->get<std::uint64_t>();
  }
  if (const json* start = check.field(doc, "start_time", false)) {
    if (!start->is_number_integer()) check.fail("\"start_time\" must be an integer (epoch ms)");
    h.start_time = start->get<millis>();
  }
  if (check.field(doc, "shard", false))
    h.shard = parse_shard(check, check.text(doc, "shard", true));
  if (const json* dry = check.field(doc, "dry_run", false)) {
    if (!dry->is_boolean()) check.fail("\"dry_run\" must be true or false");
    h.dry_run = dry->get<bool>();
  }
  if (check.field(doc, "pacing_scope", false)) {
    const std::string name = check.text(doc, "pacing_scope", true);
    if (!parse_pacing_scope(name, h.scope)) {
      check.fail("\"pacing_scope\" must be webhook, deployment, stream or endpoint, not \"" +
                 name + "\"");
    }
  }
  return h;
}

}  // namespace

std::string recording_header_line(const recording_header& h, std::string_view replay_of) {
  std::string line;
  json_writer w(line);
  w.raw("{\"gmsim_record\":1,\"version\":");
  w.string(GMSIM_VERSION);
  w.raw(",\"profile\":");
  w.string(h.profile);
  w.raw(",\"seed\":");
  w.unsigned_integer(h.seed);
  w.raw(",\"start_time\":");
  w.integer(h.start_time);
  w.raw(",\"shard\":");
  w.string(std::to_string(h.shard.index) + "/" + std::to_string(h.shard.count));
  w.raw(",\"dry_run\":");
  w.boolean(h.dry_run);
  w.raw(",\"pacing_scope\":");
  w.string(to_string(h.scope));
  if (!replay_of.empty()) {
    w.raw(",\"replay_of\":");
    w.string(replay_of);
  }
  w.raw("}\n");
  w.flush();
  return line;
}

void write_request_line(std::string& out, const request_line& r) {
  json_writer w(out, json_writer::overwrite);
  w.raw("{\"t_ms\":");
  w.integer(r.t_ms);
  w.raw(",\"org\":");
  w.string(r.org);
  w.raw(",\"dep\":");
  w.string(r.dep);
  w.raw(",\"type\":");
  w.string(to_string(r.type));
  w.raw(",\"seq\":");
  w.unsigned_integer(r.sequence);
  w.raw(",\"rows\":");
  w.integer(r.rows);
  w.raw(",\"outcome\":");
  w.string(to_string(r.outcome->kind));
  if (r.outcome->status != 0) {
    w.raw(",\"status\":");
    w.integer(r.outcome->status);
  }
  if (r.outcome->kind == outcome_kind::failed) {
    w.raw(",\"error\":");
    w.string(to_string(r.outcome->error));
  }
  w.raw(",\"sent_us\":");
  w.integer(r.sent_us);
  w.raw(",\"latency_us\":");
  w.integer(r.latency_us);
  w.raw(",\"body\":\"");
  w.escaped(r.body);
  w.raw("\"}\n");
  w.flush();
}

recording_index index_recording(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw recording_error(path + ": cannot read: " + std::strerror(errno));
  recording_index index;
  std::map<std::tuple<std::string, std::string, int>, std::uint32_t> stream_of;
  std::set<std::pair<std::string, std::string>> deployments;
  std::string line;
  std::uint64_t offset = 0;
  std::uint32_t number = 0;
  bool header = false;
  while (std::getline(in, line)) {
    ++number;
    const std::uint64_t at = offset;
    offset += line.size() + 1;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    line_checker check(path, number);
    if (number == 1) {
      index.header = read_header(check, line);
      header = true;
      continue;
    }
    if (line.empty()) continue;
    json doc = check.parse(line, "the line");
    recorded_request r;
    r.t = check.non_negative(doc, "t_ms");
    // A run lasts at most max_run_duration, and its last flushes well within an hour more:
    // a t_ms of 10^12 made a replay wait 31 years.
    if (r.t > max_run_duration + 3'600'000) {
      check.fail("\"t_ms\" is " + std::to_string(r.t) +
                 ", past the 30 days a run may last; not a recording gmsim wrote");
    }
    r.rows = check.non_negative(doc, "rows");
    const auto& org = check.text(doc, "org", true);
    const auto& dep = check.text(doc, "dep", true);
    const auto& type_name = check.text(doc, "type", true);
    webhook_type type;
    if (!parse_webhook_type(type_name, type)) {
      check.fail("\"type\" must be variables, rules or session, got \"" + type_name + "\"");
    }
    if (!doc.contains("body"))
      check.fail("\"body\" is missing: a recording line holds the body sent");
    // The rows are the body's: a 1-row body said "rows":999999 and was counted so.
    const json body = parse_json_bounded(check.text(doc, "body", false), false);
    const json* rows = body.is_object() && body.contains("data") && body["data"].is_object() &&
                               body["data"].contains("rows")
                           ? &body["data"]["rows"]
                           : nullptr;
    if (rows == nullptr || !rows->is_array()) {
      check.fail("\"body\" is not a webhook body with a data.rows list");
    }
    if (static_cast<std::int64_t>(rows->size()) != r.rows) {
      check.fail("\"rows\" is " + std::to_string(r.rows) + " but the body holds " +
                 std::to_string(rows->size()) + " rows");
    }
    if (line.size() > UINT32_MAX) check.fail("the line is longer than 4 GiB");
    r.offset = at;
    r.length = static_cast<std::uint32_t>(line.size());
    r.line = number;
    auto key = std::make_tuple(org, dep, static_cast<int>(type));
    auto [it, added] = stream_of.emplace(key, static_cast<std::uint32_t>(index.streams.size()));
    if (added) {
      index.streams.push_back(recorded_stream{org, dep, type, {}});
      deployments.emplace(org, dep);
    }
    auto& stream = index.streams[it->second];
    r.sequence = stream.requests.size();
    if (doc.contains("seq"))
      r.sequence = static_cast<std::uint64_t>(check.non_negative(doc, "seq"));
    stream.requests.push_back(r);
    index.header.requests += 1;
    index.header.last_t_ms = std::max(index.header.last_t_ms, r.t);
  }
  if (in.bad()) throw recording_error(path + ": cannot read: " + std::strerror(errno));
  if (!header) {
    throw recording_error(path +
                          ":1: not a recording: the file is empty; a recording starts "
                          "with a {\"gmsim_record\":1,...} line");
  }
  index.deployments = deployments.size();
  return index;
}

recording_file::recording_file(const std::string& path)
    : fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {
  if (fd_ < 0) throw recording_error(path + ": cannot read: " + std::strerror(errno));
}

recording_file::~recording_file() {
  if (fd_ >= 0) ::close(fd_);
}

bool recording_file::read_body(const recorded_request& request, std::string& body,
                               std::string& why) const {
  std::string line(request.length, '\0');
  if (pread_up_to(fd_, line.data(), line.size(), request.offset) !=
      static_cast<std::int64_t>(line.size())) {
    why = "line " + std::to_string(request.line) + ": cannot read it back";
    return false;
  }
  json doc = parse_json_bounded(line, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("body") || !doc["body"].is_string()) {
    why = "line " + std::to_string(request.line) + ": changed since the replay started";
    return false;
  }
  body = std::move(doc["body"].get_ref<std::string&>());
  return true;
}

}  // namespace gmsim
