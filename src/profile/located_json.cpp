#include "profile/located_json.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>
#include <vector>

#include "profile/profile_error.hpp"

namespace gmsim::detail {
namespace {

// Deep enough for any profile, shallow enough that recursion cannot exhaust the stack.
constexpr int max_depth = 128;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Recursive descent over the text, keeping the line and column for messages.
class json_parser {
 public:
  json_parser(std::string_view text, located_json& out) : text_(text), out_(out) {}

  void parse() {
    if (text_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = line_start_ = 3;
    skip_space();
    out_.value = parse_value("", 0);
    skip_space();
    if (pos_ < text_.size()) {
      syntax_error("unexpected " + describe_here() + " after the end of the document");
    }
  }

 private:
  // Where a value starts. Its column is counted only for a message: counted at every
  // string, a profile on one line (2.5 MB, minified) took minutes to parse.
  struct position {
    int line;
    std::size_t line_start, at;
  };

  position here() const { return {line_, line_start_, pos_}; }

  int column(position p) const {
    // Columns count characters, not bytes: skip UTF-8 continuation bytes.
    int column = 1;
    for (std::size_t i = p.line_start; i < p.at && i < text_.size(); ++i) {
      if ((static_cast<unsigned char>(text_[i]) & 0xC0) != 0x80) ++column;
    }
    return column;
  }

  [[noreturn]] void syntax_error_at(position at, std::string_view reason) const {
    throw profile_error(one_line(out_.source + ":" + std::to_string(at.line) + ":" +
                                 std::to_string(column(at)) +
                                 ": syntax error: " + std::string(reason)));
  }
  [[noreturn]] void syntax_error(std::string_view reason) const { syntax_error_at(here(), reason); }

  std::string describe_here() const {
    if (pos_ >= text_.size()) return "end of input";
    const char c = text_[pos_];
    if (c == '\n' || c == '\r') return "end of line";
    if (c >= 0x20 && c < 0x7F) {
      // A bare word reads better whole: `foo`, `True`, `NaN`.
      std::size_t end = pos_;
      while (end < text_.size() &&
             (std::isalnum(static_cast<unsigned char>(text_[end])) || text_[end] == '_')) {
        ++end;
      }
      if (end > pos_ + 1) return "'" + std::string(text_.substr(pos_, end - pos_)) + "'";
      return "'" + std::string(1, c) + "'";
    }
    char buffer[16];
    std::snprintf(buffer, sizeof buffer, "byte 0x%02X", static_cast<unsigned char>(c));
    return buffer;
  }

  void skip_space() {
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c == '\n') {
        ++pos_;
        ++line_;
        line_start_ = pos_;
      } else if (c == ' ' || c == '\t' || c == '\r') {
        ++pos_;
      } else if (c == '/' && text_.substr(pos_, 2) == "//") {
        while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
      } else if (c == '/' && text_.substr(pos_, 2) == "/*") {
        const position start = here();
        pos_ += 2;
        while (pos_ < text_.size() && text_.substr(pos_, 2) != "*/") {
          if (text_[pos_] == '\n') {
            ++line_;
            line_start_ = pos_ + 1;
          }
          ++pos_;
        }
        if (pos_ >= text_.size()) syntax_error_at(start, "unterminated /* comment");
        pos_ += 2;
      } else if (c == '/') {
        syntax_error("unexpected '/'; comments start with // or /*");
      } else {
        return;
      }
    }
  }

  profile_json parse_value(const std::string& path, int depth) {
    if (pos_ >= text_.size()) syntax_error("unexpected end of input; expected a value");
    const char c = text_[pos_];
    if (c == '{') return parse_object(path, depth);
    if (c == '[') return parse_array(path, depth);
    if (c == '"') return parse_string();
    if (c == '-' || is_digit(c)) return parse_number();
    if (text_.substr(pos_, 4) == "true") return literal(4, true);
    if (text_.substr(pos_, 5) == "false") return literal(5, false);
    if (text_.substr(pos_, 4) == "null") return literal(4, nullptr);
    if (c == '\'') syntax_error("strings take double quotes, not single quotes");
    syntax_error("expected a value, got " + describe_here());
  }

  profile_json literal(std::size_t length, profile_json value) {
    pos_ += length;
    if (pos_ < text_.size() && std::isalnum(static_cast<unsigned char>(text_[pos_]))) {
      pos_ -= length;
      syntax_error("expected a value, got " + describe_here());
    }
    return value;
  }

