// The small commands: example, validate, profiles, edge-cases (run, receive, replay and
// merge have files of their own).
#include "cli/commands.hpp"

#include <algorithm>
#include <boost/program_options.hpp>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/options.hpp"
#include "core/bounded_json.hpp"
#include "core/duration.hpp"
#include "core/file_io.hpp"
#include "core/shown_text.hpp"
#include "delivery/encoder.hpp"
#include "delivery/engine.hpp"
#include "delivery/schema.hpp"
#include "profile/profile.hpp"
#include "profile/profile_reader.hpp"
#include "report/report.hpp"
#include "scenario/edge_cases.hpp"

namespace gmsim::cli {

namespace {

std::string read_file(const std::string& path) {
  try {
    // Bodies and recordings: a day's recording of a busy run fits; /dev/zero does not.
    return read_whole_file(path, std::uint64_t{4} << 30, "file to validate");
  } catch (const std::runtime_error& e) {
    throw usage_error(e.what());
  }
}

}  // namespace

int example_command(const args& a) {
  static const char* help =
      "Usage: gmsim example TYPE [--compact]\n\n"
      "Prints a valid request body of TYPE (variables, rules or session), as the quickstart\n"
      "profile generates it. --compact prints the exact bytes sent, on one line.\n";
  if (wants_help(a)) {
    std::fputs(help, stdout);
    return exit_ok;
  }
  bool compact = false;
  std::string type_name;
  for (const auto& s : a) {
    if (s == "--compact") {
      compact = true;
    } else if (!s.empty() && s[0] == '-') {
      print_error("example", "unknown option '" + s.substr(0, s.find('=')) +
                                 "'; the only option is --compact");
      return exit_usage;
    } else if (type_name.empty()) {
      type_name = s;
    } else {
      print_error("example", "one TYPE only, got '" + s + "' too");
      return exit_usage;
    }
  }
  webhook_type type;
  if (!parse_webhook_type(type_name, type)) {
    print_error("example", type_name.empty() ? "TYPE is missing: variables, rules or session"
                                             : "unknown TYPE '" + type_name +
                                                   "': use variables, rules or session");
    return exit_usage;
  }
  // A short dry run of the quickstart profile, stopped at the first body of that type.
  profile p = load_profile("quickstart");
  p.delivery.batch_rows = 3;
  scenario model(p);
  encoder body_encoder(model);
  std::vector<std::uint32_t> deployments;
  for (std::uint32_t d = 0; d < model.deployments().size(); ++d) deployments.push_back(d);

  struct capture final : request_sender {
    engine* e = nullptr;
    const scenario* model = nullptr;
    webhook_type wanted{};
    std::string body;
    void send(std::uint32_t queue, std::uint32_t slot, std::string_view b) override {
      if (body.empty() && model->streams()[e->stream_of(queue, slot)].type == wanted) body = b;
      e->complete(queue, slot,
                  request_outcome{outcome_kind::delivered, 200, failure_kind::none, {}}, 0, 0);
    }
  } sink;
  simulated_clock time;
  engine e(engine_setup{&model, &body_encoder, deployments, nullptr}, time, sink);
  sink.e = &e;
  sink.model = &model;
  sink.wanted = type;
  while (sink.body.empty()) {
    auto t = e.next_wakeup();
    if (!t) break;
    time.set(*t);
    e.run_due();
  }
  if (sink.body.empty()) {
    print_error("example", "the quickstart profile sends no " + type_name + " webhooks");
    return exit_failure;
  }
  if (compact) {
    std::fputs(sink.body.c_str(), stdout);
    std::fputc('\n', stdout);
  } else {
    std::fputs(nlohmann::ordered_json::parse(sink.body).dump(2).c_str(), stdout);
    std::fputc('\n', stdout);
  }
  return exit_ok;
}

int validate_command(const args& a) {
  static const char* help =
      "Usage: gmsim validate FILE...\n\n"
      "Checks request bodies against the GMetri webhook contract. A FILE holds one body, or\n"
      "is a recording (gmsim run --record), whose every body is checked. Prints each fault\n"
      "as FILE[:LINE]: JSON-POINTER: reason. Exit 0 when all are valid, 1 on any fault,\n"
      "2 when a file cannot be read.\n";
  if (wants_help(a) || a.empty()) {
    std::fputs(help, a.empty() ? stderr : stdout);
    return a.empty() ? exit_usage : exit_ok;
  }
  std::vector<std::string> paths;
  bool options_done = false;
  for (const auto& s : a) {
    if (!options_done && s == "--") {
      options_done = true;
    } else if (!options_done && s.size() > 1 && s[0] == '-') {
      print_error("validate", "unknown option '" + s.substr(0, s.find('=')) +
                                  "'; validate takes none (a file named so: put -- before it)");
      return exit_usage;
    } else {
      paths.push_back(s);
    }
  }
  if (paths.empty()) {
    print_error("validate", "FILE is missing");
    return exit_usage;
  }
  int faults = 0;
  for (const auto& path : paths) {
    std::string text;
    try {
      text = read_file(path);
    } catch (const usage_error& e) {
      print_error("validate", e.what());
      return exit_usage;
    }
    auto report = [&](const std::string& where, const std::vector<schema_fault>& found) {
      for (const auto& f : found) {
        // A body's keys may hold anything: an escape sequence, a line break, a 1 MB key.
        std::printf("%s: %s: %s\n", shown_text(where).c_str(),
                    f.path.empty() ? "(body)" : shown_text(f.path).c_str(),
                    shown_text(f.reason, 1000).c_str());
      }
      faults += static_cast<int>(found.size());
    };
    bool recording = text.rfind("{\"gmsim_record\"", 0) == 0;
    if (!recording) {
      int before = faults;
      report(path, validate_body(text));
      if (faults == before) std::printf("%s: valid\n", shown_text(path).c_str());
      continue;
    }
    const int faults_before = faults;
    std::istringstream lines(text);
    std::string line;
    int number = 0;
    int bodies = 0;
    while (std::getline(lines, line)) {
      ++number;
      if (number == 1 || line.empty()) continue;
      auto where = path + ":" + std::to_string(number);
      auto doc = parse_json_bounded(line, false);
      if (doc.is_discarded()) {
        // validate_body words a syntax error well: what was expected, at which byte.
        auto found = validate_body(line);
        report(where, {schema_fault{"", "recording line: " +
                                            (found.empty() ? "not JSON" : found.front().reason)}});
        continue;
      }
      if (!doc.is_object() || !doc.contains("body") || !doc["body"].is_string()) {
        report(where, {schema_fault{"", "not a recording line: no \"body\" string"}});
        continue;
      }
      ++bodies;
      report(where, validate_body(doc["body"].get_ref<const std::string&>()));
    }
    if (faults == faults_before)
      std::printf("%s: %d bodies, all valid\n", shown_text(path).c_str(), bodies);
  }
  if (faults == 0) return exit_ok;
  std::fprintf(stderr, "%d fault(s)\n", faults);
  return exit_failure;
}

int edge_cases_command(const args& a) {
  if (wants_help(a)) {
    std::fputs("Usage: gmsim edge-cases\n\nLists the edge-case catalogue: name, group, and what it breaks.\n"
               "Inject one with `gmsim run --edge-case NAME[:COUNT]` or a profile's \"edge_cases\";\n"
               "\"all\" selects every case GMetri could really send (not the documentation quirks).\n",
               stdout);
    return exit_ok;
  }
  if (!a.empty()) {
    print_error("edge-cases", "takes no arguments, got '" + a.front() + "'");
    return exit_usage;
  }
  for (const auto& c : edge_case_catalogue()) {
    std::printf("%-30s %-10s %s%s\n", std::string(c.name).c_str(), std::string(c.group).c_str(),
                std::string(c.breaks).c_str(), c.valid ? "" : " [off by default]");
  }
  return exit_ok;
}

int profiles_command(const args& a) {
  if (wants_help(a)) {
    std::fputs(
        "Usage: gmsim profiles\n\nLists the built-in profiles, a line each. Use one with "
        "`gmsim run NAME`.\n",
        stdout);
    return exit_ok;
  }
  if (!a.empty()) {
    print_error("profiles", "takes no arguments, got '" + a.front() + "'");
    return exit_usage;
  }
  for (const auto& e : embedded_profiles()) {
    std::string description;
    try {
      description = parse_profile(e.text, "builtin:" + std::string(e.name)).description;
    } catch (const profile_error& err) {
      description = std::string("(broken: ") + err.what() + ")";
    }
    std::printf("%-20s %s\n", std::string(e.name).c_str(), description.c_str());
  }
  return exit_ok;
}

}  // namespace gmsim::cli
