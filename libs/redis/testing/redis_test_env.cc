#include "flywheel/redis/testing/redis_test_env.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "flywheel/core/id.h"

namespace flywheel::redis {

absl::StatusOr<Endpoint> TestRedisEndpointFromEnv() {
  const char* value = std::getenv(kTestRedisEnv);
  if (value == nullptr || *value == '\0') {
    return absl::FailedPreconditionError(
        absl::StrCat(kTestRedisEnv,
                     " is not set: integration tests need a running redis-server, e.g. "
                     "FLYWHEEL_TEST_REDIS=127.0.0.1:6379"));
  }
  absl::StatusOr<Endpoint> endpoint = ParseEndpoint(value);
  if (!endpoint.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(kTestRedisEnv, ": ", endpoint.status().message()));
  }
  return endpoint;
}

void RedisTestEnv::SetUp() {
  absl::StatusOr<Endpoint> endpoint = TestRedisEndpointFromEnv();
  ASSERT_TRUE(endpoint.ok()) << endpoint.status();
  options_.endpoint = *endpoint;
  options_.connect_timeout = absl::Seconds(1);
  options_.command_timeout = absl::Seconds(1);
  prefix_ = absl::StrCat("t:{", NewRandomId(), "}:");
  absl::StatusOr<Connection> admin = Connection::Connect(options_);
  ASSERT_TRUE(admin.ok()) << "cannot reach redis at " << endpoint->ToString() << " ("
                          << kTestRedisEnv << "): " << admin.status();
  admin_.emplace(*std::move(admin));
}

void RedisTestEnv::TearDown() {
  if (!admin_.has_value()) return;
  std::string cursor = "0";
  // Bounded: a test makes few keys, so a handful of SCAN rounds finishes.
  for (int round = 0; round < 10000; ++round) {
    absl::StatusOr<Reply> scan =
        admin_->Command({"SCAN", cursor, "MATCH", prefix_ + "*", "COUNT", "1000"});
    ASSERT_TRUE(scan.ok()) << "cleanup SCAN: " << scan.status();
    ASSERT_TRUE(scan->is_array() && scan->elements().size() == 2) << scan->DebugString();
    cursor = scan->elements()[0].str();
    std::vector<std::string> del = {"UNLINK"};
    for (const Reply& key : scan->elements()[1].elements()) del.push_back(key.str());
    if (del.size() > 1) {
      absl::StatusOr<Reply> deleted = admin_->Command(del);
      EXPECT_TRUE(deleted.ok()) << "cleanup UNLINK: " << deleted.status();
    }
    if (cursor == "0") break;
  }
}

std::string RedisTestEnv::Key(std::string_view name) const {
  return absl::StrCat(prefix_, absl::string_view(name.data(), name.size()));
}

}  // namespace flywheel::redis
