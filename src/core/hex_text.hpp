// Hex digits and UUIDs stored straight where they go (a json_writer's claimed room), never
// built aside and copied: the copy's wide loads would wait on the narrow stores that
// built the text (store forwarding fails), which cost more than the digits. Private to the
// library; both versions are compiled everywhere, so the test checks each.
#pragma once

#include <cstdint>

namespace gmsim::hex_text {

// The last `digits` (1 to 16) hex digits of value, lowercase, at p; stores 16 bytes at p
// (the room needed) and returns p + digits.
char* put(char* p, std::uint64_t value, int digits);
// hi then lo as a UUID's 32 hex digits, 8-4-4-4-12, at p[0, 36); returns p + 36.
char* put_uuid(char* p, std::uint64_t hi, std::uint64_t lo);

// The same with 64-bit integer arithmetic only: what put and put_uuid are where SSE2 is
// not (they are these there).
char* put_portable(char* p, std::uint64_t value, int digits);
char* put_uuid_portable(char* p, std::uint64_t hi, std::uint64_t lo);

}  // namespace gmsim::hex_text
