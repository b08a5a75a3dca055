#include "cli/commands.hpp"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

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
#include "core/duration.hpp"
#include "core/file_io.hpp"
#include "delivery/encoder.hpp"
#include "delivery/engine.hpp"
#include "delivery/schema.hpp"
#include "net/receiver.hpp"
#include "profile/profile.hpp"
#include "report/html_report.hpp"
#include "report/report.hpp"
#include "report/thresholds.hpp"
#include "scenario/edge_cases.hpp"

namespace gmsim::cli {

namespace {

bool wants_help(const args& a) {
  for (const auto& s : a) {
    if (s == "--help" || s == "-h") return true;
  }
  return false;
}

std::string read_file(const std::string& path) {
  try {
    return read_whole_file(path);
  } catch (const std::runtime_error& e) {
    throw usage_error(e.what());
  }
}

// --abort-on-fail: a live run stops once a threshold can no longer pass. A dry run is
// over too soon to stop; its thresholds are checked at the end like any.
void arm_abort_on_fail(run_options& options) {
  if (!options.abort_on_fail || options.config.dry_run) return;
  if (std::none_of(options.thresholds.begin(), options.thresholds.end(),
                   [](const threshold& t) { return can_abort(t); })) {
    print_error("run", "--abort-on-fail: no threshold given can stop a run early (counts with <, <= or "
                       "==, such as lost_rows==0: see docs/reports.md); running to the end");
    return;
  }
  options.config.should_stop = [thresholds = options.thresholds](const run_counters& so_far) {
    auto doomed = doomed_threshold(thresholds, so_far);
    if (doomed) {
      std::fprintf(stderr, "\ngmsim: stopping: threshold '%s' can no longer pass (%s)\n",
                   doomed->expr.c_str(), doomed->note.c_str());
    }
    return doomed.has_value();
  };
}

// The summary, thresholds, summary JSON and JUnit report; whether every threshold passed.
bool write_run_reports(const run_options& options, const run_result& result) {
  std::fputs(summary_text(options.config, result).c_str(), stdout);
  if (options.summary_json.empty() && options.junit.empty() && options.thresholds.empty() &&
      options.html.empty()) {
    return true;
  }
  auto summary = summary_json(options.config, result);
  auto results = evaluate_thresholds(options.thresholds, summary);
  add_thresholds(summary, results);
  std::fputs(thresholds_text(results).c_str(), stdout);
  if (!options.summary_json.empty()) write_file(options.summary_json, summary.dump(2) + "\n");
  if (!options.junit.empty()) write_file(options.junit, junit_xml(summary));
  if (!options.html.empty()) write_html_report(options.html, summary, options.config.lost_rows_path);
  return all_passed(results);
}

// Without --target, a live run sends to gmsim's own validating receiver on 127.0.0.1,
// started here with the run's auth string, its gap scaled as the run's time is; the
// report then says what the receiver saw.
std::unique_ptr<receiver> start_embedded_receiver(run_config& config) {
  receiver_config rc;
  rc.listen = "127.0.0.1:0";
  rc.auth_string = config.transport.auth_string;
  rc.min_gap =
      static_cast<millis>(static_cast<double>(config.settings.delivery.min_gap) / config.time_scale);
  // The tolerance for arrival jitter scales too (5 ms of 200 ms by default), or at a
  // large --time-scale it would swallow the whole gap and no violation could show.
  rc.gap_tolerance = std::min(rc.gap_tolerance, rc.min_gap / 40);
  auto embedded = std::make_unique<receiver>(rc);
  embedded->start();
  config.transport.target =
      parse_target("http://127.0.0.1:" + std::to_string(embedded->port()) + "/webhook");
  if (!config.quiet) {
    std::fprintf(stderr, "gmsim: no --target: sending to the embedded receiver at %s\n",
                 config.transport.target.text.c_str());
  }
  return embedded;
}

}  // namespace

int run_command(const args& a) {
  run_options options;
  try {
    options = parse_run_options(a);
  } catch (const usage_error& e) {
    print_error("run", e.what());
    return exit_usage;
  } catch (const profile_error& e) {
    print_error("run", e.what());
    return exit_usage;
  }
  if (options.help) {
    std::fputs(options.help_text.c_str(), stdout);
    return exit_ok;
  }
  arm_abort_on_fail(options);
  std::unique_ptr<receiver> embedded;
  run_result result;
  try {
    if (!options.config.dry_run) {
      if (options.config.transport.target.text.empty()) {
        embedded = start_embedded_receiver(options.config);
      } else {
        warn_if_insecure(options.config.transport);
      }
    }
    result = run(options.config);
    if (embedded) {
      embedded->stop();
      result.receiver = embedded->counts();
    }
  } catch (const profile_error& e) {
    print_error("run", e.what());
    return exit_usage;
  } catch (const std::invalid_argument& e) {
    print_error("run", e.what());
    return exit_usage;
  }
  bool passed = write_run_reports(options, result);
  if (result.interrupted) return exit_interrupted;
  return passed ? exit_ok : exit_threshold;
}

int receive_command(const args& a) {
  namespace po = boost::program_options;
  po::options_description opts("Options");
  // clang-format off
  opts.add_options()
    ("help,h", "show this help")
    ("listen", po::value<std::string>()->default_value("127.0.0.1:8080")->value_name("ADDR:PORT"), "ADDR:PORT to listen on (port 0: any free port)")
    ("auth-string", po::value<std::string>()->value_name("S"), "require \"Authorization: Basic S\" (or GMSIM_AUTH_STRING); 401 otherwise")
    ("min-gap", po::value<std::string>()->default_value("200ms")->value_name("D"), "count a stream's requests closer than this")
    ("gap-tolerance", po::value<std::string>()->default_value("5ms")->value_name("D"), "arrival jitter forgiven: only gaps under min-gap minus this are counted")
    ("max-body", po::value<std::string>()->default_value("16777216")->value_name("N"), "bytes; 413 beyond")
    ("max-header", po::value<std::string>()->default_value("16384")->value_name("N"), "bytes of request line and headers; 431 beyond")
    ("max-connections", po::value<std::string>()->default_value("4096")->value_name("N"), "open connections at most; further ones are closed at once")
    ("request-timeout", po::value<std::string>()->default_value("10s")->value_name("D"), "a request must arrive whole within this of its first byte (else 408 and close); also a new connection's first byte, and the client's taking of each answer")
    ("idle-timeout", po::value<std::string>()->default_value("60s")->value_name("D"), "close a kept-alive connection that sends nothing for this long")
    ("status", po::value<int>()->default_value(200)->value_name("N"), "answer valid requests with this status")
    ("fail-ratio", po::value<double>()->default_value(0)->value_name("X"), "this fraction of valid requests answers --fail-status")
    ("fail-status", po::value<int>()->default_value(500)->value_name("N"), "status of the failed fraction")
    ("latency", po::value<std::string>()->value_name("D|MIN:MAX"), "wait before answering: D, or MIN:MAX (uniform), e.g. 50ms:2s")
    ("close-ratio", po::value<double>()->default_value(0)->value_name("X"), "this fraction of requests gets its connection dropped")
    ("seed", po::value<std::string>()->default_value("1")->value_name("N"), "seed of the fault draws")
    ("threads", po::value<int>()->default_value(1)->value_name("N"), "server threads")
    ("duration", po::value<std::string>()->value_name("D"), "stop by itself after this long (default: at Ctrl-C or SIGTERM)")
    ("summary-json", po::value<std::string>()->value_name("F"), "write the counts here at exit")
    ("quiet,q", "no live line");
  // clang-format on
  po::variables_map vm;
  receiver_config rc;
  millis run_for = 0;
  try {
    // Positional arguments are taken only to be refused by name: program_options would
    // drop them silently, and `gmsim receive 9000` would listen on 8080.
    po::options_description all;
    all.add(opts).add_options()("unexpected", po::value<std::vector<std::string>>());
    po::positional_options_description positional;
    positional.add("unexpected", -1);
    po::store(po::command_line_parser(a).options(all).positional(positional).run(), vm);
    po::notify(vm);
    if (vm.count("help")) {
      std::cout
          << "Usage: gmsim receive [options]\n\n"
             "A webhook receiver that validates every body against the GMetri contract, checks\n"
             "Authorization and pacing, injects faults, and counts what it saw (GET /stats).\n"
             "Stops on Ctrl-C or SIGTERM (exit 0) after writing --summary-json.\n\n"
          << opts;
      return exit_ok;
    }
    if (vm.count("unexpected")) {
      throw usage_error("unexpected argument '" +
                        vm["unexpected"].as<std::vector<std::string>>().front() +
                        "' (the address goes in --listen ADDR:PORT)");
    }
    rc.listen = vm["listen"].as<std::string>();
    rc.auth_string = auth_string_option(vm);
    auto duration_of = [](const std::string& name, const std::string& text) {
      try {
        return parse_duration(text);
      } catch (const std::invalid_argument& e) {
        throw usage_error("--" + name + ": " + e.what());
      }
    };
    rc.min_gap = duration_of("min-gap", vm["min-gap"].as<std::string>());
    rc.gap_tolerance = duration_of("gap-tolerance", vm["gap-tolerance"].as<std::string>());
    rc.max_body = parse_unsigned_option("max-body", vm["max-body"].as<std::string>());
    if (rc.max_body < 1) throw usage_error("--max-body: must be at least 1 byte");
    rc.max_header = parse_unsigned_option("max-header", vm["max-header"].as<std::string>());
    if (rc.max_header < 1) throw usage_error("--max-header: must be at least 1 byte");
    const auto connections =
        parse_unsigned_option("max-connections", vm["max-connections"].as<std::string>());
    if (connections < 1 || connections > 1'000'000)
      throw usage_error("--max-connections: must be in 1..1000000");
    rc.max_connections = static_cast<int>(connections);
    for (auto [name, field] : {std::pair{"request-timeout", &rc.request_timeout},
                               std::pair{"idle-timeout", &rc.idle_timeout}}) {
      *field = duration_of(name, vm[name].as<std::string>());
      if (*field < 1) throw usage_error(std::string("--") + name + ": must be more than 0");
    }
    rc.status = vm["status"].as<int>();
    rc.fail_ratio = vm["fail-ratio"].as<double>();
    rc.fail_status = vm["fail-status"].as<int>();
    rc.close_ratio = vm["close-ratio"].as<double>();
    rc.seed = parse_unsigned_option("seed", vm["seed"].as<std::string>());
    rc.threads = vm["threads"].as<int>();
    for (auto [name, status] :
         {std::pair{"status", rc.status}, std::pair{"fail-status", rc.fail_status}}) {
      if (status < 100 || status > 599) {
        throw usage_error(std::string("--") + name + ": must be in 100..599, got " +
                          std::to_string(status));
      }
    }
    for (auto [name, ratio] :
         {std::pair{"fail-ratio", rc.fail_ratio}, std::pair{"close-ratio", rc.close_ratio}}) {
      if (!(ratio >= 0 && ratio <= 1)) {
        std::ostringstream got;
        got << ratio;
        throw usage_error(std::string("--") + name + ": must be in [0, 1], got " + got.str());
      }
    }
    if (rc.threads < 1 || rc.threads > 64) throw usage_error("--threads: must be in 1..64");
    if (vm.count("latency")) {
      auto text = vm["latency"].as<std::string>();
      auto colon = text.find(':');
      rc.latency_min = duration_of("latency", text.substr(0, colon));
      rc.latency_max = colon == std::string::npos ? rc.latency_min
                                                  : duration_of("latency", text.substr(colon + 1));
      if (rc.latency_max < rc.latency_min)
        throw usage_error("--latency: MAX is below MIN in '" + text + "'");
    }
    if (vm.count("duration")) {
      run_for = duration_of("duration", vm["duration"].as<std::string>());
      // 0 would read as "forever", which is what leaving it out says.
      if (run_for < 1) throw usage_error("--duration: must be more than 0");
    }
    if (vm.count("summary-json"))
      check_writable("summary-json", vm["summary-json"].as<std::string>());
  } catch (const po::error& e) {
    print_error("receive", option_error(e, opts, "receive").what());
    return exit_usage;
  } catch (const usage_error& e) {
    print_error("receive", e.what());
    return exit_usage;
  }

  // Signals are taken synchronously by this thread; the server's threads never see them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  receiver server(rc);
  try {
    server.start();
  } catch (const std::invalid_argument& e) {
    print_error("receive", std::string("--listen: ") + e.what());
    return exit_usage;
  } catch (const std::runtime_error& e) {
    print_error("receive", e.what());
    return exit_failure;
  }
  auto host = rc.listen.substr(0, rc.listen.rfind(':'));
  std::fprintf(
      stderr, "gmsim receive: listening on http://%s:%u/ (GET /stats for counts; Ctrl-C to stop)\n",
      host.c_str(), static_cast<unsigned>(server.port()));
  const bool tty = isatty(fileno(stderr)) != 0;
  const bool quiet = vm.count("quiet") != 0;
  auto began = std::chrono::steady_clock::now();
  auto last_line = began;
  for (;;) {
    timespec wait{1, 0};
    if (sigtimedwait(&stop_signals, nullptr, &wait) > 0) break;
    auto now = std::chrono::steady_clock::now();
    if (run_for > 0 && now - began >= std::chrono::milliseconds(run_for)) break;
    if (quiet) continue;
    auto c = server.counts();
    char line[256];
    std::snprintf(line, sizeof line,
                  "requests %lld  rows %lld  invalid %lld  unauthorized %lld  too large %lld  gap "
                  "violations %lld",
                  static_cast<long long>(c.requests), static_cast<long long>(c.rows_accepted),
                  static_cast<long long>(c.invalid), static_cast<long long>(c.unauthorized),
                  static_cast<long long>(c.too_large), static_cast<long long>(c.gap_violations));
    if (tty) {
      std::fprintf(stderr, "\r\033[K%s", line);
    } else if (now - last_line >= std::chrono::seconds(10)) {
      last_line = now;
      std::fprintf(stderr, "%s\n", line);
    }
  }
  server.stop();
  if (tty && !quiet) std::fputs("\r\033[K", stderr);
  auto counts = server.counts_json();
  std::fprintf(stderr, "gmsim receive: stopped; %s\n", counts.dump().c_str());
  if (vm.count("summary-json"))
    write_file(vm["summary-json"].as<std::string>(), counts.dump(2) + "\n");
  return exit_ok;
}

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
    void send(std::uint32_t stream, std::uint32_t slot, std::string_view b) override {
      if (body.empty() && model->streams()[e->global_stream(stream)].type == wanted) body = b;
      e->complete(stream, slot,
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
        std::printf("%s: %s: %s\n", where.c_str(), f.path.empty() ? "(body)" : f.path.c_str(),
                    f.reason.c_str());
      }
      faults += static_cast<int>(found.size());
    };
    bool recording = text.rfind("{\"gmsim_record\"", 0) == 0;
    if (!recording) {
      int before = faults;
      report(path, validate_body(text));
      if (faults == before) std::printf("%s: valid\n", path.c_str());
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
      auto doc = nlohmann::json::parse(line, nullptr, false);
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
    if (faults == faults_before) std::printf("%s: %d bodies, all valid\n", path.c_str(), bodies);
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
