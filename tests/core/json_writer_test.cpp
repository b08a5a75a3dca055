#include "core/json_writer.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

namespace gmsim {
namespace {

using nlohmann::json;

template <class write>
std::string written(write&& w) {
  return json_text(w);
}

std::string string_text(std::string_view s) {
  return written([&](json_writer& w) { w.string(s); });
}

std::string number_text(double d) {
  return written([&](json_writer& w) { w.number(d); });
}

// Writes text from a buffer of exactly its size, so that a sanitizer sees any read past it.
std::string string_text_exact(std::string_view text) {
  const auto copy = std::make_unique<char[]>(text.size());
  std::copy(text.begin(), text.end(), copy.get());
  return string_text(std::string_view(copy.get(), text.size()));
}

constexpr std::string_view replacement = "\xef\xbf\xbd";

// What the writer should make of arbitrary bytes, by a different road than the writer's:
// decode a code point from the lead byte's bit pattern, then reject what Unicode forbids.
std::string sanitized(std::string_view bytes) {
  std::string out;
  for (std::size_t i = 0; i < bytes.size();) {
    const auto lead = static_cast<unsigned char>(bytes[i]);
    const int length = lead < 0x80           ? 1
                       : (lead >> 5) == 0x6  ? 2
                       : (lead >> 4) == 0xe  ? 3
                       : (lead >> 3) == 0x1e ? 4
                                             : 0;
    bool valid = length > 0 && i + length <= bytes.size();
    char32_t code = length == 1 ? lead : lead & (0x7f >> length);
    for (int k = 1; valid && k < length; ++k) {
      const auto next = static_cast<unsigned char>(bytes[i + k]);
      valid = (next & 0xc0) == 0x80;
      code = (code << 6) | (next & 0x3f);
    }
    constexpr char32_t smallest[] = {0, 0, 0x80, 0x800, 0x10000};
    valid = valid && code >= smallest[length] && code <= 0x10ffff &&
            !(code >= 0xd800 && code <= 0xdfff);
    if (valid) {
      out.append(bytes.substr(i, length));
      i += length;
    } else {
      out.append(replacement);
      ++i;
    }
  }
  return out;
}

void append_utf8(std::string& out, char32_t c) {
  if (c < 0x80) {
    out.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out.push_back(static_cast<char>(0xc0 | (c >> 6)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3f)));
  } else if (c < 0x10000) {
    out.push_back(static_cast<char>(0xe0 | (c >> 12)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3f)));
  } else {
    out.push_back(static_cast<char>(0xf0 | (c >> 18)));
    out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3f)));
  }
}

// Valid UTF-8 weighted towards what breaks writers: controls, quotes, backslashes, long
// ASCII runs (the 8-byte fast path), the ends of each encoding length, U+2028/9, astral.
std::string random_valid_utf8(std::mt19937_64& rng) {
  std::string out;
  for (auto n = rng() % 64; n > 0; --n) {
    switch (rng() % 8) {
      case 0:
        out.push_back(static_cast<char>(rng() % 0x20));
        break;
      case 1:
        out.push_back("\"\\/\x7f"[rng() % 4]);
        break;
      case 2:
        out.append(rng() % 24, static_cast<char>('a' + rng() % 26));
        break;
      case 3:
        append_utf8(out, 0x80 + rng() % (0x800 - 0x80));
        break;
      case 4: {
        char32_t c = 0x800 + rng() % (0x10000 - 0x800);
        if (c >= 0xd800 && c <= 0xdfff) c = 0x2028 + rng() % 2;
        append_utf8(out, c);
        break;
      }
      case 5:
        append_utf8(out, 0x10000 + rng() % (0x110000 - 0x10000));
        break;
      case 6: {
        constexpr char32_t edges[] = {0x7f,   0x80,   0x7ff,  0x800,   0xd7ff,  0xe000,
                                      0xfeff, 0xfffd, 0xffff, 0x10000, 0x1f600, 0x10ffff};
        append_utf8(out, edges[rng() % std::size(edges)]);
        break;
      }
      default:
        out.push_back(static_cast<char>(0x20 + rng() % 0x5f));
        break;
    }
  }
  return out;
}

std::string random_bytes(std::mt19937_64& rng) {
  std::string out(rng() % 48, '\0');
  for (auto& c : out) c = static_cast<char>(rng());
  return out;
}

