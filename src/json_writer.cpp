#include "gmsim/json_writer.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>

namespace gmsim {
namespace {

enum byte_kind : std::uint8_t {
  plain,      // copied as is: printable ASCII but '"' and '\\' (DEL included, as nlohmann does)
  escaped,    // '"', '\\' and the control characters
  non_ascii,  // starts a multi-byte UTF-8 sequence, or is invalid on its own
};

constexpr std::array<byte_kind, 256> byte_kinds = [] {
  std::array<byte_kind, 256> kinds{};
  for (int b = 0; b < 256; ++b) {
    kinds[b] = b < 0x20 || b == '"' || b == '\\' ? escaped : b >= 0x80 ? non_ascii : plain;
  }
  return kinds;
}();

constexpr std::uint64_t ones = 0x0101010101010101;

// Marks (high bit set) the bytes of `word` that are not plain. A borrow can only mark a
// byte wrongly above one marked rightly, so the lowest mark is exact: on a little-endian
// machine, the first byte that needs work.
constexpr std::uint64_t special_bytes(std::uint64_t word) {
  constexpr std::uint64_t highs = ones * 0x80;
  const std::uint64_t quotes = word ^ (ones * '"');
  const std::uint64_t backslashes = word ^ (ones * '\\');
  return (word                    // >= 0x80
          | (word - ones * 0x20)  // < 0x20
          | ((quotes - ones) & ~quotes) | ((backslashes - ones) & ~backslashes)) &
         highs;
}

// The offset in its word of the first marked byte. Big-endian words hold the marks in the
// other order: 0 there, and the byte loop walks from the word's start.
int first_marked(std::uint64_t marks) {
  if constexpr (std::endian::native == std::endian::little) {
    return std::countr_zero(marks) / 8;
  } else {
    return 0;
  }
}

// The first byte from p that is not plain, or end: 8 bytes at a time, then the last few
// one by one (copying them into a padded word instead stalls on store forwarding).
const unsigned char* skip_plain(const unsigned char* p, const unsigned char* end) {
  for (std::uint64_t word; end - p >= 8; p += 8) {
    std::memcpy(&word, p, sizeof word);
    if (const auto marks = special_bytes(word); marks != 0) return p + first_marked(marks);
  }
  while (p < end && byte_kinds[*p] == plain) ++p;
  return p;
}

// The length of the well-formed UTF-8 sequence at p (Unicode 15, table 3-7), or 0 when the
// byte at p does not start one: overlongs, surrogates, code points past U+10FFFF, stray
// continuation bytes and sequences cut short are all 0.
std::size_t utf8_sequence_length(const unsigned char* p, std::size_t available) {
  const unsigned lead = p[0];
  std::size_t length = 0;
  unsigned low = 0x80, high = 0xbf;  // the range of the second byte
  if (lead < 0xc2) {
    return 0;
  } else if (lead < 0xe0) {
    length = 2;
  } else if (lead < 0xf0) {
    length = 3;
    if (lead == 0xe0) low = 0xa0;   // overlong below U+0800
    if (lead == 0xed) high = 0x9f;  // surrogates U+D800..U+DFFF
  } else if (lead < 0xf5) {
    length = 4;
    if (lead == 0xf0) low = 0x90;   // overlong below U+10000
    if (lead == 0xf4) high = 0x8f;  // past U+10FFFF
  } else {
    return 0;
  }
  if (available < length || p[1] < low || p[1] > high) return 0;
  for (std::size_t i = 2; i < length; ++i) {
    if ((p[i] & 0xc0) != 0x80) return 0;
  }
  return length;
}

void append_escape(std::string& out, unsigned char byte) {
  switch (byte) {
    case '"':
      out.append("\\\"", 2);
      return;
    case '\\':
      out.append("\\\\", 2);
      return;
    case '\b':
      out.append("\\b", 2);
      return;
    case '\f':
      out.append("\\f", 2);
      return;
    case '\n':
      out.append("\\n", 2);
      return;
    case '\r':
      out.append("\\r", 2);
      return;
    case '\t':
      out.append("\\t", 2);
      return;
    default: {
      constexpr char hex[] = "0123456789abcdef";
      const char text[6] = {'\\', 'u', '0', '0', hex[byte >> 4], hex[byte & 0xf]};
      out.append(text, sizeof text);
    }
  }
}

template <class integer>
void append_integer(std::string& out, integer value) {
  char text[24];  // "-9223372036854775808" and "18446744073709551615" are 20
  const auto end = std::to_chars(text, text + sizeof text, value).ptr;
  out.append(text, end - text);
}

}  // namespace

void append_escaped(std::string& out, std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* const end = p + text.size();
  const auto* run = p;  // the start of bytes not yet appended, that need no change
  while ((p = skip_plain(p, end)) < end) {
    switch (byte_kinds[*p]) {
      case plain:
        ++p;
        break;
      case non_ascii:
        if (const auto length = utf8_sequence_length(p, end - p); length > 0) {
          p += length;
        } else {
          // Raw U+FFFD rather than "\ufffd": half the bytes, and still valid UTF-8.
          out.append(reinterpret_cast<const char*>(run), p - run);
          out.append("\xef\xbf\xbd", 3);
          run = ++p;
        }
        break;
      case escaped:
        out.append(reinterpret_cast<const char*>(run), p - run);
        append_escape(out, *p);
        run = ++p;
        break;
    }
  }
  out.append(reinterpret_cast<const char*>(run), p - run);
}

void json_writer::string(std::string_view text) {
  out_.push_back('"');
  append_escaped(out_, text);
  out_.push_back('"');
}

void json_writer::integer(std::int64_t value) { append_integer(out_, value); }

void json_writer::unsigned_integer(std::uint64_t value) { append_integer(out_, value); }

void json_writer::number(double value) {
  if (!std::isfinite(value)) return null();
  char text[40];  // the longest shortest form, "-2.2250738585072014e-308", is 24
  auto* end = std::to_chars(text, text + sizeof text - 2, value).ptr;
  // Shortest form writes 1.0 as "1" (and -0.0 as "-0"): a reader would take an integer.
  if (std::find_if(text, end, [](char c) { return c == '.' || c == 'e'; }) == end) {
    *end++ = '.';
    *end++ = '0';
  }
  out_.append(text, end - text);
}

}  // namespace gmsim
