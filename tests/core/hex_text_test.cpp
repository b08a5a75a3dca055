#include "core/hex_text.hpp"

#include <gtest/gtest.h>

#include <cinttypes>
#include <cstdio>
#include <random>
#include <string>

namespace gmsim {
namespace {

// The reference: printf's lowercase hex.
std::string hex_of(std::uint64_t value, int digits) {
  char text[17];
  std::snprintf(text, sizeof text, "%016" PRIx64, value);
  return std::string(text + 16 - digits, static_cast<std::size_t>(digits));
}

std::string uuid_of(std::uint64_t hi, std::uint64_t lo) {
  const std::string h = hex_of(hi, 16), l = hex_of(lo, 16);
  return h.substr(0, 8) + '-' + h.substr(8, 4) + '-' + h.substr(12, 4) + '-' + l.substr(0, 4) +
         '-' + l.substr(4);
}

// Both versions (SSE2 where the build has it, and the portable one) against printf, with
// every digit count and every nibble value in every position; text around the room
// written must stay as it was.
TEST(hex_text, digits_and_uuids_are_printf_s_in_both_versions) {
  std::mt19937_64 random(11);
  std::vector<std::uint64_t> values = {0, ~std::uint64_t{0}, 0x0123456789abcdefull,
                                       0xfedcba9876543210ull, 0xa0a0a0a0a0a0a0a0ull};
  for (int i = 0; i < 20000; ++i) values.push_back(random() >> (random() % 64));
  for (const auto value : values) {
    for (int digits = 1; digits <= 16; ++digits) {
      for (const auto put : {&hex_text::put, &hex_text::put_portable}) {
        char buffer[18];
        buffer[0] = buffer[17] = '#';
        ASSERT_EQ(put(buffer + 1, value, digits), buffer + 1 + digits);
        ASSERT_EQ(std::string(buffer + 1, static_cast<std::size_t>(digits)), hex_of(value, digits))
            << value << " " << digits;
        ASSERT_EQ(buffer[0], '#');
        ASSERT_EQ(buffer[17], '#');
      }
    }
  }
  for (std::size_t i = 0; i + 1 < values.size(); ++i) {
    for (const auto put : {&hex_text::put_uuid, &hex_text::put_uuid_portable}) {
      char buffer[38];
      buffer[0] = buffer[37] = '#';
      ASSERT_EQ(put(buffer + 1, values[i], values[i + 1]), buffer + 37);
      ASSERT_EQ(std::string(buffer + 1, 36), uuid_of(values[i], values[i + 1]));
      ASSERT_EQ(buffer[0], '#');
      ASSERT_EQ(buffer[37], '#');
    }
  }
}

}  // namespace
}  // namespace gmsim