// Valid text with a few bytes broken: invalid sequences next to valid ones.
std::string random_damaged_utf8(std::mt19937_64& rng) {
  std::string out = random_valid_utf8(rng);
  if (out.empty()) return out;
  for (auto n = 1 + rng() % 3; n > 0; --n) {
    constexpr unsigned char bad[] = {0x80, 0xbf, 0xc0, 0xc1, 0xc2, 0xe0,
                                     0xed, 0xf0, 0xf4, 0xf5, 0xff};
    out[rng() % out.size()] = static_cast<char>(bad[rng() % std::size(bad)]);
  }
  return out;
}

// --- exact output ---------------------------------------------------------------------

TEST(json_writer, escapes_quotes_backslashes_and_controls) {
  EXPECT_EQ(string_text(std::string_view("a\"b\\c/\b\f\n\r\t\x01\x1f\x7f\0z", 16)),
            "\"a\\\"b\\\\c/\\b\\f\\n\\r\\t\\u0001\\u001f\x7f\\u0000z\"");
}

TEST(json_writer, passes_valid_utf8_through) {
  const std::string text = "\u00e9\u2028\u2029\ufeff\U0001F600\U0010FFFF";
  EXPECT_EQ(string_text(text), "\"" + text + "\"");
}

TEST(json_writer, replaces_each_byte_of_invalid_utf8) {
  const std::string r(replacement);
  EXPECT_EQ(string_text("\xc0\xaf"), "\"" + r + r + "\"");                  // overlong '/'
  EXPECT_EQ(string_text("\xe0\x80\xaf"), "\"" + r + r + r + "\"");          // overlong, 3 bytes
  EXPECT_EQ(string_text("\xed\xa0\x80"), "\"" + r + r + r + "\"");          // surrogate U+D800
  EXPECT_EQ(string_text("\xf4\x90\x80\x80"), "\"" + r + r + r + r + "\"");  // U+110000
  EXPECT_EQ(string_text("a\xe2\x82"), "\"a" + r + r + "\"");                // cut short at the end
  EXPECT_EQ(string_text("\xe2\x82z"), "\"" + r + r + "z\"");                // cut short inside
  EXPECT_EQ(string_text("\x80x\xbf"), "\"" + r + "x" + r + "\"");           // stray continuations
  EXPECT_EQ(string_text("\xf8\xff"), "\"" + r + r + "\"");                  // never in UTF-8
}

// The word-at-a-time scan must find a byte that needs work wherever it sits in a word,
// and must not be misled by the bytes just after one (where its borrows land).
TEST(json_writer, finds_special_bytes_at_every_offset) {
  const std::string r(replacement);
  for (std::size_t at = 0; at < 40; ++at) {
    const std::string before(at, 'x'), after(40 - at, 'y');
    EXPECT_EQ(string_text(before + "\n" + after), "\"" + before + "\\n" + after + "\"");
    EXPECT_EQ(string_text(before + "\"" + after), "\"" + before + "\\\"" + after + "\"");
    EXPECT_EQ(string_text(before + "\xff" + after), "\"" + before + r + after + "\"");
    EXPECT_EQ(string_text(before + "\u00e9" + after), "\"" + before + "\u00e9" + after + "\"");
  }
  EXPECT_EQ(string_text("abcdefg\x01 \"#\\]\x1f!0123456789"),
            "\"abcdefg\\u0001 \\\"#\\\\]\\u001f!0123456789\"");
}

TEST(json_writer, escaped_writes_the_body_without_quotes_after_what_out_held) {
  std::string out = "x";
  {
    json_writer w(out);
    w.escaped("a\"\n\xff");
  }
  EXPECT_EQ(out, "xa\\\"\\n" + std::string(replacement));
}

