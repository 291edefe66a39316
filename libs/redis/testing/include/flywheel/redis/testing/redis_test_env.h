#pragma once

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "flywheel/redis/connection.h"
#include "flywheel/redis/endpoint.h"

namespace flywheel::redis {

/// The environment variable integration tests read the Redis endpoint from.
inline constexpr char kTestRedisEnv[] = "FLYWHEEL_TEST_REDIS";

/// The endpoint in FLYWHEEL_TEST_REDIS; FAILED_PRECONDITION saying how to set
/// it when unset, INVALID_ARGUMENT when it does not parse.
absl::StatusOr<Endpoint> TestRedisEndpointFromEnv();

/// A GoogleTest fixture for tests against a real redis-server.
///
/// `SetUp` fails the test (never skips it) when FLYWHEEL_TEST_REDIS is unset
/// or unreachable, opens an admin connection and makes a random key prefix
/// of the form `t:{<32 hex>}:`; the hash tag keeps all of a test's keys in one
/// cluster slot, so multi-key scripts work. `TearDown` deletes every key under
/// the prefix. Derive from it: `class MyTest : public RedisTestEnv {};`.
/// Used from the test's thread only (`options()` and `prefix()` may be read
/// from any thread).
class RedisTestEnv : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  /// Options for a new connection to the test server (1 s timeouts).
  const ConnectionOptions& options() const { return options_; }
  /// This test's key prefix, e.g. `t:{3f2a...}:`.
  const std::string& prefix() const { return prefix_; }
  /// `prefix() + name`.
  std::string Key(std::string_view name) const;
  /// The fixture's own connection (for setup, checks and `CLIENT KILL`).
  Connection& admin() { return *admin_; }

 private:
  ConnectionOptions options_;
  std::string prefix_;
  std::optional<Connection> admin_;
};

}  // namespace flywheel::redis
