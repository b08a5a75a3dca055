#include "core/markup.hpp"

#include <gtest/gtest.h>

namespace gmsim {
namespace {

std::string escaped(std::string_view text, markup kind) {
  std::string out = "kept:";
  append_markup_escaped(out, text, kind);
  return out;
}

TEST(markup, html_escapes_the_five_and_keeps_whitespace_and_utf8) {
  EXPECT_EQ(escaped("<a href=\"x\">Tom's & co</a>\t\n\r\x01 é", markup::html),
            "kept:&lt;a href=&quot;x&quot;&gt;Tom&#39;s &amp; co&lt;/a&gt;\t\n\r\x01 é");
}

TEST(markup, xml_also_keeps_whitespace_in_attributes_and_replaces_what_xml_cannot_hold) {
  EXPECT_EQ(escaped("<a b='c'>&\"\t\n\r\x01\x1f é", markup::xml),
            "kept:&lt;a b=&apos;c&apos;&gt;&amp;&quot;&#9;&#10;&#13;\xEF\xBF\xBD\xEF\xBF\xBD é");
}

}  // namespace
}  // namespace gmsim