// The writer reserves room ahead in out: what it gives back must be exactly what was
// written, however the room fell (many small tokens, one large one, reserve/commit),
// whether it is cut by flush() or by the destructor, and writing may go on after a flush.
TEST(json_writer, out_holds_exactly_what_was_written) {
  std::string expected = "[";
  std::string out;
  {
    json_writer w(out);
    w.put('[');
    for (int i = 0; i < 5000; ++i) {
      w.integer(i);
      w.put(',');
      expected += std::to_string(i) + ",";
      if (i % 1000 == 0) {
        w.flush();
        ASSERT_EQ(out, expected) << i;
      }
    }
    const std::string large(100'000, 'a');
    w.string(large);
    expected += '"' + large + '"';
    char* p = w.claim(16);
    std::memcpy(p, "12345", 5);
    w.commit(p + 5);
    expected += "12345";
  }
  EXPECT_EQ(out, expected);
  std::string empty = "kept";
  { json_writer w(empty); }
  EXPECT_EQ(empty, "kept");
}

// The engine's way with a recording's line: flush, then change the string (which may
// move it), then let the writer go: the writer must not touch it again (a touch of the
// freed string fails under ASan, which CI runs; elsewhere it may pass unnoticed).
TEST(json_writer, a_flushed_writer_leaves_the_string_to_its_owner) {
  auto line = std::make_unique<std::string>("x");
  {
    json_writer w(*line);
    w.string("a\u2028b");
    w.flush();
    line->replace(1, line->size() - 1, std::string(10'000, 'y'));  // moves its bytes
    line.reset();  // and gone, as a moved-from or freed string would be
  }
  // With the room filled exactly (the first room is 64 bytes), nothing is cut either.
  std::string out;
  const std::string text(64, 'z');
  {
    json_writer w(out);
    w.raw(text);
  }
  EXPECT_EQ(out, text);
}

// Overwriting takes what out held as room: the result is only what was written, shorter,
// longer or nothing.
TEST(json_writer, overwrite_replaces_what_out_held) {
  std::string out = "a previous line, longer than the next";
  {
    json_writer w(out, json_writer::overwrite);
    w.integer(42);
  }
  EXPECT_EQ(out, "42");
  {
    json_writer w(out, json_writer::overwrite);
    w.string(std::string(1000, 'x'));
  }
  EXPECT_EQ(out, '"' + std::string(1000, 'x') + '"');
  { json_writer w(out, json_writer::overwrite); }
  EXPECT_EQ(out, "");
}

TEST(json_writer, writes_integers_exactly) {
  EXPECT_EQ(written([](json_writer& w) { w.integer(std::numeric_limits<std::int64_t>::min()); }),
            "-9223372036854775808");
  EXPECT_EQ(written([](json_writer& w) { w.integer(0); }), "0");
  EXPECT_EQ(written([](json_writer& w) { w.unsigned_integer(~std::uint64_t{0}); }),
            "18446744073709551615");
}

TEST(json_writer, writes_doubles_as_floats) {
  EXPECT_EQ(number_text(1.0), "1.0");
  EXPECT_EQ(number_text(100.0), "100.0");
  EXPECT_EQ(number_text(-0.0), "-0.0");
  EXPECT_EQ(number_text(0.0), "0.0");
  EXPECT_EQ(number_text(0.1), "0.1");
  EXPECT_EQ(number_text(-1.5), "-1.5");
  EXPECT_EQ(number_text(1e308), "1e+308");
  EXPECT_EQ(number_text(5e-324), "5e-324");
  EXPECT_EQ(number_text(1e-7), "1e-07");
  EXPECT_EQ(number_text(1e21), "1e+21");
  EXPECT_EQ(number_text(123456789012345.0), "123456789012345.0");
  EXPECT_EQ(number_text(std::numeric_limits<double>::quiet_NaN()), "null");
  EXPECT_EQ(number_text(std::numeric_limits<double>::infinity()), "null");
  EXPECT_EQ(number_text(-std::numeric_limits<double>::infinity()), "null");
}

TEST(json_writer, writes_a_document) {
  const auto text = written([](json_writer& w) {
    w.put('{');
    w.key("type");
    w.string("rules");
    w.put(',');
    w.key("n\u00e9");
    w.put('[');
    w.boolean(true);
    w.put(',');
    w.boolean(false);
    w.put(',');
    w.null();
    w.put(',');
    w.raw(R"({"pre":1})");
    w.put(',');
    w.number(2.5);
    w.put(']');
    w.put('}');
  });
  EXPECT_EQ(text, R"({"type":"rules","n)"
                  "\u00e9"
                  R"(":[true,false,null,{"pre":1},2.5]})");
}

// --- properties -----------------------------------------------------------------------

TEST(json_writer, valid_utf8_round_trips_and_matches_nlohmann_byte_for_byte) {
  std::mt19937_64 rng(1);
  for (int i = 0; i < 5000; ++i) {
    const std::string text = random_valid_utf8(rng);
    const std::string out = string_text_exact(text);
    ASSERT_EQ(json::parse(out).get<std::string>(), text) << out;
    ASSERT_EQ(out, json(text).dump()) << i;
  }
}

TEST(json_writer, invalid_utf8_becomes_replacement_characters) {
  std::mt19937_64 rng(2);
  for (int i = 0; i < 10000; ++i) {
    const std::string text = i % 2 == 0 ? random_bytes(rng) : random_damaged_utf8(rng);
    const std::string out = string_text_exact(text);
    json parsed;
    ASSERT_NO_THROW(parsed = json::parse(out)) << i;
    ASSERT_EQ(parsed.get<std::string>(), sanitized(text)) << i;
    std::string body;
    json_writer(body).escaped(text);
    ASSERT_EQ("\"" + body + "\"", out);
  }
}

TEST(json_writer, integers_round_trip) {
  std::mt19937_64 rng(3);
  std::vector<std::int64_t> signed_values = {std::numeric_limits<std::int64_t>::min(),
                                             std::numeric_limits<std::int64_t>::max(), -1, 0, 1};
  std::vector<std::uint64_t> unsigned_values = {0, 1, std::numeric_limits<std::uint64_t>::max(),
                                                std::uint64_t{1} << 63};
  // Every digit count's edges, where a writer switches ways (8 digits and 16).
  for (std::uint64_t p = 1; p <= 1'000'000'000'000'000'000; p *= 10) {
    for (const std::uint64_t v : {p - 1, p, p + 1, 2 * p - 1, 9 * p + (p - 1)}) {
      unsigned_values.push_back(v);
      signed_values.push_back(static_cast<std::int64_t>(v));
      signed_values.push_back(-static_cast<std::int64_t>(v));
    }
  }
  for (int i = 0; i < 5000; ++i) {
    const std::uint64_t bits = rng() >> (rng() % 64);  // every magnitude, not only huge ones
    signed_values.push_back(static_cast<std::int64_t>(rng() % 2 ? bits : ~bits));
    unsigned_values.push_back(bits);
  }
  for (const auto v : signed_values) {
    const auto out = written([&](json_writer& w) { w.integer(v); });
    ASSERT_EQ(json::parse(out), json(v)) << out;
    ASSERT_EQ(out, std::to_string(v));
  }
  for (const auto v : unsigned_values) {
    const auto out = written([&](json_writer& w) { w.unsigned_integer(v); });
    ASSERT_EQ(json::parse(out), json(v)) << out;
    ASSERT_EQ(out, std::to_string(v));
  }
}

TEST(json_writer, doubles_round_trip_bit_exactly_as_floats) {
  std::mt19937_64 rng(4);
  std::vector<double> values = {0.0,
                                -0.0,
                                0.1,
                                1.0 / 3,
                                1e308,
                                -1e308,
                                5e-324,
                                -5e-324,
                                2.2250738585072014e-308,
                                1.7976931348623157e308,
                                1e21,
                                1e22,
                                1e-7,
                                9007199254740993.0,
                                123.456789012345678};
  for (int i = 0; i < 20000; ++i) {
    switch (i % 3) {
      case 0:
        values.push_back(std::bit_cast<double>(rng()));
        break;   // every exponent
      case 1: {  // long decimals, as a profile's distributions produce
        const double scale = std::pow(10.0, static_cast<int>(rng() % 24) - 12);
        values.push_back(static_cast<double>(static_cast<std::int64_t>(rng() >> 11)) * scale);
        break;
      }
      default:
        values.push_back(static_cast<double>(static_cast<std::int32_t>(rng())));  // integral
    }
  }
  for (const double v : values) {
    const auto out = number_text(v);
    if (!std::isfinite(v)) {
      ASSERT_EQ(out, "null");
      continue;
    }
    const json parsed = json::parse(out);
    ASSERT_TRUE(parsed.is_number_float()) << out;
    const double back = parsed.get<double>();
    ASSERT_EQ(std::bit_cast<std::uint64_t>(back), std::bit_cast<std::uint64_t>(v)) << out;
    ASSERT_EQ(std::signbit(back), std::signbit(v)) << out;
  }
}

}  // namespace
}  // namespace gmsim
