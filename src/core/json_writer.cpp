#include "core/json_writer.hpp"

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

// The escape of a byte that is '"', '\\' or a control character; at most 6 bytes.
std::string_view escape_of(unsigned char byte, char (&text)[6]) {
  switch (byte) {
    case '"':
      return "\\\"";
    case '\\':
      return "\\\\";
    case '\b':
      return "\\b";
    case '\f':
      return "\\f";
    case '\n':
      return "\\n";
    case '\r':
      return "\\r";
    case '\t':
      return "\\t";
    default: {
      constexpr char hex[] = "0123456789abcdef";
      text[0] = '\\';
      text[1] = 'u';
      text[2] = '0';
      text[3] = '0';
      text[4] = hex[byte >> 4];
      text[5] = hex[byte & 0xf];
      return {text, sizeof text};
    }
  }
}

// The 8 decimal digits of v < 10^8, first digit in the first byte written, all lanes at
// once: v into its high and low 4 digits (32-bit lanes), each into 2 and 2 (16-bit lanes),
// each into 1 and 1 (bytes). A division is a multiplication and a shift; the quotients
// are small enough that no lane overflows into the next.
std::uint64_t decimal8(std::uint32_t v) {
  const std::uint32_t high = v / 10000;
  std::uint64_t x = high | std::uint64_t{v - high * 10000} << 32;
  const std::uint64_t hundreds = ((x * 5243) >> 19) & 0x0000007f0000007full;  // n / 100
  x = (x << 16) - hundreds * ((100 << 16) - 1);  // (n / 100) | (n % 100) << 16
  const std::uint64_t tens = ((x * 103) >> 10) & 0x000f000f000f000full;  // m / 10
  x = (x << 8) - tens * ((10 << 8) - 1);                                 // (m / 10) | (m % 10) << 8
  return x + 0x3030303030303030ull;
}

// Writes value at p (room for 20 bytes): up to 8 digits and over 16 as std::to_chars
// does; from 9 to 16 (milliseconds since 1970 have 13), the last 8 at once.
char* write_decimal(char* p, std::uint64_t value) {
  constexpr std::uint64_t e8 = 100'000'000;
  if (value < e8 || value >= e8 * e8 || std::endian::native != std::endian::little) {
    return std::to_chars(p, p + 20, value).ptr;
  }
  p = std::to_chars(p, p + 8, value / e8).ptr;
  const std::uint64_t last = decimal8(static_cast<std::uint32_t>(value % e8));
  std::memcpy(p, &last, 8);
  return p + 8;
}

}  // namespace

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

void json_writer::grow(std::size_t n) {
  const auto used = static_cast<std::size_t>(next_ - out_.data());
  // Half again what was written, and at least 64 bytes: a body of tens of kB grows in a
  // dozen steps, each zeroing its new room (std::string has no uninitialised resize).
  out_.resize(used + std::max(n, used / 2 + 64));
  next_ = out_.data() + used;
  end_ = out_.data() + out_.size();
}

void json_writer::escaped(std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* const end = p + text.size();
  const auto* run = p;  // the start of bytes not yet written, that need no change
  const auto write_run = [&] {
    raw({reinterpret_cast<const char*>(run), static_cast<std::size_t>(p - run)});
  };
  while ((p = skip_plain(p, end)) < end) {
    switch (byte_kinds[*p]) {
      case byte_kind::plain:
        ++p;
        break;
      case byte_kind::non_ascii:
        if (const auto length = utf8_sequence_length(p, end - p); length > 0) {
          p += length;
        } else {
          // Raw U+FFFD rather than "\ufffd": half the bytes, and still valid UTF-8.
          write_run();
          raw("\xef\xbf\xbd");
          run = ++p;
        }
        break;
      case byte_kind::escaped: {
        write_run();
        char text[6];
        raw(escape_of(*p, text));
        run = ++p;
        break;
      }
    }
  }
  write_run();
}

void json_writer::integer(std::int64_t value) {
  room(21);  // '-' and write_decimal's 20
  auto magnitude = static_cast<std::uint64_t>(value);
  if (value < 0) {
    *next_++ = '-';
    magnitude = 0 - magnitude;
  }
  next_ = write_decimal(next_, magnitude);
}

void json_writer::unsigned_integer(std::uint64_t value) {
  room(20);  // "18446744073709551615"
  next_ = write_decimal(next_, value);
}

void json_writer::number(double value) {
  if (!std::isfinite(value)) return null();
  // The longest shortest form, "-2.2250738585072014e-308", is 24, and ".0" may follow.
  room(40);
  char* const start = next_;
  next_ = std::to_chars(start, start + 38, value).ptr;
  // Shortest form writes 1.0 as "1" (and -0.0 as "-0"): a reader would take an integer.
  if (std::find_if(start, next_, [](char c) { return c == '.' || c == 'e'; }) == next_) {
    *next_++ = '.';
    *next_++ = '0';
  }
}

}  // namespace gmsim
