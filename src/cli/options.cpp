// Over 500 lines: the options of every command in one place, so that they read alike.
#include "cli/options.hpp"

#include <boost/program_options.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <utility>

#include "core/did_you_mean.hpp"
#include "core/duration.hpp"
#include "core/shown_text.hpp"
#include "delivery/page_spill.hpp"
#include "net/receiver.hpp"  // parse_listen_address
#include "profile/profile_reader.hpp"
#include "scenario/edge_cases.hpp"

namespace gmsim::cli {
namespace po = boost::program_options;

millis duration_option(const po::variables_map& vm, const char* name, millis minimum) {
  const auto& text = vm[name].as<std::string>();
  millis value;
  try {
    value = parse_duration(text);
  } catch (const std::invalid_argument& e) {
    throw usage_error(std::string("--") + name + ": " + e.what());
  }
  if (value < minimum) {
    throw usage_error(std::string("--") + name + ": must be at least " + format_duration(minimum) +
                      ", got " + text);
  }
  return value;
}

std::uint64_t parse_unsigned_option(const std::string& name, const std::string& text) {
  // program_options reads "-1" into an unsigned as 2^64-1: check the digits ourselves.
  std::uint64_t value = 0;
  bool ok = !text.empty() && text.size() <= 20;
  for (char c : text) ok = ok && c >= '0' && c <= '9';
  if (ok) {
    try {
      value = std::stoull(text);
    } catch (const std::out_of_range&) {
      ok = false;
    }
  }
  if (!ok)
    throw usage_error("--" + name + ": expected an integer in 0..18446744073709551615, got '" +
                      text + "'");
  return value;
}

void check_outputs(const boost::program_options::variables_map& vm,
                   std::initializer_list<const char*> options) {
  std::vector<std::pair<std::string, std::filesystem::path>> seen;
  for (const char* option : options) {
    if (!vm.count(option)) continue;
    const auto& path = vm[option].as<std::string>();
    check_writable(option, path);
    // Two outputs in one file: the later overwrites or interleaves the earlier. A device
    // (/dev/null) may take several.
    std::error_code ec;
    if (std::filesystem::is_character_file(path, ec)) continue;
    const auto canonical = std::filesystem::weakly_canonical(path, ec);
    for (const auto& [other, other_path] : seen) {
      if (!ec && canonical == other_path) {
        throw usage_error("--" + other + " and --" + option + " name the same file " + path +
                          ": give each output its own");
      }
    }
    seen.emplace_back(option, canonical);
  }
}

void check_writable(const std::string& option, const std::string& path) {
  // Found now rather than after an hour of traffic, when the report is due.
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw usage_error("--" + option + ": " + path + ": is a directory");
  }
  const bool existed = std::filesystem::exists(path, ec);
  errno = 0;
  std::ofstream probe(path, std::ios::app);
  if (!probe) {
    throw usage_error("--" + option + ": " + path + ": cannot write: " + std::strerror(errno));
  }
  probe.close();
  if (!existed) std::filesystem::remove(path, ec);
}

namespace {

shard_spec parse_shard(const std::string& text) {
  shard_spec shard;
  char slash = 0;
  std::istringstream in(text);
  if (!(in >> shard.index >> slash >> shard.count) || slash != '/' || !in.eof() ||
      shard.count < 1 || shard.index < 1 || shard.index > shard.count) {
    throw usage_error("--shard: expected I/N with 1 <= I <= N (such as 2/4), got '" + text + "'");
  }
  return shard;
}

}  // namespace

void check_readable(const std::string& option, const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw usage_error("--" + option + ": " + path + ": cannot read: Is a directory");
  }
  errno = 0;
  std::ifstream probe(path, std::ios::binary);
  if (!probe) {
    throw usage_error("--" + option + ": " + path + ": cannot read: " + std::strerror(errno));
  }
}

namespace {

// A line break would split the request (header injection); other controls are no text.
// Tab is allowed, as HTTP allows it in a field value.
bool has_control(std::string_view text) {
  for (unsigned char c : text) {
    if ((c < 0x20 && c != '\t') || c == 0x7f) return true;
  }
  return false;
}

}  // namespace

