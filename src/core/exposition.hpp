// The Prometheus text exposition format (version 0.0.4), written a family at a time: the
// run's metrics (report/metrics) and `gmsim receive`'s (GET /metrics) share it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace gmsim {

// The format's content type, for an HTTP answer or a push.
inline constexpr const char* exposition_content_type = "text/plain; version=0.0.4; charset=utf-8";

class exposition {
 public:
  // "# HELP name help" and "# TYPE name type" (counter, gauge, histogram).
  void family(std::string_view name, std::string_view type, std::string_view help);
  // "name{labels} value"; labels already joined (label() each, comma-separated), "" for none.
  void sample(std::string_view name, std::string_view labels, std::int64_t value);
  void sample(std::string_view name, std::string_view labels, double value);
  // A family of one unlabelled sample.
  void counter(std::string_view name, std::string_view help, std::int64_t value);
  void gauge(std::string_view name, std::string_view help, std::int64_t value);

  std::string take() { return std::move(text_); }

 private:
  void line(std::string_view name, std::string_view labels, const char* number);
  std::string text_;
};

// A label value escaped as the format asks: backslash, double quote and line feed.
std::string prometheus_label_value(std::string_view text);
// name="value", escaped.
std::string label(std::string_view name, std::string_view value);

}  // namespace gmsim
