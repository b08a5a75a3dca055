#include "profile/profile_reader.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <system_error>

#include "core/did_you_mean.hpp"
#include "core/file_io.hpp"
#include "profile/edge_case_catalogue.hpp"
#include "profile/profile_json.hpp"
#include "profile/session_reader.hpp"

namespace gmsim {

using detail::check_unique;
using detail::format_number;
using detail::profile_node;
using detail::seen_names;
using detail::unbounded;

namespace {

using key_list = std::vector<std::string_view>;

constexpr std::int64_t max_count = 100'000;

millis positive_duration(const profile_node& node) {
  const millis value = node.as_duration();
  if (value <= 0) node.fail("must be more than 0, got " + node.describe());
  return value;
}

// ---- orgs and deployments ----

std::array<bool, webhook_type_count> read_types(const profile_node& node) {
  node.expect_array();
  if (node.size() == 0) node.fail("must name at least one of variables, rules or session");
  std::array<bool, webhook_type_count> types{false, false, false};
  for (std::size_t i = 0; i < node.size(); ++i) {
    const profile_node item = node[i];
    const std::size_t type = item.as_choice(webhook_type_names);
    if (types[type]) item.fail("duplicate type " + item.describe());
    types[type] = true;
  }
  return types;
}

// The name pattern of a count form; without {n}, every name would be the same.
std::string read_pattern(const profile_node& node, std::string_view fallback, std::int64_t count) {
  const auto pattern = node.get("pattern");
  if (!pattern) return std::string(fallback);
  std::string text = pattern->as_nonempty_string();
  if (count > 1 && text.find("{n}") == std::string::npos) {
    pattern->fail("must contain {n} when count is more than 1");
  }
  return text;
}

std::string expand_pattern(std::string_view pattern, std::int64_t n) {
  std::string out;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern.substr(i, 3) == "{n}") {
      out += std::to_string(n);
      i += 2;
    } else {
      out += pattern[i];
    }
  }
  return out;
}


deployment_spec read_deployment(const profile_node& node) {
  deployment_spec deployment;
  if (node.json().is_string()) {
    deployment.slug = node.as_nonempty_string();
    return deployment;
  }
  if (!node.json().is_object()) {
    node.fail("expected a deployment slug or an object, got " + node.describe());
  }
  node.expect_object({"slug", "types", "weight"});
  deployment.slug = node.required("slug").as_nonempty_string();
  if (auto types = node.get("types")) deployment.types = read_types(*types);
  if (auto weight = node.get("weight"))
    deployment.weight = weight->as_number(0, max_deployment_weight);
  return deployment;
}

std::vector<deployment_spec> read_deployments(const profile_node& node) {
  std::vector<deployment_spec> out;
  if (node.json().is_object()) {
    node.expect_object({"count", "pattern", "types", "weight"});
    const std::int64_t count = node.required("count").as_integer(1, max_count);
    const std::string pattern = read_pattern(node, "dep-{n}", count);
    deployment_spec each;
    if (auto types = node.get("types")) each.types = read_types(*types);
    if (auto weight = node.get("weight")) each.weight = weight->as_number(0, max_deployment_weight);
    for (std::int64_t n = 1; n <= count; ++n) {
      each.slug = expand_pattern(pattern, n);
      out.push_back(each);
    }
    return out;
  }
  if (!node.json().is_array()) {
    node.fail("expected a list of deployments or {\"count\": N}, got " + node.describe());
  }
  if (node.size() == 0) node.fail("must name at least one deployment");
  seen_names seen;
  for (std::size_t i = 0; i < node.size(); ++i) {
    out.push_back(read_deployment(node[i]));
    check_unique(node[i], out.back().slug, "deployment slug", seen);
  }
  return out;
}

std::vector<deployment_spec> default_deployments() {
  deployment_spec deployment;
  deployment.slug = "gmetridemo";
  return {deployment};
}

org_spec read_org(const profile_node& node) {
  org_spec org;
  if (node.json().is_string()) {
    org.slug = node.as_nonempty_string();
    org.deployments = default_deployments();
    return org;
  }
  if (!node.json().is_object())
    node.fail("expected an org slug or an object, got " + node.describe());
  node.expect_object({"slug", "deployments"});
  org.slug = node.required("slug").as_nonempty_string();
  const auto deployments = node.get("deployments");
  org.deployments = deployments ? read_deployments(*deployments) : default_deployments();
  return org;
}

