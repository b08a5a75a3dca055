// The HTML report's inline style sheet and script, kept apart from the C++ that
// writes the page around them.
#pragma once

#include <string_view>

namespace gmsim {

std::string_view html_report_css();
// Draws every figure.chart from the JSON in script#summary, then marks each drawn one
// with data-rendered="true", data-series (series drawn) and data-points (points drawn).
std::string_view html_report_js();

}  // namespace gmsim