std::pair<std::string, std::string> parse_header(const std::string& text) {
  // The text is never quoted whole: after the colon comes a value that may be a secret.
  auto colon = text.find(':');
  if (colon == std::string::npos || colon == 0) {
    throw usage_error(
        "--header: expected \"Name: value\", got no name before a ':' (the text is not shown: "
        "it may hold a secret)");
  }
  std::string name = text.substr(0, colon);
  std::string value = text.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.erase(0, 1);
  for (char c : name) {
    if (c <= ' ' || c == 0x7f || c == ':') {
      throw usage_error("--header: invalid header name '" + name +
                        "': no spaces or control characters");
    }
  }
  if (has_control(value)) {
    throw usage_error("--header: the value of '" + name +
                      "' holds a line break or another control character (not shown)");
  }
  // `--header X-Api-Key: s3cret` unquoted gives "X-Api-Key:" and a stray "s3cret", which a
  // later error would quote as a profile name: refuse the empty value first.
  if (value.empty()) {
    throw usage_error("--header: '" + name + "' has no value; quote the whole \"" + name +
                      ": value\"");
  }
  return {name, value};
}

std::string auth_string_option(const po::variables_map& vm) {
  std::string text;
  std::string from = "--auth-string";
  if (vm.count("auth-string")) {
    text = vm["auth-string"].as<std::string>();
  } else if (const char* env = std::getenv("GMSIM_AUTH_STRING")) {
    text = env;
    from = "GMSIM_AUTH_STRING";
  }
  if (has_control(text)) {
    throw usage_error(from + ": holds a line break or another control character (not shown)");
  }
  return text;
}

bool may_be_auth_piece(const args& a, const std::string& word) {
  // The words after the auth string's value, up to the next option, may all be pieces of
  // it ("a b c"). The option may be abbreviated, as program_options allows ("--auth").
  constexpr std::string_view auth = "--auth-string";
  for (std::size_t i = 0; i < a.size(); ++i) {
    const std::string_view name = std::string_view(a[i]).substr(0, a[i].find('='));
    if (name.size() < 4 || !auth.starts_with(name)) continue;
    std::size_t next = i + (name.size() < a[i].size() ? 1 : 2);  // past "--auth=v" or "v"
    for (; next < a.size() && !a[next].starts_with("-"); ++next) {
      if (a[next] == word) return true;
    }
  }
  return false;
}

std::string shown_argument(const args& a, const std::string& word) {
  return may_be_auth_piece(a, word)
             ? "a word after the value of --auth-string (not shown: it may be part of it; "
               "quote a value that holds spaces)"
             : "'" + word + "'";
}

target_url target_option(const std::string& text) {
  // Boost.URL's reasons ("need more", "mismatch") help nobody when this is no URL at all.
  // The URL itself is never quoted: its query may hold a token.
  if (text.find("://") == std::string::npos) {
    throw usage_error("--target: not a URL; expected http://host[:port]/path or https://...");
  }
  try {
    return parse_target(text);
  } catch (const std::invalid_argument& e) {
    throw usage_error(std::string("--target: ") + e.what());
  }
}

usage_error option_error(const po::error& e, const po::options_description& known,
                         const std::string& command) {
  const auto* unknown = dynamic_cast<const po::unknown_option*>(&e);
  if (unknown == nullptr) return usage_error(e.what());
  // "--auth-strin=s3cret": the part after '=' is a value, maybe a secret.
  std::string given = unknown->get_option_name();
  given = given.substr(0, given.find('='));
  std::vector<std::string> names;
  for (const auto& option : known.options()) {
    if (!option->long_name().empty()) names.push_back("--" + option->long_name());
  }
  const std::vector<std::string_view> views(names.begin(), names.end());
  const std::string_view near = detail::nearest_name(given, views);
  return usage_error("unknown option '" + given + "'; " +
                     (near.empty() ? "see gmsim " + command + " --help"
                                   : "did you mean '" + std::string(near) + "'?"));
}

