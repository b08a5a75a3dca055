// The fast JSON writer under the encoder: appends JSON text to a caller's buffer, with
// no allocation beyond the buffer's growth and no intermediate document.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace gmsim {

// Writes tokens; the caller writes the structure ('{', ',', ':') with put().
// Every value it writes is valid JSON:
// - strings: '"' and '\\' escaped, control characters as \b \f \n \r \t or \u00xx
//   (lowercase hex, as nlohmann writes them),
//   DEL and valid UTF-8 passed through unchanged (U+2028/U+2029 and astral characters
//   included), each byte of an invalid UTF-8 sequence (overlong, surrogate, past U+10FFFF,
//   cut short, stray continuation byte) replaced by U+FFFD, written raw (EF BF BD);
// - integers: the full int64 and uint64 range, exactly;
// - doubles: the shortest text that parses back to the same double (std::to_chars),
//   with a ".0" or exponent so it reads as a float (-0.0 as "-0.0"); NaN and infinities
//   as null.
class json_writer {
 public:
  explicit json_writer(std::string& out) : out_(out) {}

  void put(char c) { out_.push_back(c); }
  void raw(std::string_view text) { out_.append(text); }  // pre-encoded JSON
  void string(std::string_view text);
  void key(std::string_view name) {  // "name":
    string(name);
    out_.push_back(':');
  }
  void integer(std::int64_t value);
  void unsigned_integer(std::uint64_t value);
  void number(double value);
  void boolean(bool value) { out_.append(value ? "true" : "false"); }
  void null() { out_.append("null"); }

  std::string& buffer() { return out_; }

 private:
  std::string& out_;
};

// The body of a JSON string literal for text (what string() writes, without quotes).
void append_escaped(std::string& out, std::string_view text);

}  // namespace gmsim
