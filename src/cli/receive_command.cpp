// gmsim receive: the validating receiver as a command, until SIGINT or SIGTERM.
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
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/options.hpp"
#include "core/duration.hpp"
#include "net/receiver.hpp"
#include "report/report.hpp"  // write_file

namespace gmsim::cli {

int receive_command(const args& a) {
  namespace po = boost::program_options;
  po::options_description opts("Options");
  // clang-format off
  opts.add_options()
    ("help,h", "show this help")
    ("listen", po::value<std::string>()->default_value("127.0.0.1:8080")->value_name("ADDR:PORT"), "ADDR:PORT to listen on (port 0: any free port)")
    ("auth-string", po::value<std::string>()->value_name("S"), "require \"Authorization: Basic S\" (or GMSIM_AUTH_STRING); 401 otherwise")
    ("min-gap", po::value<std::string>()->default_value("200ms")->value_name("D"), "count a queue's requests closer than this (see --gap-scope)")
    ("gap-scope", po::value<std::string>()->default_value("webhook")->value_name("SCOPE"), "what one queue is for --min-gap: webhook (one per orgSlug), deployment, stream (orgSlug, depSlug, type) or endpoint (every request); as gmsim run's --pacing-scope")
    ("gap-tolerance", po::value<std::string>()->default_value("5ms")->value_name("D"), "arrival jitter forgiven: only gaps under min-gap minus this are counted")
    ("max-body", po::value<std::string>()->default_value("16777216")->value_name("N"), "bytes; 413 beyond")
    ("max-header", po::value<std::string>()->default_value("16384")->value_name("N"), "bytes of request line and headers; 431 beyond")
    ("max-connections", po::value<std::string>()->default_value("4096")->value_name("N"), "open connections at most; further ones are closed at once")
    ("max-body-memory", po::value<std::string>()->default_value("256MiB")->value_name("SIZE"), "request bodies held at once, all connections together (each its Content-Length, or --max-body while chunked); a request past it is answered 503")
    ("request-timeout", po::value<std::string>()->default_value("10s")->value_name("D"), "a request must arrive whole within this of its first byte (else 408 and close); also a new connection's first byte, and the client's taking of each answer")
    ("idle-timeout", po::value<std::string>()->default_value("60s")->value_name("D"), "close a kept-alive connection that sends nothing for this long")
    ("status", po::value<int>()->default_value(200)->value_name("N"), "answer valid requests with this status")
    ("fail-ratio", po::value<double>()->default_value(0)->value_name("X"), "this fraction of valid requests answers --fail-status")
    ("fail-status", po::value<int>()->default_value(500)->value_name("N"), "status of the failed fraction")
    ("latency", po::value<std::string>()->value_name("D|MIN:MAX"), "wait before answering: D, or MIN:MAX (uniform), e.g. 50ms:2s")
    ("capacity", po::value<double>()->value_name("ROWS/S"), "a known capacity: valid requests served one at a time, rows/ROWS/S seconds each; past it answers queue up (a knee for a capacity search)")
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
    if (const auto& scope = vm["gap-scope"].as<std::string>(); !parse_pacing_scope(scope, rc.gap_scope)) {
      throw usage_error("--gap-scope: must be webhook, deployment, stream or endpoint, got '" +
                        scope + "'");
    }
    rc.max_body = parse_unsigned_option("max-body", vm["max-body"].as<std::string>());
    if (rc.max_body < 1) throw usage_error("--max-body: must be at least 1 byte");
    rc.max_header = parse_unsigned_option("max-header", vm["max-header"].as<std::string>());
    if (rc.max_header < 1) throw usage_error("--max-header: must be at least 1 byte");
    const auto connections =
        parse_unsigned_option("max-connections", vm["max-connections"].as<std::string>());
    if (connections < 1 || connections > 1'000'000)
      throw usage_error("--max-connections: must be in 1..1000000");
    rc.max_connections = static_cast<int>(connections);
    rc.max_body_memory = parse_size("max-body-memory", vm["max-body-memory"].as<std::string>());
    if (rc.max_body > rc.max_body_memory) {
      throw usage_error("--max-body: " + std::to_string(rc.max_body) +
                        " bytes is more than --max-body-memory (" +
                        std::to_string(rc.max_body_memory) +
                        "): such a body could never be read; raise --max-body-memory");
    }
    for (auto [name, field] : {std::pair{"request-timeout", &rc.request_timeout},
                               std::pair{"idle-timeout", &rc.idle_timeout}}) {
      *field = duration_of(name, vm[name].as<std::string>());
      if (*field < 1) throw usage_error(std::string("--") + name + ": must be more than 0");
    }
    rc.status = vm["status"].as<int>();
    rc.fail_ratio = vm["fail-ratio"].as<double>();
    rc.fail_status = vm["fail-status"].as<int>();
    rc.close_ratio = vm["close-ratio"].as<double>();
    if (vm.count("capacity")) {
      rc.capacity_rows_per_second = vm["capacity"].as<double>();
      if (!(rc.capacity_rows_per_second > 0) || rc.capacity_rows_per_second > 1e9) {
        throw usage_error("--capacity: rows per second, in (0, 1e9]");
      }
    }
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
                  "requests %lld  rows %lld  invalid %lld  unauthorized %lld  too large %lld  busy "
                  "%lld  gap violations %lld",
                  static_cast<long long>(c.requests), static_cast<long long>(c.rows_accepted),
                  static_cast<long long>(c.invalid), static_cast<long long>(c.unauthorized),
                  static_cast<long long>(c.too_large), static_cast<long long>(c.busy),
                  static_cast<long long>(c.gap_violations));
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

}  // namespace gmsim::cli
