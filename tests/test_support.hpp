// Profiles and drivers shared by the engine's tests: built in code, so that the engine
// is tested apart from the profile parser.
#pragma once

#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <stdexcept>
#include <functional>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "delivery/engine.hpp"
#include "profile/profile.hpp"

namespace gmsim::testing {

// True in a build under AddressSanitizer + UndefinedBehaviorSanitizer (GMSIM_SANITIZE=address,
// the fuzz build). Their runtime needs what a few tests take away on purpose: ASan reserves
// terabytes of address space (no `ulimit -v` cap fits it) and UBSan's vptr check opens a pipe
// to probe memory (with no free descriptor it reports a valid object as invalid).
#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool built_with_address_sanitizer = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool built_with_address_sanitizer = true;
#else
inline constexpr bool built_with_address_sanitizer = false;
#endif
#else
inline constexpr bool built_with_address_sanitizer = false;
#endif

// A directory of its own for each test, removed at the end: tests
// never share a fixed name in the temporary directory (two suites run at once).
class scratch_dir {
 public:
  scratch_dir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "gmsim_test_XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~scratch_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const {
    return (std::filesystem::path(path_) / name).string();
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};


// One org, `deployments` deployments, all three types, a few variables and rules.
inline profile small_profile(int deployments = 2, millis duration = 600'000, double rate = 2.0) {
  profile p;
  p.name = "test";
  p.source = "test";
  p.seed = 42;
  p.duration = duration;
  org_spec org;
  org.slug = "acme";
  for (int i = 1; i <= deployments; ++i) {
    org.deployments.push_back(deployment_spec{"dep-" + std::to_string(i), {true, true, true}, 1.0});
  }
  p.orgs.push_back(org);
  p.viewers.count = 500;
  p.arrival.rate = rate;
  p.session.length_ms = {distribution_kind::uniform, 10'000, 120'000, 0, 0};
  variable_spec score;
  score.name = "score";
  score.value.type = value_spec::kind::integer;
  score.value.number = {distribution_kind::uniform, 0, 100, 0, 0};
  score.changes_min = 1;
  score.changes_max = 5;
  variable_spec done;
  done.name = "quizCompleted";
  done.value.type = value_spec::kind::boolean;
  done.when = change_timing::end;
  p.session.variables = {score, done};
  p.session.rules = {rule_spec{1, "Rule A", {"scene 1", "scene 2"}, 1.0, 3},
                     rule_spec{2, "Rule B", {"quiz"}, 0.5, 1}};
  p.session.browsers = {{"CHROME", 2}, {"SAFARI", 1}};
  p.session.platforms = {{"ANDROID", 1}, {"OCULUS_QUEST", 1}};
  p.session.devices_drawn = device_model::free_draw;  // the lists above, as a profile's
  return p;
}

// A sender that answers through a callback (instantly, by default with 200), and keeps
// every request it was given.
struct sent_request {
  millis at;
  std::uint32_t stream;  // global index
  std::string body;
  request_auth auth = request_auth::normal;  // an auth probe's is not
};

class recording_sender final : public request_sender {
 public:
  explicit recording_sender(const simulated_clock& time) : time_(time) {}
  void attach(engine& e) { engine_ = &e; }
  void send(std::uint32_t queue, std::uint32_t slot, std::string_view body) override {
    sent.push_back(sent_request{time_.now(), engine_->stream_of(queue, slot), std::string(body),
                                engine_->auth_of(queue, slot)});
    request_outcome outcome{outcome_kind::delivered, 200, failure_kind::none, {}};
    if (answer) outcome = answer(sent.back());
    if (hold) {
      held.push_back({queue, slot, outcome, body, sent.size() - 1, time_.real_now_us()});
      return;
    }
    engine_->complete(queue, slot, outcome, time_.real_now_us(), time_.real_now_us());
  }
  // Completes the held requests (the first `count` of them) at the clock's now; each
  // started when it was sent.
  void release_held(std::size_t count = std::numeric_limits<std::size_t>::max()) {
    count = std::min(count, held.size());
    std::vector<held_request> pending(held.begin(),
                                      held.begin() + static_cast<std::ptrdiff_t>(count));
    held.erase(held.begin(), held.begin() + static_cast<std::ptrdiff_t>(count));
    for (auto& h : pending) {
      engine_->complete(h.queue, h.slot, h.outcome, h.started_us, time_.real_now_us());
    }
  }
  // Whether every held request's body, as the engine still holds it (a transport reads
  // it until the answer), is still what was sent.
  bool held_bodies_intact() const {
    return std::all_of(held.begin(), held.end(),
                       [&](const held_request& h) { return h.body == sent[h.sent_index].body; });
  }

  std::vector<sent_request> sent;
  std::function<request_outcome(const sent_request&)> answer;
  bool hold = false;  // keep requests in flight until release_held()
  struct held_request {
    std::uint32_t queue, slot;  // the engine's local pacing queue and its slot
    request_outcome outcome;
    std::string_view body;  // the engine's buffer, not a copy
    std::size_t sent_index;
    std::int64_t started_us;  // real time of the send
  };
  std::vector<held_request> held;

 private:
  const simulated_clock& time_;
  engine* engine_ = nullptr;
};

// Runs an engine to completion on a simulated clock, as the dry run does (its end
// checked: an engine left with work throws accounting_error).
inline void run_to_end(engine& e, simulated_clock& time) { run_simulated(e, time); }

}  // namespace gmsim::testing
