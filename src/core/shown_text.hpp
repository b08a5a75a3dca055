// Text from users and receivers, made safe to print on one terminal line: the messages of
// profile errors (a key may be "a\nb") and the arguments an error quotes.
#pragma once

#include <cstddef>
#include <exception>
#include <string>
#include <string_view>

namespace gmsim {

// message on one line: control characters escaped as in JSON (\n, \r, \t, \u0001).
std::string one_line(std::string_view message);

// text for an error message or a listing: on one line (one_line), and cut after
// max_bytes with how long it was ("... (52428800 bytes)"), so that a 50 MB path or
// argument is not echoed whole. The cut never splits a UTF-8 character.
std::string shown_text(std::string_view text, std::size_t max_bytes = 200);

// What an exception says, whatever it is: "out of memory (std::bad_alloc)", what(), or
// that it is no std::exception.
std::string exception_text(const std::exception_ptr& e);

}  // namespace gmsim