void add_transport_options(po::options_description& opts, const char* target_help,
                           const char* timeout_help) {
  // clang-format off
  opts.add_options()
    ("target", po::value<std::string>()->value_name("URL"), target_help)
    ("auth-string", po::value<std::string>()->value_name("S"), "sent as \"Authorization: Basic S\" (or GMSIM_AUTH_STRING); never printed")
    ("no-auth", "send no Authorization header, on purpose (GMetri always sends one: without this, a target with no auth string is refused)")
    ("header", po::value<std::vector<std::string>>()->composing()->value_name("\"K: V\""), "extra header \"Name: value\", repeatable")
    ("timeout", po::value<std::string>()->value_name("D"), timeout_help)
    ("connect-timeout", po::value<std::string>()->value_name("D"), "for resolving the name, the TCP connect and the TLS handshake, together (default 10s)")
    ("insecure", "do not verify the target's TLS certificate")
    ("show-url", "show the target URL in the reports as given (default: its query, and path segments that look like a token, are [redacted])")
    ("ca-file", po::value<std::string>()->value_name("F"), "verify TLS against this PEM bundle")
    ("stop-grace", po::value<std::string>()->value_name("D"), "after the first SIGINT or SIGTERM, how long requests in flight may finish before they are cut (default 5s; a container stop kills 10 s after SIGTERM)");
  // clang-format on
}

void check_auth_given(const po::variables_map& vm, const transport_config& t) {
  if (vm.count("no-auth") || !t.auth_string.empty()) return;
  const char* env = std::getenv("GMSIM_AUTH_STRING");
  const std::string why = vm.count("auth-string") ? "--auth-string is empty"
                          : env != nullptr        ? "GMSIM_AUTH_STRING is set but empty"
                                           : "neither --auth-string nor GMSIM_AUTH_STRING is set";
  throw usage_error("no auth string: " + why +
                    "; GMetri always sends one, so a receiver that checks it would refuse every "
                    "request. Give it, or --no-auth to send none on purpose");
}

void read_transport_options(const po::variables_map& vm, transport_config& t) {
  // The secrets first, before anything that could quote a stray argument: see
  // parse_header.
  t.auth_string = auth_string_option(vm);
  if (vm.count("no-auth")) {
    if (vm.count("auth-string"))
      throw usage_error("--no-auth: --auth-string is given too; drop one");
    t.auth_string.clear();  // GMSIM_AUTH_STRING too: --no-auth says it on purpose
  }
  if (vm.count("header")) {
    for (const auto& h : vm["header"].as<std::vector<std::string>>())
      t.headers.push_back(parse_header(h));
  }
  if (vm.count("target")) t.target = target_option(vm["target"].as<std::string>());
  if (vm.count("timeout")) t.request_timeout = duration_option(vm, "timeout", 1);
  if (vm.count("connect-timeout")) t.connect_timeout = duration_option(vm, "connect-timeout", 1);
  t.insecure = vm.count("insecure") != 0;
  t.show_url = vm.count("show-url") != 0;
  if (vm.count("ca-file")) {
    t.ca_file = vm["ca-file"].as<std::string>();
    check_readable("ca-file", t.ca_file);
  }
}

po::variables_map parse_command_line(const args& a, const po::options_description& opts,
                                     const char* positional, const std::string& command) {
  po::options_description hidden;
  hidden.add_options()(positional, po::value<std::vector<std::string>>(), "");
  po::options_description all;
  all.add(opts).add(hidden);
  po::positional_options_description words;
  words.add(positional, -1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(a).options(all).positional(words).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    throw option_error(e, opts, command);
  }
  return vm;
}

