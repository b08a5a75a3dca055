#include "core/markup.hpp"

namespace gmsim {

void append_markup_escaped(std::string& out, std::string_view text, markup kind) {
  const bool xml = kind == markup::xml;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += xml ? "&apos;" : "&#39;";
        break;
      case '\n':
        out += xml ? "&#10;" : "\n";
        break;
      case '\r':
        out += xml ? "&#13;" : "\r";
        break;
      case '\t':
        out += xml ? "&#9;" : "\t";
        break;
      default:
        if (xml && static_cast<unsigned char>(c) < 0x20) {
          out += "\xEF\xBF\xBD";
        } else {
          out += c;
        }
    }
  }
}

}  // namespace gmsim
