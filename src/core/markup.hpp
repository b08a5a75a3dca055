// Escaping text for markup, shared by the JUnit XML report (junit.cpp) and the HTML
// report (html_report.cpp), so that both escape the same five characters the same way.
#pragma once

#include <string>
#include <string_view>

namespace gmsim {

enum class markup { html, xml };

// Appends text escaped for element content and attribute values: & < > " ' always (the
// apostrophe as &#39; in HTML, which has no &apos; before HTML5; as &apos; in XML). XML
// also gets tab, LF and CR as character references, so that attribute values keep them
// (a parser normalises raw ones to spaces), and the other control characters, which XML
// 1.0 cannot hold even escaped, as U+FFFD. Other bytes, UTF-8 included, pass unchanged.
void append_markup_escaped(std::string& out, std::string_view text, markup kind);

}  // namespace gmsim
