#include "core/exposition.hpp"

#include <cinttypes>
#include <cstdio>

namespace gmsim {

void exposition::family(std::string_view name, std::string_view type, std::string_view help) {
  text_ += "# HELP ";
  text_ += name;
  text_ += ' ';
  text_ += help;
  text_ += "\n# TYPE ";
  text_ += name;
  text_ += ' ';
  text_ += type;
  text_ += '\n';
}

void exposition::sample(std::string_view name, std::string_view labels, std::int64_t value) {
  char number[32];
  std::snprintf(number, sizeof number, "%" PRId64, value);
  line(name, labels, number);
}

void exposition::sample(std::string_view name, std::string_view labels, double value) {
  char number[40];
  std::snprintf(number, sizeof number, "%.15g", value);
  line(name, labels, number);
}

void exposition::counter(std::string_view name, std::string_view help, std::int64_t value) {
  family(name, "counter", help);
  sample(name, "", value);
}

void exposition::gauge(std::string_view name, std::string_view help, std::int64_t value) {
  family(name, "gauge", help);
  sample(name, "", value);
}

void exposition::line(std::string_view name, std::string_view labels, const char* number) {
  text_ += name;
  if (!labels.empty()) {
    text_ += '{';
    text_ += labels;
    text_ += '}';
  }
  text_ += ' ';
  text_ += number;
  text_ += '\n';
}

std::string prometheus_label_value(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string label(std::string_view name, std::string_view value) {
  std::string out(name);
  out += "=\"";
  out += prometheus_label_value(value);
  out += '"';
  return out;
}

}  // namespace gmsim