run_options parse_run_options(const args& a) {
  po::options_description opts("Options");
  opts.add_options()("help,h", "show this help");
  add_transport_options(opts,
                        "http:// or https:// endpoint; default: the embedded receiver on 127.0.0.1",
                        "request timeout (the profile's, default 30s)");
  // clang-format off
  opts.add_options()
    ("duration", po::value<std::string>()->value_name("D"), "override the profile's duration (30s, 10m, 1h)")
    ("seed", po::value<std::string>()->value_name("N"), "override the profile's seed; random: pick one and print it")
    ("start-time", po::value<std::string>()->value_name("T"), "ISO 8601 UTC, epoch ms or now (a live run's default; a dry run's is 2026-01-01T00:00:00Z); same seed and start time give the same bytes; a live run waits for a future T")
    ("max-delay", po::value<std::string>()->value_name("D"), "flush tick period (GMetri: 60s)")
    ("batch-rows", po::value<int>()->value_name("N"), "rows per request at most (GMetri: 500)")
    ("min-gap", po::value<std::string>()->value_name("D"), "between a stream's request starts (GMetri: 200ms)")
    ("pacing-scope", po::value<std::string>()->value_name("SCOPE"), "what one pacing queue covers: webhook (default: one per org), deployment, stream, endpoint; see docs/semantics.md")
    ("in-flight", po::value<int>()->value_name("N"), "requests of one pacing queue outstanding at once (GMetri: 1)")
    ("loop", po::value<std::string>()->value_name("open|closed"), "what paces a live run: open (default: the profile's arrivals, as GMetri) or closed (the receiver: a free request slot gets a fresh full page at once; stress's)")
    ("max-queued-rows", po::value<long long>()->value_name("N"), "gmsim's queue bound: rows its queues hold at once, in memory and on disk (default 20000000); past it the oldest pages are dropped, counted and in the ledger")
    ("queue-memory-rows", po::value<long long>()->value_name("N"), "queued rows kept in memory (default 1000000); past it new pages wait on disk (--spill-dir) until their turn")
    ("spill-dir", po::value<std::string>()->value_name("DIR"), "where queued pages past --queue-memory-rows wait (default: $TMPDIR, else /tmp); unnamed files, gone when the run ends")
    ("align-ticks", "flush every stream at the same ticks instead of seeded phases")
    ("time-scale", po::value<double>()->value_name("X"), "run X times faster than real time (default 1; a dry run has no clock to scale)")
    ("drain-timeout", po::value<std::string>()->value_name("D"), "after the last flush, how long queued pages may still go out (real time; default 2m); then they are unsent")
    ("final-flush", po::value<std::string>()->value_name("WHEN"), "own_tick (default: each stream at its own next tick after the duration, as GMetri) or at_duration (all at the end at once: ends on time)")
    ("dry-run", "no network: simulated clock, as fast as the machine goes")
    ("compare", po::value<std::string>()->value_name("SETTING"), "with --dry-run: run once per value of SETTING and print the results side by side (pacing_scope)")
    ("workers", po::value<int>()->value_name("N"), "worker threads (default: the machine's cores)")
    ("max-memory", po::value<std::string>()->value_name("SIZE"), "a run whose memory estimate is more is refused before it starts (exit 2): 512MiB, 8GiB; default: what the machine has available (MemAvailable, the cgroup's limit, ulimit -v); off: no check")
    ("shard", po::value<std::string>()->value_name("I/N"), "run the I-th of N disjoint parts (I/N)")
    ("record", po::value<std::string>()->value_name("F"), "write every request (NDJSON) here, for replay")
    ("lost-rows", po::value<std::string>()->value_name("F"), "write every row not delivered (NDJSON) here")
    ("auth-probes", po::value<std::string>()->value_name("HOW"), "fail (default: an accepted auth probe fails the run, exit 99) or report (only say it)")
    ("edge-case", po::value<std::vector<std::string>>()->composing()->value_name("NAME[:N]"), "inject an edge case (or all), repeatable; see gmsim edge-cases")
    ("quiet,q", "no live progress");
  // clang-format on
  add_report_options(opts, true);
  add_metrics_options(opts);
  const po::variables_map vm = parse_command_line(a, opts, "profile", "run");
  run_options out;
  if (vm.count("help")) {
    std::ostringstream text;
    text
        << "Usage: gmsim run [PROFILE] [options]\n\n"
           "Generates GMetri webhook traffic from PROFILE (a built-in name, see `gmsim profiles`,\n"
           "or a file; default quickstart), batched and paced as GMetri does, and sends it.\n\n"
        << opts
        << "\nExit codes: 0 done, 1 gmsim failed, 2 bad usage or input, 99 a threshold failed,\n"
           "130 stopped by SIGINT, 143 by SIGTERM (reports written). Threshold metrics:\n"
           "docs/reports.md.\n";
    out.help = true;
    out.help_text = text.str();
    return out;
  }
  // Before anything that could quote a stray argument: see parse_header.
  transport_config& t = out.config.transport;
  read_transport_options(vm, t);
  if (vm.count("profile")) {
    const auto& names = vm["profile"].as<std::vector<std::string>>();
    if (names.size() > 1) {
      throw usage_error("one profile at most, got " + shown_argument(a, names[1]) + " too");
    }
    out.profile_name = names.front();
  }
  run_config& c = out.config;
  try {
    c.settings = load_profile(out.profile_name);
  } catch (const profile_error&) {
    // The error quotes the name: not when it may be a piece of the auth string.
    if (may_be_auth_piece(a, out.profile_name)) {
      throw usage_error("no profile: " + shown_argument(a, out.profile_name));
    }
    throw;
  }
  profile& p = c.settings;
  if (vm.count("duration")) {
    p.duration = duration_option(vm, "duration", 1);
    if (p.duration > max_run_duration) {
      throw usage_error("--duration: at most 30 days (720h), got " +
                        vm["duration"].as<std::string>());
    }
  }
  if (vm.count("seed")) {
    const auto& text = vm["seed"].as<std::string>();
    if (text == "random") {
      p.seed = std::random_device{}() | (std::uint64_t{std::random_device{}()} << 32);
      out.seed_picked = true;
    } else {
      p.seed = parse_unsigned_option("seed", text);
    }
  }
  if (vm.count("start-time")) {
    const auto& text = vm["start-time"].as<std::string>();
    try {
      p.start_time = text == "now" ? wall_clock_ms() : parse_start_time(text);
      p.start_time_fixed = text != "now";
      out.start_time_given = text != "now";
    } catch (const std::invalid_argument& e) {
      throw usage_error(std::string("--start-time: ") + e.what());
    }
  }
  if (vm.count("max-delay")) p.delivery.max_delay = duration_option(vm, "max-delay", 1);
  if (vm.count("min-gap")) p.delivery.min_gap = duration_option(vm, "min-gap", 0);
  if (vm.count("batch-rows")) {
    int rows = vm["batch-rows"].as<int>();
    if (rows < 1 || rows > max_batch_rows) {
      throw usage_error("--batch-rows: must be in 1.." + std::to_string(max_batch_rows) + ", got " +
                        std::to_string(rows));
    }
    p.delivery.batch_rows = rows;
  }
  if (vm.count("in-flight")) {
    int n = vm["in-flight"].as<int>();
    if (n < 1 || n > max_in_flight) {
      throw usage_error("--in-flight: must be in 1.." + std::to_string(max_in_flight) + ", got " +
                        std::to_string(n));
    }
    p.delivery.in_flight = n;
  }
  // The queue bounds: counts of rows, 1..max_queued_rows_limit.
  for (auto [option, field] : {std::pair{"max-queued-rows", &delivery_spec::max_queued_rows},
                               std::pair{"queue-memory-rows", &delivery_spec::queue_memory_rows}}) {
    if (!vm.count(option)) continue;
    const long long rows = vm[option].as<long long>();
    if (rows < 1 || rows > max_queued_rows_limit) {
      throw usage_error(std::string("--") + option + ": must be in 1.." +
                        std::to_string(max_queued_rows_limit) + ", got " + std::to_string(rows));
    }
    p.delivery.*field = rows;
  }
  if (vm.count("align-ticks")) p.delivery.align_ticks = true;
  if (vm.count("loop")) {
    const auto& name = vm["loop"].as<std::string>();
    if (name != "open" && name != "closed") {
      throw usage_error("--loop: must be open or closed, got " + shown_argument(a, name));
    }
    p.delivery.loop = name == "open" ? load_loop::open : load_loop::closed;
  }
  if (vm.count("final-flush")) {
    const auto& name = vm["final-flush"].as<std::string>();
    if (!parse_final_flush(name, p.delivery.last_flush)) {
      throw usage_error("--final-flush: must be own_tick or at_duration, got " +
                        shown_argument(a, name));
    }
  }
  if (vm.count("pacing-scope")) {
    const auto& name = vm["pacing-scope"].as<std::string>();
    if (!parse_pacing_scope(name, p.delivery.scope)) {
      throw usage_error("--pacing-scope: must be webhook, deployment, stream or endpoint, got " +
                        shown_argument(a, name));
    }
  }
  if (vm.count("time-scale")) {
    double x = vm["time-scale"].as<double>();
    // Below 0.001 a wake-up's time overflowed and the workers spun (1e-300: both cores).
    if (!(x >= 1e-3) || x > 1e6) {
      throw usage_error("--time-scale: must be a number in [0.001, 1e6]");
    }
    c.time_scale = x;
  }
  if (vm.count("drain-timeout")) c.drain_timeout = duration_option(vm, "drain-timeout", 0);
  if (vm.count("stop-grace")) c.stop_grace = duration_option(vm, "stop-grace", 0);
  c.dry_run = vm.count("dry-run") != 0;
  // A live run's traffic happens now unless a start time was fixed: a second run against
  // a persistent store then carries new timestamps and session uuids.
  if (!c.dry_run && !vm.count("start-time") && !p.start_time_fixed) p.start_time = wall_clock_ms();
  if (vm.count("workers")) {
    int n = vm["workers"].as<int>();
    if (n < 1 || n > 256)
      throw usage_error("--workers: must be in 1..256, got " + std::to_string(n));
    c.workers = n;
  }
  if (vm.count("max-memory")) {
    const std::string text = vm["max-memory"].as<std::string>();
    if (text == "off") {
      out.memory_check = false;
    } else {
      out.max_memory = parse_size("max-memory", text);
    }
  }
  if (vm.count("shard")) c.shard = parse_shard(vm["shard"].as<std::string>());
  if (vm.count("edge-case")) {
    for (const auto& text : vm["edge-case"].as<std::vector<std::string>>()) {
      edge_case_selection selection{text, 1};
      if (auto colon = text.find(':'); colon != std::string::npos) {
        selection.name = text.substr(0, colon);
        try {
          selection.count = std::stoi(text.substr(colon + 1));
        } catch (const std::exception&) {
          selection.count = 0;
        }
        if (selection.count < 1 || selection.count > 10000) {
          throw usage_error("--edge-case: COUNT must be in 1..10000, got '" + text + "'");
        }
      }
      try {
        expand_edge_cases({selection});
      } catch (const std::invalid_argument& e) {
        throw usage_error(std::string("--edge-case: ") + e.what());
      }
      p.edge_cases.push_back(selection);
    }
  }
  if (vm.count("record")) c.record_path = vm["record"].as<std::string>();
  if (vm.count("lost-rows")) c.lost_rows_path = vm["lost-rows"].as<std::string>();
  if (vm.count("spill-dir")) {
    c.spill_dir = vm["spill-dir"].as<std::string>();
    // Named, it must work: a directory that does not is found now, not hours into a soak.
    if (const std::string error = page_spill::check_directory(c.spill_dir); !error.empty()) {
      throw usage_error("--spill-dir: " + shown_text(error));
    }
  }
  read_report_options(vm, out);
  if (vm.count("auth-probes")) {
    const auto how = vm["auth-probes"].as<std::string>();
    if (how != "fail" && how != "report") {
      throw usage_error("--auth-probes: fail or report, got " + shown_argument(a, how));
    }
    c.auth_probes_gate = how == "fail";
  }
  c.quiet = vm.count("quiet") != 0;
  if (vm.count("compare")) {
    out.compare = vm["compare"].as<std::string>();
    if (out.compare != "pacing_scope" && out.compare != "pacing-scope") {
      throw usage_error("--compare: the setting to compare must be pacing_scope, got " +
                        shown_argument(a, out.compare));
    }
    out.compare = "pacing_scope";
    if (!c.dry_run) {
      throw usage_error("--compare: needs --dry-run (a live comparison would send the traffic "
                        "once per value)");
    }
    for (const char* option : {"summary-json", "record", "lost-rows", "html", "junit", "threshold",
                               "pacing-scope", "metrics-push"}) {
      if (vm.count(option)) {
        throw usage_error(std::string("--compare: prints a table only; drop --") + option +
                          " (or run each value on its own)");
      }
    }
  }

  if (c.dry_run && vm.count("target"))
    throw usage_error("--target: --dry-run sends nothing; drop one of them");
  out.metrics = read_metrics_options(vm, c.dry_run);
  check_outputs(vm, {"summary-json", "record", "lost-rows", "html", "junit"});
  // The profile's timeout, unless --timeout overrides both.
  if (vm.count("timeout")) p.delivery.timeout = t.request_timeout;
  t.request_timeout = p.delivery.timeout;
  // The embedded receiver takes what the run sends (its auth string, or none).
  if (!c.dry_run && vm.count("target")) check_auth_given(vm, t);
  return out;
}

