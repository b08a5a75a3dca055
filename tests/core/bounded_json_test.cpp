#include "core/bounded_json.hpp"

#include <gtest/gtest.h>

#include <string>

namespace gmsim {
namespace {

std::string nested(std::size_t depth) {
  return std::string(depth, '[') + "1" + std::string(depth, ']');
}

// Every JSON gmsim reads stops at max_json_depth levels: at the limit it parses, one
// deeper is refused (thrown, or discarded as a syntax error is); 200,000 deep is refused
// without building it (which crashed merge and replay).
TEST(bounded_json, parses_up_to_the_depth_limit_and_refuses_deeper) {
  EXPECT_EQ(parse_json_bounded(nested(max_json_depth)).dump().size(), 2 * max_json_depth + 1);
  EXPECT_THROW(parse_json_bounded(nested(max_json_depth + 1)), json_too_deep);
  EXPECT_TRUE(parse_json_bounded(nested(max_json_depth + 1), false).is_discarded());
  EXPECT_TRUE(parse_json_bounded(nested(200'000), false).is_discarded());
  try {
    parse_json_bounded("{\"a\":" + nested(200'000) + "}");
    FAIL() << "not refused";
  } catch (const json_too_deep& e) {
    EXPECT_STREQ(e.what(), "nested deeper than 512 levels");
  }
  // Too deep is said first, when the document is also cut short.
  EXPECT_THROW(parse_json_bounded(std::string(200'000, '[')), json_too_deep);
  // Syntax errors are nlohmann's, as before.
  EXPECT_THROW(parse_json_bounded("{"), nlohmann::json::parse_error);
  EXPECT_TRUE(parse_json_bounded("{", false).is_discarded());
  EXPECT_EQ(parse_json_bounded(R"({"a":[1,{"b":2}]})")["a"][1]["b"], 2);
}

}  // namespace
}  // namespace gmsim