std::vector<org_spec> read_orgs(const profile_node& node) {
  std::vector<org_spec> out;
  if (node.json().is_object()) {
    node.expect_object({"count", "pattern", "deployments"});
    const std::int64_t count = node.required("count").as_integer(1, max_count);
    const std::string pattern = read_pattern(node, "org-{n}", count);
    const auto deployments = node.get("deployments");
    org_spec each;
    each.deployments = deployments ? read_deployments(*deployments) : default_deployments();
    // Before the orgs are built: 100,000 orgs of 100,000 deployments would never fit.
    const auto total = count * static_cast<std::int64_t>(each.deployments.size());
    if (total > max_deployments) {
      node.fail(std::to_string(count) + " orgs of " + std::to_string(each.deployments.size()) +
                " deployments make " + std::to_string(total) +
                " deployments; a profile has at most " + std::to_string(max_deployments));
    }
    for (std::int64_t n = 1; n <= count; ++n) {
      each.slug = expand_pattern(pattern, n);
      out.push_back(each);
    }
  } else if (node.json().is_array()) {
    if (node.size() == 0) node.fail("must name at least one org");
    seen_names seen;
    std::int64_t total = 0;
    for (std::size_t i = 0; i < node.size(); ++i) {
      out.push_back(read_org(node[i]));
      check_unique(node[i], out.back().slug, "org slug", seen);
      total += static_cast<std::int64_t>(out.back().deployments.size());
      if (total > max_deployments) {
        node[i].fail("the orgs up to this one have " + std::to_string(total) +
                     " deployments; a profile has at most " + std::to_string(max_deployments));
      }
    }
  } else {
    node.fail("expected a list of orgs or {\"count\": N}, got " + node.describe());
  }
  double total_weight = 0;
  for (const auto& org : out) {
    for (const auto& deployment : org.deployments) total_weight += deployment.weight;
  }
  if (total_weight <= 0) node.fail("deployment weights are all 0: no deployment gets sessions");
  // Each weight is at most max_deployment_weight, so the sum is finite: weights of 1e308
  // summed to infinity and every deployment got 0 sessions, silently.
  return out;
}

// ---- viewers, arrival, delivery ----

