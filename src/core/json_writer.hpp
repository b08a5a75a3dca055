// The fast JSON writer under the encoder: appends JSON text to a caller's buffer, with
// no allocation beyond the buffer's growth and no intermediate document.
#pragma once

#include <cassert>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace gmsim {

// Writes tokens at the end of a caller's string; the caller writes the structure ('{',
// ',', ':') with put(). A token is a few stores through a pointer into room the writer
// reserves ahead in the string, not a call to append: that room is part of out's size
// until flush() or the destructor cuts it back to what was written. So while a writer
// is open on out and has written, out is read or changed only through it, and no text
// given to it may point into out (growing the room may move out's bytes).
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
// The length of the well-formed UTF-8 sequence at p (Unicode 15, table 3-7), or 0 when the
// byte at p does not start one: overlongs, surrogates, code points past U+10FFFF, stray
// continuation bytes and sequences cut short are all 0. available: the bytes from p on.
std::size_t utf8_sequence_length(const unsigned char* p, std::size_t available);

class json_writer {
 public:
  struct overwrite_t {
    explicit overwrite_t() = default;
  };
  static constexpr overwrite_t overwrite{};

  // Writes after what out holds.
  explicit json_writer(std::string& out) : out_(out), next_(out.data() + out.size()), end_(next_) {}
  // Writes over out from its start: what it held is room, so a buffer reused for text of
  // about the same size (a request body, a recording's line) is not filled again first.
  json_writer(std::string& out, overwrite_t)
      : out_(out), next_(out.data()), end_(out.data() + out.size()) {}
  json_writer(const json_writer&) = delete;
  json_writer& operator=(const json_writer&) = delete;
  // out's size is always end_'s offset: when next_ is there too (just flushed, or the
  // room filled exactly), there is nothing to cut and out is not touched, so after a
  // flush it may be changed or gone by then. An overwriting writer that has not written
  // has room to cut: it empties out.
  ~json_writer() {
    if (next_ != end_) flush();
  }

  // Cuts out back to what was written; the writer stays usable.
  void flush() {
    out_.resize(static_cast<std::size_t>(next_ - out_.data()));
    end_ = next_ = out_.data() + out_.size();
  }

  void put(char c) {
    room(1);
    *next_++ = c;
  }
  void raw(std::string_view text) {  // pre-encoded JSON
    room(text.size());
    std::memcpy(next_, text.data(), text.size());
    next_ += text.size();
  }
  void string(std::string_view text) {
    put('"');
    escaped(text);
    put('"');
  }
  void key(std::string_view name) {  // "name":
    string(name);
    put(':');
  }
  void escaped(std::string_view text);  // a string's body, without the quotes
  void integer(std::int64_t value);
  void unsigned_integer(std::uint64_t value);
  void number(double value);
  void boolean(bool value) { raw(value ? std::string_view("true") : std::string_view("false")); }
  void null() { raw("null"); }

  // For writers of fixed-width text (hex digits, UUIDs): at least n writable bytes at
  // the pointer returned, none of them written yet; then commit(the end of what was
  // written there), with no other call between.
  char* claim(std::size_t n) {
    room(n);
    return next_;
  }
  void commit(char* end) {
    assert(end >= next_ && end <= end_);
    next_ = end;
  }

 private:
  void room(std::size_t n) {
    if (static_cast<std::size_t>(end_ - next_) < n) grow(n);
  }
  void grow(std::size_t n);

  std::string& out_;
  char* next_;  // where the next byte goes
  char* end_;   // out_.data() + out_.size(): the end of the room
};

// The text that write(json_writer&) writes, in a string of its own.
template <class write_fn>
std::string json_text(write_fn&& write) {
  std::string text;
  json_writer w(text);
  write(w);
  w.flush();
  return text;
}

}  // namespace gmsim
