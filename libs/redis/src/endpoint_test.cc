#include "flywheel/redis/endpoint.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace flywheel::redis {
namespace {

using ::testing::HasSubstr;

TEST(ParseEndpointTest, HostAndPort) {
  absl::StatusOr<Endpoint> e = ParseEndpoint("redis.internal:6380");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->host, "redis.internal");
  EXPECT_EQ(e->port, 6380);
  EXPECT_EQ(e->ToString(), "redis.internal:6380");
}

TEST(ParseEndpointTest, Ipv4) {
  absl::StatusOr<Endpoint> e = ParseEndpoint("127.0.0.1:1");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(*e, (Endpoint{"127.0.0.1", 1}));
}

TEST(ParseEndpointTest, BracketedIpv6RoundTrips) {
  absl::StatusOr<Endpoint> e = ParseEndpoint("[::1]:6379");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->host, "::1");
  EXPECT_EQ(e->port, 6379);
  EXPECT_EQ(e->ToString(), "[::1]:6379");
  EXPECT_EQ(*ParseEndpoint(e->ToString()), *e);
}

TEST(ParseEndpointTest, MaxPort) { EXPECT_EQ(ParseEndpoint("h:65535")->port, 65535); }

struct BadCase {
  const char* text;
  const char* why;
};

class ParseEndpointBadTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(ParseEndpointBadTest, GivesInvalidArgumentSayingWhy) {
  absl::StatusOr<Endpoint> e = ParseEndpoint(GetParam().text);
  ASSERT_FALSE(e.ok()) << "parsed " << GetParam().text << " as " << e->ToString();
  EXPECT_EQ(e.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(e.status().message()), HasSubstr(GetParam().why));
}

INSTANTIATE_TEST_SUITE_P(
    All, ParseEndpointBadTest,
    ::testing::Values(BadCase{"", "is empty"}, BadCase{"localhost", "has no port"},
                      BadCase{"localhost:", "empty port"}, BadCase{":6379", "empty host"},
                      BadCase{"h:0", "1..65535"}, BadCase{"h:65536", "1..65535"},
                      BadCase{"h:99999999999", "not a decimal"}, BadCase{"h:-1", "not a decimal"},
                      BadCase{"h:+1", "not a decimal"}, BadCase{"h:63x", "not a decimal"},
                      BadCase{"h :6379", "whitespace"}, BadCase{"::1:6379", "in brackets"},
                      BadCase{"[::1:6379", "closing ']'"}, BadCase{"[::1]6379", ":port"},
                      BadCase{"[::1]", ":port"}, BadCase{"[]:6379", "empty IPv6"},
                      BadCase{"a]b:1", "stray bracket"}));

}  // namespace
}  // namespace flywheel::redis