viewer_spec read_viewers(const profile_node& node) {
  node.expect_object({"count", "identifier", "domain", "pattern"});
  viewer_spec viewers;
  if (auto count = node.get("count")) {
    viewers.count = static_cast<std::uint32_t>(count->as_integer(1, 1'000'000'000));
  }
  if (auto kind = node.get("identifier")) {
    viewers.kind = static_cast<identifier_kind>(
        kind->as_choice({"email", "uuid", "phone", "anonymous", "custom"}));
  }
  if (auto domain = node.get("domain")) viewers.domain = domain->as_nonempty_string();
  if (auto pattern = node.get("pattern")) viewers.pattern = pattern->as_nonempty_string();
  return viewers;
}

// More sessions a second than one gmsim process can generate: such a profile cannot be
// met, only hang. A profile that overloads GMetri's pacing (backlog: 3,000/s on one
// deployment) is another thing, and allowed: that is what it measures.
constexpr double max_peak_rate = 1'000'000;

// The highest rate the arrival reaches, spikes included (they multiply where they overlap),
// refused above max_peak_rate. The rate is linear within a stage and spikes are steps, so
// the peak is at a stage end or a spike edge.
void check_peak_rate(const profile_node& node, const arrival_spec& arrival) {
  const auto base_at = [&](double t) {
    double start = 0;
    double from = arrival.rate;
    for (const auto& stage : arrival.stages) {
      const double end = start + static_cast<double>(stage.duration);
      if (t < end)
        return from + (stage.rate - from) * (t - start) / static_cast<double>(stage.duration);
      from = stage.rate;
      start = end;
    }
    return from;
  };
  std::vector<double> times{0};
  double stage_end = 0;
  for (const auto& stage : arrival.stages) {
    stage_end += static_cast<double>(stage.duration);
    times.push_back(stage_end - 1);
    times.push_back(stage_end);
  }
  for (const auto& spike : arrival.spikes) {
    times.push_back(static_cast<double>(spike.at));
    times.push_back(static_cast<double>(spike.at) + static_cast<double>(spike.duration) - 1);
  }
  std::sort(times.begin(), times.end());
  double peak = 0;
  double peak_at = 0;
  for (double t : times) {
    if (t < 0) continue;
    double rate = base_at(t);
    for (const auto& spike : arrival.spikes) {
      const auto at = static_cast<double>(spike.at);
      if (t >= at && t < at + static_cast<double>(spike.duration)) rate *= spike.factor;
    }
    if (std::isnan(rate)) rate = std::numeric_limits<double>::infinity();  // inf times 0
    if (rate > peak) {
      peak = rate;
      peak_at = t;
    }
  }
  if (!(peak <= max_peak_rate)) {
    node.fail("the rate reaches " + format_number(peak) + "/s at " +
              format_duration(static_cast<millis>(peak_at)) +
              " (rate, stages and spike factors together); one gmsim generates at most " +
              format_number(max_peak_rate) + " sessions/s");
  }
}

arrival_spec read_arrival(const profile_node& node) {
  node.expect_object({"process", "rate", "stages", "spikes"});
  arrival_spec arrival;
  if (auto process = node.get("process")) {
    arrival.process = static_cast<arrival_process>(process->as_choice({"constant", "poisson"}));
  }
  if (auto rate = node.get("rate")) arrival.rate = rate->as_rate();
  if (auto stages = node.get("stages")) {
    stages->expect_array();
    for (std::size_t i = 0; i < stages->size(); ++i) {
      const profile_node stage = (*stages)[i];
      stage.expect_object({"duration", "rate"});
      arrival.stages.push_back(
          {positive_duration(stage.required("duration")), stage.required("rate").as_rate()});
    }
  }
  if (auto spikes = node.get("spikes")) {
    spikes->expect_array();
    for (std::size_t i = 0; i < spikes->size(); ++i) {
      const profile_node spike = (*spikes)[i];
      spike.expect_object({"at", "duration", "factor"});
      arrival_spike out;
      out.at = spike.required("at").as_duration();
      out.duration = positive_duration(spike.required("duration"));
      if (auto factor = spike.get("factor")) out.factor = factor->as_number(0, unbounded);
      arrival.spikes.push_back(out);
    }
  }
  check_peak_rate(node, arrival);
  const bool generates =
      arrival.rate > 0 || std::any_of(arrival.stages.begin(), arrival.stages.end(),
                                      [](const arrival_stage& stage) { return stage.rate > 0; });
  if (!generates) {
    const auto rate = node.get("rate");
    (rate ? *rate : node).fail("the rate is 0 and no stage has a rate above 0: no sessions");
  }
  return arrival;
}

delivery_spec read_delivery(const profile_node& node) {
  node.expect_object({"max_delay", "batch_rows", "min_gap", "timeout", "in_flight", "align_ticks",
                      "pacing_scope", "final_flush", "variables", "success", "flush",
                      "max_queued_rows", "queue_memory_rows", "loop"});
  delivery_spec delivery;
  if (auto v = node.get("max_delay")) delivery.max_delay = positive_duration(*v);
  if (auto v = node.get("batch_rows"))
    delivery.batch_rows = static_cast<int>(v->as_integer(1, max_batch_rows));
  if (auto v = node.get("min_gap")) delivery.min_gap = v->as_duration();
  if (auto v = node.get("timeout")) delivery.timeout = positive_duration(*v);
  if (auto v = node.get("in_flight")) {
    delivery.in_flight = static_cast<int>(v->as_integer(1, max_in_flight));
  }
  if (auto v = node.get("align_ticks")) delivery.align_ticks = v->as_bool();
  if (auto v = node.get("pacing_scope")) {
    delivery.scope = static_cast<pacing_scope>(v->as_choice(pacing_scope_names));
  }
  if (auto v = node.get("variables")) {
    delivery.variables = static_cast<variables_rows>(v->as_choice(variables_rows_names));
  }
  if (auto v = node.get("success")) {
    // "200" is a string here, as the documentation writes it; a number is accepted too.
    if (v->json().is_number_integer() && v->json().get<long long>() == 200) {
      delivery.success = success_status::only_200;
    } else {
      delivery.success = static_cast<success_status>(v->as_choice(success_status_names));
    }
  }
  if (auto v = node.get("max_queued_rows")) {
    delivery.max_queued_rows = v->as_integer(1, max_queued_rows_limit);
  }
  if (auto v = node.get("queue_memory_rows")) {
    delivery.queue_memory_rows = v->as_integer(1, max_queued_rows_limit);
  }
  if (auto v = node.get("flush")) {
    delivery.flush = static_cast<flush_mode>(v->as_choice(flush_mode_names));
  }
  if (auto v = node.get("loop"))
    delivery.loop = static_cast<load_loop>(v->as_choice(load_loop_names));
  if (auto v = node.get("final_flush")) {
    delivery.last_flush = static_cast<final_flush>(v->as_choice(final_flush_names));
  }
  return delivery;
}

// ---- the document ----

// "profiles/x.json" -> "x"; "builtin:quickstart" -> "quickstart".
std::string stem_of(std::string_view source) {
  if (source.starts_with("builtin:")) source.remove_prefix(8);
  const std::size_t slash = source.rfind('/');
  if (slash != std::string_view::npos) source.remove_prefix(slash + 1);
  if (source.ends_with(".json")) source.remove_suffix(5);
  return std::string(source);
}

// "edge_cases": ["text-emoji", {"name": "batch-501", "count": 2}, "all"]
std::vector<edge_case_selection> read_edge_cases(const profile_node& node) {
  node.expect_array();
  std::vector<edge_case_selection> out;
  for (std::size_t i = 0; i < node.size(); ++i) {
    const profile_node item = node[i];
    edge_case_selection selection;
    std::optional<profile_node> name_node;
    if (item.json().is_string()) {
      name_node = item;
    } else {
      item.expect_object({"name", "count"});
      name_node = item.required("name");
      if (auto count = item.get("count"))
        selection.count = static_cast<int>(count->as_integer(1, 10000));
    }
    selection.name = name_node->as_nonempty_string();
    if (selection.name != "all" && find_edge_case(selection.name) == nullptr) {
      std::vector<std::string_view> names{"all"};
      for (const auto& c : edge_case_catalogue()) names.push_back(c.name);
      auto near = detail::nearest_name(selection.name, names);
      name_node->fail("unknown edge case '" + selection.name + "'" +
                      (near.empty() ? "; `gmsim edge-cases` lists them"
                                    : "; did you mean '" + std::string(near) + "'?"));
    }
    out.push_back(std::move(selection));
  }
  return out;
}

profile read_profile(const profile_node& root) {
  root.expect_object({"name", "description", "seed", "start_time", "duration", "delivery", "orgs",
                      "viewers", "arrival", "session", "edge_cases"});
  profile out;
  if (auto name = root.get("name")) {
    out.name = name->as_nonempty_string();
    // The name heads every report: a U+0000 cut the console summary after "profile ab".
    for (const char c : out.name) {
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
        name->fail("a control character (" + one_line(std::string(1, c)) +
                   ") in the name; it is printed in every report");
      }
    }
  }
  if (auto description = root.get("description")) {
    out.description = description->as_string();
    if (out.description.find_first_of("\r\n") != std::string::npos) {
      description->fail("must be one line");
    }
  }
  if (auto seed = root.get("seed")) out.seed = seed->as_uint64();
  if (auto start = root.get("start_time")) {
    if (start->json().is_string() || start->json().is_number()) {
      // Numbers go through parse_start_time too, so that both forms keep to its range.
      const std::string text =
          start->json().is_string()
              ? start->as_string()
              : std::to_string(start->as_integer(0, std::numeric_limits<millis>::max()));
      try {
        out.start_time = parse_start_time(text);
        out.start_time_fixed = true;
      } catch (const std::invalid_argument& e) {
        start->fail(e.what());
      }
    } else {
      start->fail("expected a time such as \"2026-01-01T00:00:00Z\" or epoch milliseconds, got " +
                  start->describe());
    }
  }
  if (auto duration = root.get("duration")) {
    out.duration = positive_duration(*duration);
    if (out.duration > max_run_duration) {
      duration->fail("at most 30 days (720h), got " + duration->describe());
    }
  }
  if (auto delivery = root.get("delivery")) out.delivery = read_delivery(*delivery);
  if (auto orgs = root.get("orgs")) {
    out.orgs = read_orgs(*orgs);
  } else {
    out.orgs = {{"gmetri", default_deployments()}};
  }
  if (auto viewers = root.get("viewers")) out.viewers = read_viewers(*viewers);
  if (auto arrival = root.get("arrival")) out.arrival = read_arrival(*arrival);
  out.session = detail::default_session();
  if (auto session = root.get("session")) out.session = detail::read_session(*session);
  if (auto edges = root.get("edge_cases")) out.edge_cases = read_edge_cases(*edges);
  return out;
}

std::string read_file(const std::string& path) {
  try {
    return read_whole_file(path, max_profile_bytes, "profile");
  } catch (const std::runtime_error& e) {
    throw profile_error(e.what());
  }
}

}  // namespace

