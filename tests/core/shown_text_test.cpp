#include "core/shown_text.hpp"

#include <gtest/gtest.h>

#include <new>
#include <stdexcept>
#include <string>

namespace gmsim {
namespace {

TEST(shown_text, keeps_short_text_on_one_line_and_cuts_long_text_saying_its_length) {
  EXPECT_EQ(shown_text("plain"), "plain");
  EXPECT_EQ(shown_text("a\nb\r\x01"), "a\\nb\\r\\u0001");
  // 50 MB of path is not echoed: its first bytes and its length.
  const std::string path(50u << 20, 'p');
  const std::string shown = shown_text(path, 10);
  EXPECT_EQ(shown, "pppppppppp... (52428800 bytes)");
  // The cut never splits a character: "é" is two bytes, the cut at 2 backs up to 1.
  EXPECT_EQ(shown_text("aéb", 2), "a... (4 bytes)");
  EXPECT_EQ(shown_text("abc", 3), "abc");
}

TEST(shown_text, says_what_any_exception_is) {
  EXPECT_EQ(exception_text(std::make_exception_ptr(std::bad_alloc())),
            "out of memory (std::bad_alloc)");
  EXPECT_EQ(exception_text(std::make_exception_ptr(std::runtime_error("disk on fire"))),
            "disk on fire");
  EXPECT_EQ(exception_text(std::make_exception_ptr(42)),
            "an exception that is not a std::exception");
}

}  // namespace
}  // namespace gmsim
