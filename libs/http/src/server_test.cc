#include "flywheel/http/server.h"

#include <gtest/gtest.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "flywheel/http/testing/fetch.h"

namespace flywheel::http {
namespace {

using testing::Fetch;
using testing::Fetched;

// One server for every check: civetweb takes about 2 s to stop (its master
// thread's poll quantum).
TEST(HttpServerTest, LongestPrefixAnswersUnknownPathsAreNotFoundWritesNotAllowed) {
  auto server = Server::Start(
      "127.0.0.1:0",
      {{"/feeds/", [](const Request& r) { return Response{.body = "feeds " + r.path}; }},
       {"/feeds/v1/", [](const Request& r) {
          std::string names;
          for (const auto& [name, value] : r.query) absl::StrAppend(&names, name, "=", value, ";");
          return Response{.content_type = "text/calendar", .body = names};
        }}});
  ASSERT_TRUE(server.ok()) << server.status();
  const int port = (*server)->port();
  ASSERT_GT(port, 0);

  Fetched v1 = Fetch(port, "GET", "/feeds/v1/calendar.ics?team=content&channel=A&channel=B%20C");
  EXPECT_EQ(v1.status, 200);
  EXPECT_EQ(v1.content_type, "text/calendar");
  EXPECT_EQ(v1.body, "team=content;channel=A;channel=B C;");

  Fetched other = Fetch(port, "GET", "/feeds/old");
  EXPECT_EQ(other.status, 200);
  EXPECT_EQ(other.body, "feeds /feeds/old");

  EXPECT_EQ(Fetch(port, "GET", "/metrics").status, 404);
  EXPECT_EQ(Fetch(port, "POST", "/feeds/v1/calendar.ics").status, 405);
}

TEST(HttpServerTest, BadAddressIsRefused) {
  EXPECT_EQ(Server::Start("no-port", {}).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(HttpQueryTest, EncodedQueryParsesBackToTheSameParameters) {
  const Query query = {{"tenant", "acme & co"}, {"dest", "linkedin:acme/corp?x=1"}, {"e", ""}};
  EXPECT_EQ(ParseQuery(EncodeQuery(query)), query);
  EXPECT_EQ(ParseQuery("a=1&&b&c=x+y"), (Query{{"a", "1"}, {"b", ""}, {"c", "x y"}}));
}

}  // namespace
}  // namespace flywheel::http
