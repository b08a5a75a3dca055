#include "core/shown_text.hpp"

#include <cstdio>
#include <new>

namespace gmsim {

std::string one_line(std::string_view message) {
  std::string out;
  out.reserve(message.size());
  for (const char c : message) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20) {
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else {
      char escape[8];
      std::snprintf(escape, sizeof escape, "\\u%04X", byte);
      out += escape;
    }
  }
  return out;
}

std::string shown_text(std::string_view text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return one_line(text);
  std::size_t cut = max_bytes;
  // Back to the start of a UTF-8 character: continuation bytes are 10xxxxxx.
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return one_line(text.substr(0, cut)) + "... (" + std::to_string(text.size()) + " bytes)";
}

std::string exception_text(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::bad_alloc&) {
    return "out of memory (std::bad_alloc)";
  } catch (const std::exception& error) {
    const std::string what = error.what();
    return what.empty() ? "an exception with no message" : what;
  } catch (...) {
    return "an exception that is not a std::exception";
  }
}

}  // namespace gmsim