  void enter(int depth) const {
    if (depth >= max_depth) {
      syntax_error("nested more than " + std::to_string(max_depth) + " levels deep");
    }
  }

  profile_json parse_object(const std::string& path, int depth) {
    enter(depth);
    const position open = here();
    ++pos_;
    profile_json object = profile_json::object();
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == '}') {
      ++pos_;
      return object;
    }
    while (true) {
      if (pos_ >= text_.size()) unclosed("object", open);
      if (text_[pos_] == '}') syntax_error("trailing comma before '}'");
      if (text_[pos_] != '"') {
        syntax_error("expected a key in double quotes, got " + describe_here());
      }
      const int key_line = line_;
      std::string key = parse_string();
      std::string child = member_path(path, key);
      if (object.contains(key)) {
        throw profile_error(one_line(out_.source + ":" + std::to_string(key_line) + ": " + child +
                                     ": duplicate key '" + key + "' (first at line " +
                                     std::to_string(out_.lines[child]) + ")"));
      }
      out_.lines[child] = key_line;
      skip_space();
      if (pos_ >= text_.size() || text_[pos_] != ':') {
        syntax_error("expected ':' after key '" + key + "', got " + describe_here());
      }
      ++pos_;
      skip_space();
      object[std::move(key)] = parse_value(child, depth + 1);
      skip_space();
      if (pos_ >= text_.size()) unclosed("object", open);
      if (text_[pos_] == '}') {
        ++pos_;
        return object;
      }
      if (text_[pos_] != ',') syntax_error("expected ',' or '}', got " + describe_here());
      ++pos_;
      skip_space();
    }
  }

