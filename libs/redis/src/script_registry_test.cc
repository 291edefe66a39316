#include "flywheel/redis/script_registry.h"

#include <gtest/gtest.h>

namespace flywheel::redis {
namespace {

TEST(ScriptSha1Test, MatchesKnownDigests) {
  EXPECT_EQ(ScriptSha1(""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(ScriptSha1("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
}

TEST(ScriptRegistryTest, RegisterAndLookUp) {
  ScriptRegistry registry;
  EXPECT_FALSE(registry.Contains("incr"));
  ASSERT_TRUE(registry.Register("incr", "return redis.call('INCR', KEYS[1])").ok());
  EXPECT_TRUE(registry.Contains("incr"));
  EXPECT_EQ(*registry.Sha1("incr"), ScriptSha1("return redis.call('INCR', KEYS[1])"));
  EXPECT_EQ(registry.size(), 1u);
}

TEST(ScriptRegistryTest, SameSourceTwiceIsFineOtherSourceIsRejected) {
  ScriptRegistry registry;
  ASSERT_TRUE(registry.Register("s", "return 1").ok());
  EXPECT_TRUE(registry.Register("s", "return 1").ok());
  absl::Status other = registry.Register("s", "return 2");
  EXPECT_EQ(other.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(*registry.Sha1("s"), ScriptSha1("return 1"));  // the first one stays
  EXPECT_EQ(registry.size(), 1u);
}

TEST(ScriptRegistryTest, RejectsEmptyNameOrSource) {
  ScriptRegistry registry;
  EXPECT_EQ(registry.Register("", "return 1").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(registry.Register("s", "").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(registry.size(), 0u);
}

TEST(ScriptRegistryTest, UnknownNameIsNotFoundAndSendsNothing) {
  ScriptRegistry registry;
  EXPECT_EQ(registry.Sha1("nope").status().code(), absl::StatusCode::kNotFound);
  // A connection to nowhere: Eval must fail before using it.
  ConnectionOptions options;
  options.endpoint = {"127.0.0.1", 1};
  Connection conn = Connection::Deferred(options);
  EXPECT_EQ(registry.Eval(conn, "nope", {}, {}).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(conn.broken());  // never connected
}

}  // namespace
}  // namespace flywheel::redis