profile parse_profile(std::string_view text, std::string_view source) {
  const detail::located_json doc = detail::parse_located_json(text, source);
  profile out = read_profile(profile_node(doc, doc.value, ""));
  out.source = std::string(source);
  if (out.name.empty()) out.name = stem_of(source);
  return out;
}

profile load_profile(std::string_view name_or_path) {
  const bool is_path =
      name_or_path.find('/') != std::string_view::npos || name_or_path.ends_with(".json");
  if (is_path) return parse_profile(read_file(std::string(name_or_path)), name_or_path);

  std::vector<std::string_view> names;
  for (const auto& builtin : embedded_profiles()) {
    if (builtin.name == name_or_path) {
      profile out = parse_profile(builtin.text, "builtin:" + std::string(builtin.name));
      out.name = std::string(builtin.name);
      return out;
    }
    names.push_back(builtin.name);
  }
  std::string message = "unknown profile '" + std::string(name_or_path) + "'; built-ins: ";
  for (std::size_t i = 0; i < names.size(); ++i) {
    message += (i > 0 ? ", " : "") + std::string(names[i]);
  }
  const std::string_view near = detail::nearest_name(name_or_path, names);
  if (!near.empty()) message += "; did you mean '" + std::string(near) + "'?";
  throw profile_error(one_line(message));
}

}  // namespace gmsim