std::uint64_t parse_size(const std::string& option, const std::string& text) {
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  const std::string unit = text.substr(digits);
  int shift = -1;
  if (unit.empty() || unit == "B") shift = 0;
  if (unit == "KiB") shift = 10;
  if (unit == "MiB") shift = 20;
  if (unit == "GiB") shift = 30;
  if (unit == "TiB") shift = 40;
  const auto refuse = [&] {
    throw usage_error("--" + option +
                      ": a size such as 512MiB or 8GiB (units B, KiB, MiB, GiB, "
                      "TiB), got '" +
                      shown_text(text) + "'");
  };
  if (digits == 0 || digits > 15 || shift < 0) refuse();
  const std::uint64_t n = std::stoull(text.substr(0, digits));
  if (n == 0 || n > (std::uint64_t{1} << (63 - shift))) refuse();
  return n << shift;
}

void warn_if_insecure(const transport_config& t) {
  if (!t.target.tls || !t.insecure) return;
  std::fprintf(stderr,
               "gmsim: warning: --insecure: the TLS certificate of %s:%s is not verified%s; "
               "anyone on the path can read or change the requests, auth string included\n",
               t.target.host.c_str(), t.target.port.c_str(),
               t.ca_file.empty() ? "" : " (--ca-file is ignored)");
}

