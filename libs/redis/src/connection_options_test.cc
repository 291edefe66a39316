#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "flywheel/redis/connection.h"
#include "flywheel/redis/pool.h"

namespace flywheel::redis {
namespace {

using ::testing::HasSubstr;

ConnectionOptions Valid() {
  ConnectionOptions o;
  o.endpoint = {"127.0.0.1", 6379};
  return o;
}

TEST(ConnectionOptionsTest, DefaultsWithEndpointAreValid) { EXPECT_TRUE(Valid().Validate().ok()); }

TEST(ConnectionOptionsTest, NamesTheBadField) {
  auto check = [](ConnectionOptions o, const char* field) {
    absl::Status s = o.Validate();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << field;
    EXPECT_THAT(std::string(s.message()), HasSubstr(field));
  };
  ConnectionOptions o = Valid();
  o.endpoint.host = "";
  check(o, "host");
  o = Valid();
  o.endpoint.port = 0;
  check(o, "port");
  o = Valid();
  o.command_timeout = absl::ZeroDuration();
  check(o, "command_timeout");
  o = Valid();
  o.connect_timeout = -absl::Seconds(1);
  check(o, "connect_timeout");
  o = Valid();
  o.db = -1;
  check(o, "db");
  o = Valid();
  o.connect_attempts = 0;
  check(o, "connect_attempts");
  o = Valid();
  o.username = "u";
  check(o, "username");
}

TEST(ConnectionTest, ConnectRejectsBadOptionsWithoutNetwork) {
  ConnectionOptions o = Valid();
  o.endpoint.host = "";
  EXPECT_EQ(Connection::Connect(o).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ConnectionTest, EmptyCommandIsInvalidArgumentAndSendsNothing) {
  Connection conn = Connection::Deferred(Valid());
  EXPECT_EQ(conn.Command({}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(conn.broken());  // it did not try to connect
  EXPECT_TRUE(conn.Pipeline({}).empty());
}

TEST(PoolTest, RejectsZeroCapacityAndBadConnectionOptions) {
  PoolOptions p;
  p.connection = Valid();
  p.capacity = 0;
  EXPECT_EQ(Pool::Create(p).status().code(), absl::StatusCode::kInvalidArgument);
  p.capacity = 1;
  p.connection.endpoint.port = 70000;
  EXPECT_EQ(Pool::Create(p).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace flywheel::redis
