// redis::AsyncClient against the real redis-server named by FLYWHEEL_TEST_REDIS.

#include "flywheel/redis/async_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <asio/co_spawn.hpp>
#include <asio/use_future.hpp>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "flywheel/async/io_threads.h"
#include "flywheel/async/spawn.h"
#include "flywheel/redis/error.h"
#include "flywheel/redis/testing/redis_test_env.h"

namespace flywheel::redis {
namespace {

using ::testing::HasSubstr;

class AsyncClientTest : public RedisTestEnv {
 protected:
  void TearDown() override {
    io_.Stop();  // before the clients: nothing may run on them any more
    clients_.clear();
    RedisTestEnv::TearDown();
  }

  AsyncClient& Client(ConnectionOptions options, size_t connections = 2) {
    auto client = AsyncClient::Create(
        io_.context(), {.connection = std::move(options), .connections = connections});
    EXPECT_TRUE(client.ok()) << client.status();
    clients_.push_back(*std::move(client));
    return *clients_.back();
  }
  AsyncClient& Client() { return Client(options()); }

  absl::StatusOr<Reply> Run(AsyncClient& client, std::vector<std::string> args) {
    return async::BlockOn(io_.context(), client.Command(std::move(args)));
  }

  async::IoThreads io_{2};
  std::vector<std::unique_ptr<AsyncClient>> clients_;
};

TEST_F(AsyncClientTest, RepliesOfEachTypeBinarySafe) {
  AsyncClient& redis = Client();
  const std::string bytes("a\0b\r\nc", 6);
  EXPECT_EQ(*Run(redis, {"PING"}), Reply::Status("PONG"));
  EXPECT_EQ(*Run(redis, {"SET", Key("s"), bytes}), Reply::Status("OK"));
  EXPECT_EQ(*Run(redis, {"GET", Key("s")}), Reply::String(bytes));
  EXPECT_EQ(*Run(redis, {"GET", Key("missing")}), Reply::Nil());
  EXPECT_EQ(*Run(redis, {"INCRBY", Key("n"), "-5"}), Reply::Integer(-5));
  ASSERT_TRUE(Run(redis, {"RPUSH", Key("l"), "a", "b"}).ok());
  EXPECT_EQ(*Run(redis, {"LRANGE", Key("l"), "0", "-1"}),
            Reply::Array({Reply::String("a"), Reply::String("b")}));
  EXPECT_EQ(Run(redis, {}).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(AsyncClientTest, ServerErrorIsAStatusAndTheConnectionStaysUsable) {
  AsyncClient& redis = Client(options(), 1);
  ASSERT_TRUE(Run(redis, {"SET", Key("s"), "v"}).ok());
  absl::StatusOr<Reply> wrong = Run(redis, {"LPUSH", Key("s"), "x"});
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ServerErrorCode(wrong.status()), "WRONGTYPE");
  EXPECT_EQ(*Run(redis, {"GET", Key("s")}), Reply::String("v"));
}

asio::awaitable<int> IncrementMany(AsyncClient& redis, std::string key, int times) {
  int ok = 0;
  for (int i = 0; i < times; ++i) {
    // gcc 12 cannot take a braced list of string literals inside co_await.
    std::vector<std::string> incr = {"INCR", key};
    if ((co_await redis.Command(std::move(incr))).ok()) ++ok;
  }
  co_return ok;
}

TEST_F(AsyncClientTest, ManyCoroutinesInFlightShareTheConnections) {
  AsyncClient& redis = Client(options(), 2);
  constexpr int kCoroutines = 200;
  constexpr int kEach = 25;
  std::vector<std::future<int>> done;
  for (int i = 0; i < kCoroutines; ++i) {
    done.push_back(
        asio::co_spawn(io_.context(), IncrementMany(redis, Key("n"), kEach), asio::use_future));
  }
  int ok = 0;
  for (auto& d : done) ok += d.get();
  EXPECT_EQ(ok, kCoroutines * kEach);
  EXPECT_EQ(*admin().Command({"GET", Key("n")}), Reply::String(std::to_string(ok)));
}

TEST_F(AsyncClientTest, EvalLoadsAScriptTheServerLostAndRaisesScriptErrors) {
  AsyncClient& redis = Client();
  ScriptRegistry scripts;
  ASSERT_TRUE(scripts
                  .Register("set_get",
                            "redis.call('SET', KEYS[1], ARGV[1]) "
                            "return redis.call('GET', KEYS[1])")
                  .ok());
  ASSERT_TRUE(scripts.Register("fails", "return redis.error_reply('no such thing')").ok());
  ASSERT_TRUE(admin().Command({"SCRIPT", "FLUSH"}).ok());
  auto eval = [&](std::string name, std::string value) {
    return async::BlockOn(io_.context(), redis.Eval(scripts, name, {Key("k")}, {value}));
  };
  EXPECT_EQ(*eval("set_get", "one"), Reply::String("one"));
  EXPECT_EQ(*eval("set_get", "two"), Reply::String("two"));  // loaded now: EVALSHA alone
  absl::StatusOr<Reply> failed = eval("fails", "x");
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(failed.status().message()), HasSubstr("no such thing"));
  EXPECT_EQ(eval("unknown", "x").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(AsyncClientTest, KilledConnectionFailsWhatWaitsAndTheNextCommandReconnects) {
  AsyncClient& redis = Client(options(), 1);
  absl::StatusOr<Reply> id = Run(redis, {"CLIENT", "ID"});
  ASSERT_TRUE(id.ok()) << id.status();
  // A command waiting on the server when its connection is killed.
  auto blocked =
      asio::co_spawn(io_.context(), redis.Command({"BLPOP", Key("never"), "30"}), asio::use_future);
  // CLIENT KILL answers 0 until the BLPOP's connection is the one blocked.
  absl::Time deadline = absl::Now() + absl::Seconds(10);
  int64_t killed = 0;
  while (killed == 0 && absl::Now() < deadline) {
    auto reply = admin().Command({"CLIENT", "KILL", "ID", std::to_string(id->integer())});
    ASSERT_TRUE(reply.ok()) << reply.status();
    killed = reply->integer();
  }
  ASSERT_EQ(killed, 1);
  absl::StatusOr<Reply> lost = blocked.get();
  EXPECT_EQ(lost.status().code(), absl::StatusCode::kUnavailable) << lost.status();
  EXPECT_EQ(*Run(redis, {"PING"}), Reply::Status("PONG"));
}

TEST_F(AsyncClientTest, NoReplyWithinTheTimeoutIsUnavailableAndTheStaleReplyIsNeverSeen) {
  ConnectionOptions o = options();
  o.command_timeout = absl::Milliseconds(200);
  AsyncClient& redis = Client(o, 1);
  absl::Time start = absl::Now();
  absl::StatusOr<Reply> blocked = Run(redis, {"BLPOP", Key("never"), "30"});
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));  // the server would block for 30 s
  ASSERT_EQ(blocked.status().code(), absl::StatusCode::kUnavailable) << blocked.status();
  EXPECT_THAT(std::string(blocked.status().message()), HasSubstr("no reply within 200ms"));
  absl::StatusOr<Reply> pushed = Run(redis, {"RPUSH", Key("never"), "x"});
  ASSERT_TRUE(pushed.ok()) << pushed.status();
  EXPECT_EQ(*Run(redis, {"LPOP", Key("never")}), Reply::String("x"));
}

TEST_F(AsyncClientTest, UnreachableServerIsUnavailableAndRetriedOnlyAfterTheBackoff) {
  ConnectionOptions o = options();
  o.endpoint = {"127.0.0.1", 1};  // nothing listens on port 1
  o.reconnect_backoff = absl::Seconds(60);
  AsyncClient& redis = Client(o, 1);
  absl::StatusOr<Reply> first = Run(redis, {"PING"});
  ASSERT_EQ(first.status().code(), absl::StatusCode::kUnavailable) << first.status();
  EXPECT_THAT(std::string(first.status().message()), HasSubstr("cannot connect"));
  // Within the backoff the same error comes back without a new attempt.
  absl::StatusOr<Reply> second = Run(redis, {"PING"});
  EXPECT_EQ(second.status(), first.status());
}

}  // namespace
}  // namespace flywheel::redis
