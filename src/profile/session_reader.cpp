#include "profile/session_reader.hpp"

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

namespace gmsim::detail {
namespace {

using key_list = std::vector<std::string_view>;

constexpr int max_changes = 10'000;
// Integer variables are drawn as doubles then cast to int64: stay clear of its edges.
constexpr std::int64_t max_integer_bound = 9'000'000'000'000'000'000;
// The orders match the enums in profile.hpp.
constexpr std::string_view dist_names[] = {"constant", "uniform", "normal", "exponential"};
constexpr std::string_view value_type_names[] = {"int",  "float",  "bool", "string",
                                                 "enum", "object", "scene"};

// ---- distributions ----

// What the numbers of a distribution are: session lengths, or variable values.
enum class number_domain : std::uint8_t { duration, integer, real };

constexpr std::string_view all_dist_keys[] = {"dist", "value", "min", "max", "mean", "stddev"};

key_list dist_keys(distribution_kind kind) {
  switch (kind) {
    case distribution_kind::constant:
      return {"dist", "value"};
    case distribution_kind::uniform:
      return {"dist", "min", "max"};
    case distribution_kind::normal:
      return {"dist", "mean", "stddev", "min", "max"};
    case distribution_kind::exponential:
      return {"dist", "mean", "min", "max"};
  }
  return {};
}

distribution_kind read_dist_kind(const profile_node& node) {
  const auto dist = node.get("dist");
  return dist ? static_cast<distribution_kind>(dist->as_choice(dist_names))
              : distribution_kind::uniform;
}

double read_amount(const profile_node& node, number_domain domain) {
  switch (domain) {
    case number_domain::duration:
      return static_cast<double>(node.as_duration());
    case number_domain::integer:
      return static_cast<double>(node.as_integer(-max_integer_bound, max_integer_bound));
    case number_domain::real:
      return node.as_number(-unbounded, unbounded);
  }
  return 0;
}

// A mean or a standard deviation: a duration for lengths, any number for values.
double read_moment(const profile_node& node, number_domain domain, double min) {
  return domain == number_domain::duration ? static_cast<double>(node.as_duration())
                                           : node.as_number(min, unbounded);
}

std::string format_amount(double value, number_domain domain) {
  // A duration near INT64_MAX ms rounds up to 2^63 as a double, which no millis holds.
  constexpr double past_max_millis = 0x1p63;
  if (domain != number_domain::duration) return format_number(value);
  return format_duration(value >= past_max_millis ? std::numeric_limits<millis>::max()
                                                  : static_cast<millis>(value));
}

// Reads the distribution keys of `node` (checked by the caller). Normal and exponential
// draws are clamped to [min, max]; their defaults cut only the far tails.
number_distribution read_distribution(const profile_node& node, distribution_kind kind,
                                      number_domain domain, const number_distribution& defaults) {
  number_distribution out = defaults;
  out.kind = kind;
  const auto amount = [&](std::string_view key, double fallback) {
    const auto child = node.get(key);
    return child ? read_amount(*child, domain) : fallback;
  };
  const double floor = domain == number_domain::duration ? 0 : -unbounded;
  switch (kind) {
    case distribution_kind::constant:
      out.mean = out.min = out.max = read_amount(node.required("value"), domain);
      return out;
    case distribution_kind::uniform:
      out.min = amount("min", defaults.min);
      out.max = amount("max", defaults.max);
      break;
    case distribution_kind::normal: {
      out.mean = read_moment(node.required("mean"), domain, -unbounded);
      out.stddev = read_moment(node.required("stddev"), domain, 0);
      out.min = amount("min", std::max(floor, out.mean - 5 * out.stddev));
      out.max = amount("max", out.mean + 5 * out.stddev);
      break;
    }
    case distribution_kind::exponential: {
      const profile_node mean = node.required("mean");
      out.mean = read_moment(mean, domain, 0);
      if (out.mean <= 0) mean.fail("must be more than 0, got " + mean.describe());
      out.min = amount("min", 0);
      out.max = amount("max", 10 * out.mean);
      break;
    }
  }
  if (out.min > out.max) {
    const auto max = node.get("max");
    (max ? *max : node)
        .fail("min " + format_amount(out.min, domain) + " is more than max " +
              format_amount(out.max, domain));
  }
  return out;
}

number_distribution read_session_length(const profile_node& node) {
  if (node.json().is_string() || node.json().is_number()) {
    const auto length = static_cast<double>(node.as_duration());
    return {distribution_kind::constant, length, length, length, 0};
  }
  if (!node.json().is_object()) {
    node.fail("expected a duration such as \"5m\" or an object with \"dist\", got " +
              node.describe());
  }
  const distribution_kind kind = read_dist_kind(node);
  const key_list allowed = dist_keys(kind);
  node.expect_object(allowed, all_dist_keys,
                     "dist \"" + std::string(dist_names[static_cast<int>(kind)]) + "\"");
  return read_distribution(node, kind, number_domain::duration, session_spec{}.length_ms);
}

// ---- values and variables ----

key_list type_keys(value_spec::kind type, distribution_kind dist) {
  switch (type) {
    case value_spec::kind::integer:
      return dist_keys(dist);
    case value_spec::kind::floating: {
      key_list keys = dist_keys(dist);
      keys.push_back("decimals");
      return keys;
    }
    case value_spec::kind::boolean:
      return {"p_true"};
    case value_spec::kind::string:
      return {"min_length", "max_length", "unicode"};
    case value_spec::kind::enumeration:
      return {"values", "weights"};
    case value_spec::kind::object:
      return {"fields"};
    case value_spec::kind::scene:
      return {};
  }
  return {};
}

key_list all_value_keys() {
  key_list keys(std::begin(all_dist_keys), std::end(all_dist_keys));
  for (std::string_view key : {"decimals", "p_true", "min_length", "max_length", "unicode",
                               "values", "weights", "fields"}) {
    keys.push_back(key);
  }
  return keys;
}

std::vector<double> read_weights(const profile_node& node, std::size_t count,
                                 std::string_view what) {
  node.expect_array();
  if (node.size() != count) {
    node.fail("has " + std::to_string(node.size()) + " weights for " + std::to_string(count) + " " +
              std::string(what));
  }
  std::vector<double> weights;
  double total = 0;
  for (std::size_t i = 0; i < node.size(); ++i) {
    weights.push_back(node[i].as_number(0, unbounded));
    total += weights.back();
  }
  if (total <= 0) node.fail("weights must not all be 0");
  return weights;
}

value_spec read_value(const profile_node& node, const key_list& extra_keys);

void read_string_lengths(const profile_node& node, value_spec& spec) {
  const auto min_length = node.get("min_length");
  const auto max_length = node.get("max_length");
  if (min_length) spec.min_length = static_cast<int>(min_length->as_integer(0, 1'000'000));
  if (max_length) spec.max_length = static_cast<int>(max_length->as_integer(0, 1'000'000));
  if (spec.min_length > spec.max_length) {
    const std::string reason = "min_length " + std::to_string(spec.min_length) +
                               (min_length ? "" : " (the default)") + " is more than max_length " +
                               std::to_string(spec.max_length);
    (max_length ? *max_length : *min_length).fail(reason);
  }
}

void read_enum_values(const profile_node& node, value_spec& spec) {
  const profile_node values = node.required("values");
  values.expect_array();
  if (values.size() == 0) values.fail("must list at least one value");
  for (const auto& value : values.json()) spec.values_json.push_back(value.dump());
  if (auto weights = node.get("weights")) {
    spec.weights = read_weights(*weights, spec.values_json.size(), "values");
  }
}

void read_object_fields(const profile_node& node, value_spec& spec) {
  const profile_node fields = node.required("fields");
  if (!fields.json().is_object()) fields.fail("expected an object, got " + fields.describe());
  if (fields.json().empty()) fields.fail("must have at least one field");
  for (const auto& item : fields.json().items()) {
    if (item.key().empty()) fields.fail("field names must not be empty");
    spec.fields.emplace_back(item.key(), read_value(*fields.get(item.key()), {}));
  }
}

// A value spec: a variable (extra_keys: name, changes, when) or an object's field.
value_spec read_value(const profile_node& node, const key_list& extra_keys) {
  if (!node.json().is_object()) node.fail("expected an object, got " + node.describe());
  key_list known = all_value_keys();
  known.push_back("type");
  known.insert(known.end(), extra_keys.begin(), extra_keys.end());
  if (!node.get("type")) node.expect_object(known);  // a misspelt "type" is the likelier fault
  const profile_node type_node =
      node.required("type", "use int, float, bool, string, enum or object");
  value_spec spec;
  spec.type = static_cast<value_spec::kind>(type_node.as_choice(value_type_names));
  const bool numeric =
      spec.type == value_spec::kind::integer || spec.type == value_spec::kind::floating;
  const distribution_kind dist = numeric ? read_dist_kind(node) : distribution_kind::uniform;

  key_list allowed = type_keys(spec.type, dist);
  allowed.push_back("type");
  allowed.insert(allowed.end(), extra_keys.begin(), extra_keys.end());
  std::string context =
      "type \"" + std::string(value_type_names[static_cast<int>(spec.type)]) + "\"";
  if (numeric) context += " with dist \"" + std::string(dist_names[static_cast<int>(dist)]) + "\"";
  node.expect_object(allowed, known, context);

  switch (spec.type) {
    case value_spec::kind::integer:
      spec.number = read_distribution(node, dist, number_domain::integer, spec.number);
      break;
    case value_spec::kind::floating:
      spec.number = read_distribution(node, dist, number_domain::real, spec.number);
      if (auto decimals = node.get("decimals")) {
        spec.decimals = static_cast<int>(decimals->as_integer(-1, 17));
      }
      break;
    case value_spec::kind::boolean:
      if (auto p_true = node.get("p_true")) spec.p_true = p_true->as_number(0, 1);
      break;
    case value_spec::kind::string:
      read_string_lengths(node, spec);
      if (auto unicode = node.get("unicode")) spec.unicode = unicode->as_bool();
      break;
    case value_spec::kind::enumeration:
      read_enum_values(node, spec);
      break;
    case value_spec::kind::object:
      read_object_fields(node, spec);
      break;
    case value_spec::kind::scene:
      // The scene's name: a variable's, set at each scene's entry (session.scenes).
      if (std::find(extra_keys.begin(), extra_keys.end(), "name") == extra_keys.end()) {
        type_node.fail("\"scene\" is a session variable's type only (the scene entered)");
      }
      break;
  }
  return spec;
}

void read_changes(const profile_node& node, variable_spec& variable) {
  if (node.json().is_array()) {
    if (node.size() != 2) {
      node.fail("expected a count such as 3 or a range such as [1, 5], got " + node.describe());
    }
    variable.changes_min = static_cast<int>(node[0].as_integer(0, max_changes));
    variable.changes_max = static_cast<int>(node[1].as_integer(0, max_changes));
    if (variable.changes_min > variable.changes_max) {
      node.fail("min " + std::to_string(variable.changes_min) + " is more than max " +
                std::to_string(variable.changes_max));
    }
    return;
  }
  if (!node.json().is_number()) {
    node.fail("expected a count such as 3 or a range such as [1, 5], got " + node.describe());
  }
  variable.changes_min = variable.changes_max = static_cast<int>(node.as_integer(0, max_changes));
}

// A scene's index in the script, from its name: the script must be there.
int scene_of(const profile_node& node, const std::vector<scene_spec>& scenes) {
  if (scenes.empty()) node.fail("needs session.scenes, the experience script that names scenes");
  std::vector<std::string_view> names;
  for (const auto& scene : scenes) names.push_back(scene.name);
  return static_cast<int>(node.as_choice(names));
}

variable_spec read_variable(const profile_node& node, const std::vector<scene_spec>& scenes) {
  variable_spec variable;
  variable.value = read_value(node, {"name", "changes", "when", "scene"});
  if (variable.value.type == value_spec::kind::scene) {
    if (scenes.empty()) node.required("type").fail("\"scene\" needs session.scenes");
    if (node.get("changes") || node.get("when") || node.get("scene")) {
      node.fail("a \"scene\" variable is set at each scene's entry: no changes, when or scene");
    }
  }
  if (auto scene = node.get("scene")) variable.scene = scene_of(*scene, scenes);
  variable.name = node.required("name").as_nonempty_string();
  if (auto changes = node.get("changes")) read_changes(*changes, variable);
  if (auto when = node.get("when")) {
    variable.when = static_cast<change_timing>(when->as_choice({"spread", "start", "end"}));
  }
  return variable;
}

std::vector<variable_spec> default_variables() {
  variable_spec score;
  score.name = "score";
  score.changes_min = 1;
  score.changes_max = 5;
  variable_spec completed;
  completed.name = "quizCompleted";
  completed.value.type = value_spec::kind::boolean;
  completed.value.p_true = 0.6;
  completed.when = change_timing::end;
  return {score, completed};
}

// ---- rules, browsers, platforms, session ----

rule_spec read_rule(const profile_node& node, const session_spec& session,
                    const std::vector<rule_spec>& earlier) {
  if (!node.json().is_object()) node.fail("expected an object, got " + node.describe());
  node.expect_object({"cid", "name", "scenes", "probability", "repeat", "on", "if", "after"});
  rule_spec rule;
  rule.cid = node.required("cid").as_integer(std::numeric_limits<std::int64_t>::min(),
                                             std::numeric_limits<std::int64_t>::max());
  rule.name = node.required("name").as_nonempty_string();
  const profile_node scenes = node.required("scenes");
  scenes.expect_array();
  if (scenes.size() == 0) scenes.fail("must list at least one scene");
  for (std::size_t i = 0; i < scenes.size(); ++i) {
    rule.scenes.push_back(scenes[i].as_nonempty_string());
  }
  if (auto p = node.get("probability")) rule.probability = p->as_number(0, 1);
  if (auto repeat = node.get("repeat")) {
    rule.repeat_max = static_cast<int>(repeat->as_integer(1, max_changes));
  }
  // The experience script: scenes by index, the trigger and the conditions.
  if (!session.scenes.empty()) {
    for (std::size_t i = 0; i < scenes.size(); ++i) {
      rule.scene_index.push_back(scene_of(scenes[i], session.scenes));
    }
  }
  if (auto on = node.get("on")) {
    if (session.scenes.empty()) on->fail("needs session.scenes, the experience script");
    rule.on = static_cast<rule_trigger>(on->as_choice({"during", "enter"}));
  }
  if (auto condition = node.get("if")) {
    if (session.scenes.empty()) condition->fail("needs session.scenes, the experience script");
    if (!condition->json().is_object()) {
      condition->fail("expected {\"variable\", \"equals\"}, got " + condition->describe());
    }
    condition->expect_object({"variable", "equals"});
    const profile_node variable = condition->required("variable");
    std::vector<std::string_view> names;
    for (const auto& v : session.variables) names.push_back(v.name);
    if (names.empty()) variable.fail("the session has no variables");
    rule.if_variable = static_cast<int>(variable.as_choice(names));
    rule.if_equals_json = condition->required("equals").json().dump();
  }
  if (auto after = node.get("after")) {
    if (session.scenes.empty()) after->fail("needs session.scenes, the experience script");
    std::vector<std::string_view> names;
    for (const auto& r : earlier) names.push_back(r.name);
    if (names.empty()) after->fail("names a rule listed before this one: there is none");
    rule.after_rule = static_cast<int>(after->as_choice(names));
  }
  return rule;
}

// session.scenes: [{"name", "share"}] or names, in the order viewers walk them.
std::vector<scene_spec> read_scenes(const profile_node& node) {
  node.expect_array();
  std::vector<scene_spec> out;
  seen_names seen;
  double total = 0;
  for (std::size_t i = 0; i < node.size(); ++i) {
    const profile_node item = node[i];
    scene_spec scene;
    if (item.json().is_string()) {
      scene.name = item.as_nonempty_string();
    } else if (item.json().is_object()) {
      item.expect_object({"name", "share"});
      scene.name = item.required("name").as_nonempty_string();
      if (auto share = item.get("share")) scene.share = share->as_number(0, unbounded);
    } else {
      item.fail("expected a scene name or {\"name\", \"share\"}, got " + item.describe());
    }
    check_unique(item, scene.name, "scene", seen);
    total += scene.share;
    out.push_back(std::move(scene));
  }
  if (!out.empty() && total <= 0) node.fail("shares must not all be 0");
  return out;
}

std::vector<weighted_name> read_weighted_names(const profile_node& node, std::string_view what) {
  node.expect_array();
  std::vector<weighted_name> out;
  seen_names seen;
  double total = 0;
  for (std::size_t i = 0; i < node.size(); ++i) {
    const profile_node item = node[i];
    weighted_name entry;
    if (item.json().is_string()) {
      entry.name = item.as_nonempty_string();
    } else if (item.json().is_object()) {
      item.expect_object({"name", "weight"});
      entry.name = item.required("name").as_nonempty_string();
      if (auto weight = item.get("weight")) entry.weight = weight->as_number(0, unbounded);
    } else {
      item.fail("expected a " + std::string(what) + " name or {\"name\", \"weight\"}, got " +
                item.describe());
    }
    check_unique(item, entry.name, what, seen);
    total += entry.weight;
    out.push_back(std::move(entry));
  }
  if (!out.empty() && total <= 0) node.fail("weights must not all be 0");
  return out;
}

// session.devices: [{"platform", "browser", "weight"}], each pair once.
std::vector<device_kind> read_devices(const profile_node& node) {
  if (!node.json().is_array()) {
    node.fail(
        "expected \"table\", \"free_draw\" or a list of {\"platform\", \"browser\", "
        "\"weight\"}, got " +
        node.describe());
  }
  if (node.size() == 0) node.fail("must list at least one device");
  std::vector<device_kind> out;
  seen_names seen;
  double total = 0;
  for (std::size_t i = 0; i < node.size(); ++i) {
    const profile_node item = node[i];
    if (!item.json().is_object()) {
      item.fail("expected {\"platform\", \"browser\", \"weight\"}, got " + item.describe());
    }
    item.expect_object({"platform", "browser", "weight"});
    device_kind kind;
    kind.platform = item.required("platform").as_nonempty_string();
    kind.browser = item.required("browser").as_nonempty_string();
    if (auto weight = item.get("weight")) kind.weight = weight->as_number(0, unbounded);
    check_unique(item, kind.platform + " with " + kind.browser, "device", seen);
    total += kind.weight;
    out.push_back(std::move(kind));
  }
  if (total <= 0) node.fail("weights must not all be 0");
  return out;
}

}  // namespace

// The devices people meet an XR experience on: headsets with their own browsers, phones,
// desktops; weights are ours (docs/semantics.md), every pair exists.
std::vector<device_kind> default_devices() {
  return {{"OCULUS_QUEST", "OCULUS_BROWSER", 3},
          {"PICO", "PICO_BROWSER", 1},
          {"VISION_OS", "SAFARI", 1},
          {"ANDROID", "CHROME", 3},
          {"ANDROID", "SAMSUNG_INTERNET", 1},
          {"IOS", "SAFARI", 2},
          {"WINDOWS", "CHROME", 3},
          {"WINDOWS", "EDGE", 1},
          {"WINDOWS", "FIREFOX", 1},
          {"MACOS", "SAFARI", 1},
          {"MACOS", "CHROME", 1}};
}

session_spec default_session() {
  session_spec session;
  session.variables = default_variables();
  // A script: three scenes, then the quiz; a rule as each of the three is entered, a
  // quiz submitted (half the time) while in the quiz.
  session.scenes = {{"scene 1", 1}, {"scene 2", 1}, {"scene 3", 1}, {"quiz", 1}};
  session.rules = {{1, "Scene Entered", {"scene 1", "scene 2", "scene 3"}, 1.0, 3},
                   {2, "Quiz Submitted", {"quiz"}, 0.5, 1}};
  session.rules[0].scene_index = {0, 1, 2};
  session.rules[0].on = rule_trigger::enter;
  session.rules[1].scene_index = {3};
  session.browsers = {{"CHROME", 5}, {"SAFARI", 2},         {"FIREFOX", 1},
                      {"EDGE", 1},   {"OCULUS_BROWSER", 2}, {"SAMSUNG_INTERNET", 1}};
  session.platforms = {{"WINDOWS", 3},      {"MACOS", 2}, {"ANDROID", 3},  {"IOS", 2},
                       {"OCULUS_QUEST", 2}, {"PICO", 1},  {"VISION_OS", 1}};
  session.devices = default_devices();
  return session;
}

// The default rules in the session's scenes: free without a script; with the profile's
// own script, its scenes must hold theirs.
void place_default_rules(session_spec& session, const profile_node& node) {
  for (auto& rule : session.rules) {
    rule.scene_index.clear();
    if (session.scenes.empty()) {
      rule.on = rule_trigger::during;
      continue;
    }
    for (const auto& name : rule.scenes) {
      auto found = std::find_if(session.scenes.begin(), session.scenes.end(),
                                [&](const scene_spec& s) { return s.name == name; });
      if (found == session.scenes.end()) {
        node.get("scenes")->fail("the default rule \"" + rule.name + "\" fires in scene \"" + name +
                                 "\": list it, or give rules of your own");
      }
      rule.scene_index.push_back(static_cast<int>(found - session.scenes.begin()));
    }
  }
}

// Each key present replaces its default whole: an empty list means none.
session_spec read_session(const profile_node& node) {
  node.expect_object({"length", "scenes", "variables", "rules", "browsers", "platforms", "devices",
                      "send_on_end", "modified_at", "extra_fields"});
  session_spec session = default_session();
  if (auto length = node.get("length")) session.length_ms = read_session_length(*length);
  if (auto scenes = node.get("scenes")) {
    session.scenes = read_scenes(*scenes);
  } else if (node.get("variables") || node.get("rules")) {
    // Variables or rules of the profile's own and no script: drawn freely, as they were
    // written (the default script is the default rules' and variables').
    session.scenes.clear();
  }
  if (auto variables = node.get("variables")) {
    variables->expect_array();
    session.variables.clear();
    seen_names seen;
    for (std::size_t i = 0; i < variables->size(); ++i) {
      session.variables.push_back(read_variable((*variables)[i], session.scenes));
      check_unique((*variables)[i], session.variables.back().name, "variable", seen);
    }
  }
  if (auto rules = node.get("rules")) {
    rules->expect_array();
    session.rules.clear();
    for (std::size_t i = 0; i < rules->size(); ++i) {
      session.rules.push_back(read_rule((*rules)[i], session, session.rules));
    }
  } else {
    place_default_rules(session, node);
  }
  if (auto browsers = node.get("browsers")) {
    session.browsers = read_weighted_names(*browsers, "browser");
  }
  if (auto platforms = node.get("platforms")) {
    session.platforms = read_weighted_names(*platforms, "platform");
  }
  if (auto devices = node.get("devices")) {
    if (devices->json().is_string()) {
      session.devices_drawn = static_cast<device_model>(devices->as_choice(device_model_names));
    } else {
      session.devices = read_devices(*devices);
    }
  } else if (node.get("browsers") || node.get("platforms")) {
    // A profile that lists browsers or platforms asked for them to be drawn: the free
    // draw, as before the table.
    session.devices_drawn = device_model::free_draw;
  }
  if (auto send_on_end = node.get("send_on_end")) session.send_on_end = send_on_end->as_bool();
  if (auto modified = node.get("modified_at")) {
    session.modified_at =
        static_cast<session_modified>(modified->as_choice(session_modified_names));
  }
  if (auto extra = node.get("extra_fields")) {
    if (!extra->json().is_object()) extra->fail("expected an object, got " + extra->describe());
    for (const auto& item : extra->json().items()) {
      const profile_node field = *extra->get(item.key());
      if (item.key().empty()) extra->fail("field names must not be empty");
      for (const char* documented :
           {"uuid", "browser", "platform", "device_id", "created_at", "modified_at"}) {
        if (item.key() == documented) {
          field.fail("\"" + item.key() +
                     "\" is one of the six documented session fields, which gmsim writes itself");
        }
      }
      session.extra_fields.emplace_back(item.key(), read_value(field, {}));
    }
  }
  return session;
}

}  // namespace gmsim::detail
