#include "core/did_you_mean.hpp"

#include <gtest/gtest.h>

#include <string_view>
#include <vector>

namespace gmsim {
namespace {

TEST(did_you_mean, a_likely_typo_or_nothing) {
  const std::vector<std::string_view> names = {"changes", "when", "name", "type", "max_delay"};
  EXPECT_EQ(detail::nearest_name("chnages", names), "changes");  // a swap counts once
  EXPECT_EQ(detail::nearest_name("chanegs", names), "changes");
  EXPECT_EQ(detail::nearest_name("nmae", names), "name");
  EXPECT_EQ(detail::nearest_name("maxDelay", names), "max_delay");
  EXPECT_EQ(detail::nearest_name("Type", names), "type");
  EXPECT_EQ(detail::nearest_name("colour", names), "");
  EXPECT_EQ(detail::nearest_name("x", names), "");
  EXPECT_EQ(detail::nearest_name("", names), "");
}

}  // namespace
}  // namespace gmsim
