#include "delivery/encoder.hpp"

#include "core/json_writer.hpp"

namespace gmsim {

encoder::encoder(const scenario& model) : model_(model) {
  for (const auto& stream : model.streams()) {
    const auto& dep = model.deployments()[stream.deployment];
    stream_prefix_.push_back(json_text([&](json_writer& w) {
      w.raw("{\"type\":");
      w.string(to_string(stream.type));
      w.raw(",\"data\":{\"orgSlug\":");
      w.string(dep.org_slug);
      w.raw(",\"depSlug\":");
      w.string(dep.dep_slug);
      w.raw(",\"rows\":[");
    }));
  }
  for (const auto& variable : model.settings().session.variables) {
    variable_key_.push_back(json_text([&](json_writer& w) { w.key(variable.name); }));
  }
  for (const auto& rule : model.settings().session.rules) {
    rule_prefix_.push_back(json_text([&](json_writer& w) {
      w.raw("{\"cid\":");
      w.integer(rule.cid);
      w.raw(",\"cname\":");
      w.string(rule.name);
      w.raw(",\"scene_name\":");
    }));
    std::vector<std::string> scenes;
    for (const auto& scene : rule.scenes) {
      scenes.push_back(json_text([&](json_writer& w) { w.string(scene); }));
    }
    if (scenes.empty()) scenes.emplace_back("\"\"");
    rule_scene_.push_back(std::move(scenes));
  }
}

void encoder::encode(const page& p, std::string& out) const {
  json_writer w(out, json_writer::overwrite);
  const stream_info& stream = model_.streams()[p.stream];
  const millis start = model_.settings().start_time;
  w.raw(stream_prefix_[p.stream]);
  bool first_row = true;
  for (const page_row& row : p.rows) {
    if (!first_row) w.put(',');
    first_row = false;
    w.raw("{\"identifier\":");
    model_.write_identifier(w, row.viewer);
    const page_item* items = p.items.data() + row.first_item;
    switch (stream.type) {
      case webhook_type::variables:
        w.raw(",\"variables\":{");
        for (std::uint32_t i = 0; i < row.item_count; ++i) {
          if (i != 0) w.put(',');
          w.raw(variable_key_[items[i].index]);
          model_.write_value(w, items[i].index, items[i].payload);
        }
        w.raw("}}");
        break;
      case webhook_type::rules:
        w.raw(",\"rules\":[");
        for (std::uint32_t i = 0; i < row.item_count; ++i) {
          if (i != 0) w.put(',');
          w.raw(rule_prefix_[items[i].index]);
          const auto& scenes = rule_scene_[items[i].index];
          w.raw(scenes[items[i].payload % scenes.size()]);
          w.raw(",\"timestamp\":");
          w.integer(start + items[i].t);
          w.put('}');
        }
        w.raw("]}");
        break;
      case webhook_type::session:
        w.raw(",\"session\":");
        model_.write_session(w, stream.deployment, row.viewer, row.session, row.created,
                             row.newest);
        w.put('}');
        break;
    }
  }
  w.raw("]}}");
}

}  // namespace gmsim