  profile_json parse_array(const std::string& path, int depth) {
    enter(depth);
    const position open = here();
    ++pos_;
    profile_json array = profile_json::array();
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == ']') {
      ++pos_;
      return array;
    }
    while (true) {
      if (pos_ >= text_.size()) unclosed("array", open);
      if (text_[pos_] == ']') syntax_error("trailing comma before ']'");
      std::string child = element_path(path, array.size());
      out_.lines[child] = line_;
      array.push_back(parse_value(child, depth + 1));
      skip_space();
      if (pos_ >= text_.size()) unclosed("array", open);
      if (text_[pos_] == ']') {
        ++pos_;
        return array;
      }
      if (text_[pos_] != ',') syntax_error("expected ',' or ']', got " + describe_here());
      ++pos_;
      skip_space();
    }
  }

  [[noreturn]] void unclosed(std::string_view what, position open) const {
    syntax_error("unexpected end of input; the " + std::string(what) + " opened at line " +
                 std::to_string(open.line) + ":" + std::to_string(column(open)) + " is not closed");
  }

  profile_json parse_number() {
    const std::size_t start = pos_;
    if (text_[pos_] == '-') ++pos_;
    if (pos_ >= text_.size() || !is_digit(text_[pos_])) syntax_error("expected a digit after '-'");
    if (text_[pos_] == '0' && pos_ + 1 < text_.size() && is_digit(text_[pos_ + 1])) {
      syntax_error("numbers cannot start with 0");
    }
    while (pos_ < text_.size() && is_digit(text_[pos_])) ++pos_;
    bool integral = true;
    if (pos_ < text_.size() && text_[pos_] == '.') {
      integral = false;
      ++pos_;
      if (pos_ >= text_.size() || !is_digit(text_[pos_]))
        syntax_error("expected a digit after '.'");
      while (pos_ < text_.size() && is_digit(text_[pos_])) ++pos_;
    }
    if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      integral = false;
      ++pos_;
      if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
      if (pos_ >= text_.size() || !is_digit(text_[pos_])) {
        syntax_error("expected a digit in the exponent");
      }
      while (pos_ < text_.size() && is_digit(text_[pos_])) ++pos_;
    }
    const char* first = text_.data() + start;
    const char* last = text_.data() + pos_;
    // Integers stay exact, as nlohmann keeps them; those beyond 64 bits become doubles.
    if (integral && *first == '-') {
      std::int64_t value = 0;
      if (std::from_chars(first, last, value).ec == std::errc()) return value;
    } else if (integral) {
      std::uint64_t value = 0;
      if (std::from_chars(first, last, value).ec == std::errc()) return value;
    }
    double value = 0;
    const auto result = std::from_chars(first, last, value);
    if (result.ec != std::errc() || !std::isfinite(value)) {
      pos_ = start;
      syntax_error("number out of range");
    }
    return value;
  }

  unsigned read_hex4() {
    if (pos_ + 4 > text_.size()) syntax_error("expected four hex digits after \\u");
    unsigned value = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = text_[pos_++];
      value <<= 4;
      if (is_digit(c)) {
        value |= static_cast<unsigned>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        value |= static_cast<unsigned>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        value |= static_cast<unsigned>(c - 'A' + 10);
      } else {
        --pos_;
        syntax_error("expected four hex digits after \\u");
      }
    }
    return value;
  }

  static void append_utf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  void parse_escape(std::string& out) {
    ++pos_;  // the backslash
    if (pos_ >= text_.size()) syntax_error("unterminated string");
    const char c = text_[pos_++];
    switch (c) {
      case '"':
        out += '"';
        return;
      case '\\':
        out += '\\';
        return;
      case '/':
        out += '/';
        return;
      case 'b':
        out += '\b';
        return;
      case 'f':
        out += '\f';
        return;
      case 'n':
        out += '\n';
        return;
      case 'r':
        out += '\r';
        return;
      case 't':
        out += '\t';
        return;
      case 'u':
        break;
      default:
        --pos_;
        syntax_error("invalid escape '\\" + std::string(1, c) + "' in a string");
    }
    const std::size_t escape_start = pos_ - 2;
    unsigned cp = read_hex4();
    if (cp >= 0xDC00 && cp <= 0xDFFF) {
      pos_ = escape_start;
      syntax_error("\\u escape is an unpaired low surrogate");
    }
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      if (text_.substr(pos_, 2) != "\\u") {
        pos_ = escape_start;
        syntax_error("\\u escape is a high surrogate without its low surrogate");
      }
      pos_ += 2;
      const unsigned low = read_hex4();
      if (low < 0xDC00 || low > 0xDFFF) {
        pos_ = escape_start;
        syntax_error("\\u escape is a high surrogate without its low surrogate");
      }
      cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
    }
    append_utf8(out, cp);
  }

  // Copies one UTF-8 character, refusing overlong forms, surrogates and values past
  // U+10FFFF: nlohmann refuses to print such strings later.
  void copy_utf8(std::string& out) {
    const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text_[i]); };
    const unsigned char lead = byte(pos_);
    std::size_t length = 0;
    unsigned char low = 0x80, high = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
      length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      length = 3;
      if (lead == 0xE0) low = 0xA0;
      if (lead == 0xED) high = 0x9F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      length = 4;
      if (lead == 0xF0) low = 0x90;
      if (lead == 0xF4) high = 0x8F;
    } else {
      syntax_error("invalid UTF-8 in a string");
    }
    if (pos_ + length > text_.size()) syntax_error("invalid UTF-8 in a string");
    for (std::size_t i = 1; i < length; ++i) {
      const unsigned char c = byte(pos_ + i);
      if (c < (i == 1 ? low : 0x80) || c > (i == 1 ? high : 0xBF)) {
        syntax_error("invalid UTF-8 in a string");
      }
    }
    out.append(text_.substr(pos_, length));
    pos_ += length;
  }

  std::string parse_string() {
    const position open = here();
    ++pos_;
    std::string out;
    while (true) {
      if (pos_ >= text_.size()) syntax_error_at(open, "unterminated string");
      const auto c = static_cast<unsigned char>(text_[pos_]);
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (c == '\\') {
        parse_escape(out);
      } else if (c == '\n' || c == '\r') {
        syntax_error_at(open, "unterminated string (write a line break as \\n)");
      } else if (c < 0x20) {
        char buffer[64];
        std::snprintf(buffer, sizeof buffer,
                      "control character U+%04X in a string; write it as \\u%04X", c, c);
        syntax_error(buffer);
      } else if (c < 0x80) {
        out += static_cast<char>(c);
        ++pos_;
      } else {
        copy_utf8(out);
      }
    }
  }

  std::string_view text_;
  located_json& out_;
  std::size_t pos_ = 0;
  std::size_t line_start_ = 0;
  int line_ = 1;
};

}  // namespace

located_json parse_located_json(std::string_view text, std::string_view source) {
  located_json out;
  out.source = std::string(source);
  out.lines[""] = 1;
  json_parser(text, out).parse();
  return out;
}

std::string member_path(std::string_view parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  std::string out(parent);
  out += '.';
  out += key;
  return out;
}

std::string element_path(std::string_view parent, std::size_t index) {
  return std::string(parent) + "[" + std::to_string(index) + "]";
}

}  // namespace gmsim::detail
