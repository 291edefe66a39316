#include "flywheel/core/id.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "absl/container/flat_hash_set.h"

namespace flywheel {
namespace {

using ::testing::MatchesRegex;

TEST(StrongIdTest, ComparesAndHashesByValue) {
  RequestId a("req_1");
  RequestId b("req_1");
  RequestId c("req_2");
  EXPECT_EQ(a, b);
  EXPECT_LT(a, c);
  absl::flat_hash_set<RequestId> set{a, b, c};
  EXPECT_EQ(set.size(), 2u);
}

TEST(NewRandomIdTest, HasPrefixAndHexBody) {
  EXPECT_THAT(NewRandomId("req"), MatchesRegex("req_[0-9a-f]{32}"));
  EXPECT_THAT(NewRandomId(), MatchesRegex("[0-9a-f]{32}"));
}

TEST(NewRandomIdTest, DoesNotRepeat) {
  std::set<std::string> seen;
  for (int i = 0; i < 10000; ++i) seen.insert(NewRandomId());
  EXPECT_EQ(seen.size(), 10000u);
}

}  // namespace
}  // namespace flywheel
