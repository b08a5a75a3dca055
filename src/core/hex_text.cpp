#include "core/hex_text.hpp"

#include <bit>
#include <cstring>

#if defined(__SSE2__) && defined(__x86_64__)
#include <emmintrin.h>
#define GMSIM_HEX_SSE2 1
#endif

namespace gmsim::hex_text {
namespace {

// The 8 hex digits of v as 8 bytes in the order a memcpy writes them: each nibble spread
// to a byte, then '0'-'9' or 'a'-'f' added to all eight at once.
std::uint64_t hex8(std::uint32_t v) {
  std::uint64_t x = v;
  x = ((x & 0xffff0000ull) << 16) | (x & 0x0000ffffull);
  x = ((x & 0x0000ff000000ff00ull) << 8) | (x & 0x000000ff000000ffull);
  x = ((x & 0x00f000f000f000f0ull) << 4) | (x & 0x000f000f000f000full);
  const std::uint64_t letters = ((x + 0x0606060606060606ull) >> 4) & 0x0101010101010101ull;
  x += 0x3030303030303030ull + letters * ('a' - '0' - 10);
  // The first digit is in the highest byte, which a little-endian word stores last.
  if constexpr (std::endian::native == std::endian::little) {
    x = ((x & 0x00ff00ff00ff00ffull) << 8) | ((x >> 8) & 0x00ff00ff00ff00ffull);
    x = ((x & 0x0000ffff0000ffffull) << 16) | ((x >> 16) & 0x0000ffff0000ffffull);
    x = (x << 32) | (x >> 32);  // a byte swap, which compilers make one instruction
  }
  return x;
}

void put16_portable(char* p, std::uint64_t value) {
  const std::uint64_t high = hex8(static_cast<std::uint32_t>(value >> 32));
  const std::uint64_t low = hex8(static_cast<std::uint32_t>(value));
  std::memcpy(p, &high, 8);
  std::memcpy(p + 8, &low, 8);
}

#if GMSIM_HEX_SSE2
// The 16 hex digits of value, first digit in byte 0, in one register: each byte split
// into its two nibbles side by side, then '0' added to all and 'a' - '0' - 10 more to
// those over 9.
__m128i hex16(std::uint64_t value) {
  const __m128i bytes = _mm_cvtsi64_si128(static_cast<long long>(__builtin_bswap64(value)));
  const __m128i nibble = _mm_set1_epi8(0x0f);
  const __m128i digits = _mm_unpacklo_epi8(_mm_and_si128(_mm_srli_epi16(bytes, 4), nibble),
                                           _mm_and_si128(bytes, nibble));
  const __m128i letters =
      _mm_and_si128(_mm_cmpgt_epi8(digits, _mm_set1_epi8(9)), _mm_set1_epi8('a' - '0' - 10));
  return _mm_add_epi8(_mm_add_epi8(digits, _mm_set1_epi8('0')), letters);
}
#endif

}  // namespace

char* put_portable(char* p, std::uint64_t value, int digits) {
  put16_portable(p, value << (64 - 4 * digits));  // the digits wanted first
  return p + digits;
}

char* put_uuid_portable(char* p, std::uint64_t hi, std::uint64_t lo) {
  char digits[32];
  put16_portable(digits, hi);
  put16_portable(digits + 16, lo);
  std::memcpy(p, digits, 8);
  std::memcpy(p + 9, digits + 8, 4);
  std::memcpy(p + 14, digits + 12, 4);
  std::memcpy(p + 19, digits + 16, 4);
  std::memcpy(p + 24, digits + 20, 12);
  p[8] = p[13] = p[18] = p[23] = '-';
  return p + 36;
}

#if GMSIM_HEX_SSE2
char* put(char* p, std::uint64_t value, int digits) {
  _mm_storeu_si128(reinterpret_cast<__m128i*>(p), hex16(value << (64 - 4 * digits)));
  return p + digits;
}

char* put_uuid(char* p, std::uint64_t hi, std::uint64_t lo) {
  // Overlapping stores from the two registers of digits, each putting the digits after a
  // dash in place over what an earlier one wrote there; then the dashes.
  const __m128i high = hex16(hi);
  const __m128i low = hex16(lo);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(p), high);  // [0, 16): 8 in place
  _mm_storel_epi64(reinterpret_cast<__m128i*>(p + 9), _mm_srli_si128(high, 8));  // [9, 13)
  const auto high_last = _mm_cvtsi128_si32(_mm_srli_si128(high, 12));
  std::memcpy(p + 14, &high_last, 4);                         // [14, 18)
  _mm_storeu_si128(reinterpret_cast<__m128i*>(p + 20), low);  // [24, 36) in place
  const auto low_first = _mm_cvtsi128_si32(low);
  std::memcpy(p + 19, &low_first, 4);  // [19, 23)
  p[8] = p[13] = p[18] = p[23] = '-';
  return p + 36;
}
#else
char* put(char* p, std::uint64_t value, int digits) { return put_portable(p, value, digits); }

char* put_uuid(char* p, std::uint64_t hi, std::uint64_t lo) { return put_uuid_portable(p, hi, lo); }
#endif

}  // namespace gmsim::hex_text
