#include "flywheel/core/page_token.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "flywheel/core/field_errors.h"
#include "proto_enums_test.pb.h"

namespace flywheel {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

coretest::ListLeavesRequest Query() {
  coretest::ListLeavesRequest query;
  query.set_tenant_id("acme");
  query.add_colors(coretest::COLOR_RED);
  query.set_page_size(10);
  return query;
}

std::vector<std::string> ViolatedFields(const absl::Status& status) {
  std::vector<std::string> fields;
  for (const FieldViolation& v : FieldViolationsOf(status)) fields.push_back(v.field);
  return fields;
}

TEST(PageTokenTest, RoundTripsTheCursorWhateverThePageSize) {
  const std::string token = EncodePageToken(Query(), kNow, "0:3|req_7");
  coretest::ListLeavesRequest next = Query();
  next.set_page_size(500);
  next.set_page_token(token);
  auto cursor = DecodePageToken(token, next, kNow + absl::Hours(1));
  ASSERT_TRUE(cursor.ok()) << cursor.status();
  EXPECT_EQ(*cursor, "0:3|req_7");
  EXPECT_THAT(token, ::testing::Not(HasSubstr("req_7"))) << "the token is opaque";
}

TEST(PageTokenTest, OtherTenantOrFilterIsRefusedOnPageToken) {
  const std::string token = EncodePageToken(Query(), kNow, "after");
  coretest::ListLeavesRequest other_tenant = Query();
  other_tenant.set_tenant_id("globex");
  auto refused = DecodePageToken(token, other_tenant, kNow);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(ViolatedFields(refused.status()), ElementsAre("page_token"));
  EXPECT_THAT(refused.status().message(), HasSubstr("other filters"));

  coretest::ListLeavesRequest other_filter = Query();
  other_filter.add_colors(coretest::COLOR_BLUE);
  EXPECT_EQ(DecodePageToken(token, other_filter, kNow).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(PageTokenTest, ExpiresAfterADay) {
  const std::string token = EncodePageToken(Query(), kNow, "after");
  EXPECT_TRUE(DecodePageToken(token, Query(), kNow + absl::Hours(23)).ok());
  auto late = DecodePageToken(token, Query(), kNow + absl::Hours(25));
  EXPECT_EQ(late.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(late.status().message(), HasSubstr("expired"));
}

TEST(PageTokenTest, GarbageIsRefusedOnPageToken) {
  for (const char* garbage : {"not a token!", "MXxhYmM", ""}) {
    auto refused = DecodePageToken(garbage, Query(), kNow);
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument) << garbage;
    EXPECT_THAT(ViolatedFields(refused.status()), ElementsAre("page_token")) << garbage;
  }
}

TEST(PageTokenTest, PageSizeDefaultsCapsAndRefusesNegatives) {
  EXPECT_EQ(*PageSizeOf(0), 50u);
  EXPECT_EQ(*PageSizeOf(7), 7u);
  EXPECT_EQ(*PageSizeOf(501), 500u);
  auto negative = PageSizeOf(-1);
  EXPECT_EQ(negative.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(ViolatedFields(negative.status()), ElementsAre("page_size"));
}

}  // namespace
}  // namespace flywheel