namespace {

bool loopback(const std::string& address) {
  return address == "::1" || address.rfind("127.", 0) == 0;
}

}  // namespace

void add_metrics_options(po::options_description& opts) {
  // clang-format off
  opts.add_options()
    ("metrics-listen", po::value<std::string>()->value_name("ADDR:PORT"), "serve the run's numbers at http://ADDR:PORT/metrics for Prometheus while it runs (127.0.0.1:9464; port 0: any, printed)")
    ("metrics-allow-remote", "let --metrics-listen take an address other than loopback (anyone who reaches it reads the run's counts and target)")
    ("metrics-push", po::value<std::string>()->value_name("URL"), "at the end, push the final numbers to this Prometheus Pushgateway (http://127.0.0.1:9091; path default /metrics/job/gmsim)")
    ("metrics-hold", po::value<std::string>()->value_name("D"), "after the run, keep serving /metrics until it is read once more, at most D (e.g. 30s): the last scrape sees the final numbers");
  // clang-format on
}

metrics_options read_metrics_options(const po::variables_map& vm, bool dry_run) {
  metrics_options out;
  out.allow_remote = vm.count("metrics-allow-remote") != 0;
  if (vm.count("metrics-listen")) {
    out.listen = vm["metrics-listen"].as<std::string>();
    listen_address where;
    try {
      where = parse_listen_address(out.listen);
    } catch (const std::invalid_argument& e) {
      throw usage_error(std::string("--metrics-listen: ") + e.what());
    }
    if (!loopback(where.address) && !out.allow_remote) {
      throw usage_error("--metrics-listen: " + where.address +
                        " is not a loopback address: anyone who reaches it reads the run's "
                        "counts and target; add --metrics-allow-remote to serve there");
    }
    if (dry_run) {
      throw usage_error(
          "--metrics-listen: a dry run ends before a scrape could see it; use "
          "--metrics-push for its final numbers");
    }
  } else if (out.allow_remote) {
    throw usage_error("--metrics-allow-remote: needs --metrics-listen");
  }
  if (vm.count("metrics-push")) {
    out.push = vm["metrics-push"].as<std::string>();
    try {
      parse_target(out.push);
    } catch (const std::invalid_argument& e) {
      // Never the URL itself (it may hold a token); and a push sends no Authorization.
      const std::string why = e.what();
      throw usage_error("--metrics-push: " + (why.find("credentials") != std::string::npos
                                                  ? std::string("credentials in the URL are not "
                                                                "allowed, and a push sends none")
                                                  : why));
    }
  }
  if (vm.count("metrics-hold")) {
    if (out.listen.empty()) throw usage_error("--metrics-hold: needs --metrics-listen");
    out.hold = duration_option(vm, "metrics-hold", 0);
  }
  return out;
}

}  // namespace gmsim::cli
