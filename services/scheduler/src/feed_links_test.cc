#include "feed_links.h"

#include <gtest/gtest.h>

#include <fstream>

#include "absl/strings/str_cat.h"

namespace flywheel::scheduler {
namespace {

const std::string kSecret(40, 's');

v1::GetCalendarFeedRequest Feed() {
  v1::GetCalendarFeedRequest feed;
  feed.set_tenant_id("acme & co");
  feed.set_team_id("content");
  feed.add_channels(common::v1::CHANNEL_EMAIL);
  feed.add_destinations("email:newsletter-de");
  return feed;
}

// The query of a path FeedLinks made.
http::Query QueryOf(const std::string& path) {
  EXPECT_EQ(path.rfind(kFeedPath, 0), 0u) << path;
  return http::ParseQuery(path.substr(path.find('?') + 1));
}

TEST(FeedLinksTest, ASignedPathReadsBackAsItsFeed) {
  FeedLinks links(kSecret);
  auto read = links.Read(QueryOf(links.PathFor(Feed())));
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->tenant_id(), "acme & co");
  EXPECT_EQ(read->team_id(), "content");
  ASSERT_EQ(read->channels_size(), 1);
  EXPECT_EQ(read->channels(0), common::v1::CHANNEL_EMAIL);
  ASSERT_EQ(read->destinations_size(), 1);
  EXPECT_EQ(read->destinations(0), "email:newsletter-de");
}

TEST(FeedLinksTest, AChangedParameterOrAnotherSecretIsRefused) {
  FeedLinks links(kSecret);
  http::Query query = QueryOf(links.PathFor(Feed()));
  http::Query other_tenant = query;
  other_tenant[0].second = "globex";
  EXPECT_EQ(links.Read(other_tenant).status().code(), absl::StatusCode::kPermissionDenied);
  http::Query widened = query;
  widened.erase(widened.begin() + 1);  // the team filter dropped
  EXPECT_EQ(links.Read(widened).status().code(), absl::StatusCode::kPermissionDenied);
  http::Query unsigned_query = query;
  unsigned_query.pop_back();
  EXPECT_EQ(links.Read(unsigned_query).status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(FeedLinks(std::string(40, 't')).Read(query).status().code(),
            absl::StatusCode::kPermissionDenied);
  http::Query unknown = query;
  unknown.emplace_back("range", "all");
  EXPECT_EQ(links.Read(unknown).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(FeedLinksTest, AShortSecretIsRefused) {
  const std::string path = ::testing::TempDir() + "/short-feed-secret";
  std::ofstream(path) << "too short\n";
  auto secret = ReadFeedSecret(path);
  EXPECT_EQ(secret.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(secret.status().message().find("at least 32"), std::string::npos);
  EXPECT_EQ(ReadFeedSecret(path + ".missing").status().code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace flywheel::scheduler
