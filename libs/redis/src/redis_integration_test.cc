// Against the real redis-server named by FLYWHEEL_TEST_REDIS.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "flywheel/redis/connection.h"
#include "flywheel/redis/error.h"
#include "flywheel/redis/pool.h"
#include "flywheel/redis/script_registry.h"
#include "flywheel/redis/testing/redis_test_env.h"

namespace flywheel::redis {
namespace {

using ::testing::HasSubstr;

class RedisIntegrationTest : public RedisTestEnv {
 protected:
  Connection Connect() {
    absl::StatusOr<Connection> conn = Connection::Connect(options());
    EXPECT_TRUE(conn.ok()) << conn.status();
    return *std::move(conn);
  }

  int64_t ClientId(Connection& conn) {
    absl::StatusOr<Reply> id = conn.Command({"CLIENT", "ID"});
    EXPECT_TRUE(id.ok()) << id.status();
    return id.ok() ? id->integer() : -1;
  }

  void Kill(int64_t client_id) {
    absl::StatusOr<Reply> killed =
        admin().Command({"CLIENT", "KILL", "ID", std::to_string(client_id)});
    ASSERT_TRUE(killed.ok()) << killed.status();
    ASSERT_EQ(killed->integer(), 1);
  }
};

TEST_F(RedisIntegrationTest, RepliesOfEachType) {
  Connection conn = Connect();
  EXPECT_EQ(*conn.Command({"PING"}), Reply::Status("PONG"));
  EXPECT_EQ(*conn.Command({"SET", Key("s"), "v"}), Reply::Status("OK"));
  EXPECT_EQ(*conn.Command({"GET", Key("s")}), Reply::String("v"));
  EXPECT_EQ(*conn.Command({"GET", Key("missing")}), Reply::Nil());
  EXPECT_EQ(*conn.Command({"INCRBY", Key("n"), "-5"}), Reply::Integer(-5));
  ASSERT_TRUE(conn.Command({"RPUSH", Key("l"), "a", "b"}).ok());
  EXPECT_EQ(*conn.Command({"LRANGE", Key("l"), "0", "-1"}),
            Reply::Array({Reply::String("a"), Reply::String("b")}));
  EXPECT_EQ(*conn.Command({"LRANGE", Key("missing"), "0", "-1"}), Reply::Array({}));
}

TEST_F(RedisIntegrationTest, ServerErrorBecomesStatusAndConnectionStaysUsable) {
  Connection conn = Connect();
  ASSERT_TRUE(conn.Command({"SET", Key("s"), "v"}).ok());
  absl::StatusOr<Reply> wrong = conn.Command({"LPUSH", Key("s"), "x"});
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(wrong.status().message()), HasSubstr("WRONGTYPE"));
  EXPECT_EQ(ServerErrorCode(wrong.status()), "WRONGTYPE");
  absl::StatusOr<Reply> unknown = conn.Command({"NOSUCHCOMMAND"});
  EXPECT_EQ(ServerErrorCode(unknown.status()), "ERR");
  EXPECT_FALSE(conn.broken());
  EXPECT_EQ(*conn.Command({"GET", Key("s")}), Reply::String("v"));
}

TEST_F(RedisIntegrationTest, NestedErrorInsideExecResult) {
  Connection conn = Connect();
  ASSERT_TRUE(conn.Command({"SET", Key("s"), "v"}).ok());
  ASSERT_TRUE(conn.Command({"MULTI"}).ok());
  ASSERT_TRUE(conn.Command({"INCR", Key("s")}).ok());  // QUEUED
  ASSERT_TRUE(conn.Command({"GET", Key("s")}).ok());
  absl::StatusOr<Reply> exec = conn.Command({"EXEC"});
  ASSERT_TRUE(exec.ok()) << exec.status();
  ASSERT_EQ(exec->elements().size(), 2u);
  EXPECT_TRUE(exec->elements()[0].is_error());
  EXPECT_THAT(exec->elements()[0].str(), HasSubstr("not an integer"));
  EXPECT_EQ(exec->elements()[1], Reply::String("v"));
}

TEST_F(RedisIntegrationTest, BinarySafeKeysAndValues) {
  Connection conn = Connect();
  std::string value;
  for (int i = 0; i < 256; ++i) value.push_back(static_cast<char>(i));
  value += std::string("\r\n$-1\r\n\0tail", 12);
  std::string key = Key(std::string("bin\0key\r\n", 9));
  ASSERT_TRUE(conn.Command({"SET", key, value}).ok());
  absl::StatusOr<Reply> got = conn.Command({"GET", key});
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_TRUE(got->is_string());
  EXPECT_EQ(got->str().size(), value.size());
  EXPECT_EQ(got->str(), value);
  EXPECT_EQ(*conn.Command({"STRLEN", key}), Reply::Integer(static_cast<int64_t>(value.size())));
  EXPECT_EQ(*conn.Command({"SET", Key("empty"), ""}), Reply::Status("OK"));
  EXPECT_EQ(*conn.Command({"GET", Key("empty")}), Reply::String(""));
}

TEST_F(RedisIntegrationTest, PipelineReturnsOneResultPerCommandInOrder) {
  Connection conn = Connect();
  int64_t id = ClientId(conn);
  std::vector<std::vector<std::string>> cmds;
  for (int i = 0; i < 100; ++i) cmds.push_back({"RPUSH", Key("l"), std::to_string(i)});
  cmds.push_back({"HSET", Key("h"), "f", "1"});
  cmds.push_back({"LPUSH", Key("h"), "x"});  // WRONGTYPE, in the middle
  cmds.push_back({});                        // empty, not sent
  cmds.push_back({"LLEN", Key("l")});
  cmds.push_back({"CLIENT", "ID"});
  std::vector<absl::StatusOr<Reply>> results = conn.Pipeline(cmds);
  ASSERT_EQ(results.size(), cmds.size());
  for (int i = 0; i < 100; ++i) EXPECT_EQ(*results[i], Reply::Integer(i + 1));
  EXPECT_EQ(*results[100], Reply::Integer(1));
  EXPECT_EQ(ServerErrorCode(results[101].status()), "WRONGTYPE");
  EXPECT_EQ(results[102].status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(*results[103], Reply::Integer(100));
  EXPECT_EQ(*results[104], Reply::Integer(id));  // same connection, no reconnect
}

TEST_F(RedisIntegrationTest, ReconnectsOnNextUseAfterServerKillsClient) {
  Connection conn = Connect();
  int64_t first_id = ClientId(conn);
  Kill(first_id);
  absl::StatusOr<Reply> broken = conn.Command({"PING"});
  ASSERT_FALSE(broken.ok());
  EXPECT_EQ(broken.status().code(), absl::StatusCode::kUnavailable) << broken.status();
  EXPECT_TRUE(conn.broken());
  absl::StatusOr<Reply> again = conn.Command({"PING"});
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*again, Reply::Status("PONG"));
  EXPECT_NE(ClientId(conn), first_id);
}

TEST_F(RedisIntegrationTest, LargeWriteToKilledConnectionIsUnavailableNotSigpipe) {
  Connection conn = Connect();
  Kill(ClientId(conn));
  // Several MB cannot fit the socket buffer: the write meets the peer's reset
  // (EPIPE), which must become a status rather than kill the process.
  std::string big(8 << 20, 'x');
  absl::StatusOr<Reply> r = conn.Command({"SET", Key("big"), big});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
  EXPECT_EQ(*conn.Command({"PING"}), Reply::Status("PONG"));
}

TEST_F(RedisIntegrationTest, PipelineOnKilledConnectionFailsEveryCommandThenRecovers) {
  Connection conn = Connect();
  Kill(ClientId(conn));
  std::vector<absl::StatusOr<Reply>> results = conn.Pipeline({{"PING"}, {"PING"}});
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(results[1].status().code(), absl::StatusCode::kUnavailable);
  results = conn.Pipeline({{"PING"}, {"PING"}});
  EXPECT_EQ(*results[0], Reply::Status("PONG"));
  EXPECT_EQ(*results[1], Reply::Status("PONG"));
}

TEST_F(RedisIntegrationTest, CommandTimeoutGivesUnavailableQuickly) {
  ConnectionOptions o = options();
  o.command_timeout = absl::Milliseconds(200);
  absl::StatusOr<Connection> conn = Connection::Connect(o);
  ASSERT_TRUE(conn.ok()) << conn.status();
  absl::Time start = absl::Now();
  absl::StatusOr<Reply> blocked = conn->Command({"BLPOP", Key("never"), "30"});
  absl::Duration took = absl::Now() - start;
  ASSERT_FALSE(blocked.ok());
  EXPECT_EQ(blocked.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(blocked.status().message()), HasSubstr("timed out"));
  EXPECT_LT(took, absl::Seconds(5));  // the server would block for 30 s
  EXPECT_TRUE(conn->broken());
  // The next use reconnects and does not see the stale BLPOP reply.
  ASSERT_TRUE(conn->Command({"RPUSH", Key("never"), "x"}).ok());
  EXPECT_EQ(*conn->Command({"LPOP", Key("never")}), Reply::String("x"));
}

TEST_F(RedisIntegrationTest, UnreachableServerIsUnavailable) {
  ConnectionOptions o = options();
  o.endpoint = {"127.0.0.1", 1};  // nothing listens on port 1
  o.connect_attempts = 2;
  o.reconnect_backoff = absl::Milliseconds(1);
  absl::StatusOr<Connection> conn = Connection::Connect(o);
  ASSERT_FALSE(conn.ok());
  EXPECT_EQ(conn.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(conn.status().message()), HasSubstr("127.0.0.1:1"));
}

TEST_F(RedisIntegrationTest, SelectsDbFromOptions) {
  ConnectionOptions o = options();
  o.db = 3;
  absl::StatusOr<Connection> conn = Connection::Connect(o);
  ASSERT_TRUE(conn.ok()) << conn.status();
  ASSERT_TRUE(conn->Command({"SET", Key("db3"), "x"}).ok());
  EXPECT_EQ(*admin().Command({"GET", Key("db3")}), Reply::Nil());  // admin is on db 0
  // Reconnect keeps the db.
  Kill(ClientId(*conn));
  EXPECT_FALSE(conn->Command({"PING"}).ok());
  EXPECT_EQ(*conn->Command({"GET", Key("db3")}), Reply::String("x"));
  ASSERT_TRUE(conn->Command({"DEL", Key("db3")}).ok());
}

TEST_F(RedisIntegrationTest, WrongPasswordIsPermissionDeniedWithoutRetrying) {
  ConnectionOptions o = options();
  o.username = "nosuchuser";
  o.password = "wrong";
  absl::StatusOr<Connection> conn = Connection::Connect(o);
  ASSERT_FALSE(conn.ok());
  EXPECT_EQ(conn.status().code(), absl::StatusCode::kPermissionDenied) << conn.status();
  EXPECT_THAT(std::string(conn.status().message()), HasSubstr("AUTH"));
}

TEST_F(RedisIntegrationTest, PoolUnderSeveralThreads) {
  PoolOptions p;
  p.connection = options();
  p.capacity = 3;
  absl::StatusOr<std::unique_ptr<Pool>> pool = Pool::Create(p);
  ASSERT_TRUE(pool.ok()) << pool.status();
  constexpr int kThreads = 8;
  constexpr int kIncrements = 200;
  std::atomic<int> failures{0};
  std::atomic<int> max_leased{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kIncrements; ++i) {
        absl::StatusOr<Pool::Lease> lease = (*pool)->Acquire(absl::Seconds(5));
        if (!lease.ok()) {
          ++failures;
          continue;
        }
        int now = static_cast<int>((*pool)->leased());
        int seen = max_leased.load();
        while (now > seen && !max_leased.compare_exchange_weak(seen, now)) {
        }
        if (!(*lease)->Command({"INCR", Key("counter")}).ok()) ++failures;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_LE(max_leased.load(), 3);
  EXPECT_EQ((*pool)->leased(), 0u);
  EXPECT_EQ(*admin().Command({"GET", Key("counter")}),
            Reply::String(std::to_string(kThreads * kIncrements)));
}

TEST_F(RedisIntegrationTest, PoolAcquireTimesOutWhenAllLeased) {
  PoolOptions p;
  p.connection = options();
  p.capacity = 1;
  std::unique_ptr<Pool> pool = *Pool::Create(p);
  absl::StatusOr<Pool::Lease> held = pool->Acquire(absl::Seconds(1));
  ASSERT_TRUE(held.ok()) << held.status();
  absl::StatusOr<Pool::Lease> second = pool->Acquire(absl::Milliseconds(50));
  EXPECT_EQ(second.status().code(), absl::StatusCode::kDeadlineExceeded);
  // A waiter gets the connection as soon as it is given back.
  std::thread releaser(
      [lease = std::move(*held)]() mutable { Pool::Lease gone = std::move(lease); });
  absl::StatusOr<Pool::Lease> third = pool->Acquire(absl::Seconds(5));
  releaser.join();
  ASSERT_TRUE(third.ok()) << third.status();
  EXPECT_EQ(*(*third)->Command({"PING"}), Reply::Status("PONG"));
}

TEST_F(RedisIntegrationTest, PoolReconnectsABrokenConnectionBeforeReuse) {
  PoolOptions p;
  p.connection = options();
  p.capacity = 1;
  std::unique_ptr<Pool> pool = *Pool::Create(p);
  int64_t first_id;
  {
    absl::StatusOr<Pool::Lease> lease = pool->Acquire(absl::Seconds(1));
    ASSERT_TRUE(lease.ok()) << lease.status();
    first_id = ClientId(**lease);
    Kill(first_id);
    EXPECT_FALSE((*lease)->Command({"PING"}).ok());  // now marked broken
  }
  absl::StatusOr<Pool::Lease> lease = pool->Acquire(absl::Seconds(1));
  ASSERT_TRUE(lease.ok()) << lease.status();
  EXPECT_FALSE((*lease)->broken());
  EXPECT_NE(ClientId(**lease), first_id);
}

TEST_F(RedisIntegrationTest, ScriptRegistryRunsAndRecoversFromScriptFlush) {
  ScriptRegistry scripts;
  // Atomic multi-key step: move a member between two sets, return the new sizes.
  const std::string source =
      "local moved = redis.call('SMOVE', KEYS[1], KEYS[2], ARGV[1])\n"
      "return {moved, redis.call('SCARD', KEYS[1]), redis.call('SCARD', KEYS[2])}";
  ASSERT_TRUE(scripts.Register("move", source).ok());
  Connection conn = Connect();
  ASSERT_TRUE(conn.Command({"SADD", Key("from"), "a", "b"}).ok());

  // The server names the script with the same SHA1 we computed.
  absl::StatusOr<Reply> sha = admin().Command({"SCRIPT", "LOAD", source});
  ASSERT_TRUE(sha.ok()) << sha.status();
  EXPECT_EQ(sha->str(), *scripts.Sha1("move"));

  ASSERT_TRUE(admin().Command({"SCRIPT", "FLUSH"}).ok());
  absl::StatusOr<Reply> r = scripts.Eval(conn, "move", {Key("from"), Key("to")}, {"a"});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, Reply::Array({Reply::Integer(1), Reply::Integer(1), Reply::Integer(1)}));
  EXPECT_EQ(*conn.Command({"SCRIPT", "EXISTS", *scripts.Sha1("move")}),
            Reply::Array({Reply::Integer(1)}));

  r = scripts.Eval(conn, "move", {Key("from"), Key("to")}, {"b"});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, Reply::Array({Reply::Integer(1), Reply::Integer(0), Reply::Integer(2)}));
}

TEST_F(RedisIntegrationTest, ScriptErrorIsAStatusWithTheScriptMessage) {
  ScriptRegistry scripts;
  ASSERT_TRUE(scripts.Register("fail", "return redis.error_reply('BADSTEP step refused')").ok());
  Connection conn = Connect();
  absl::StatusOr<Reply> r = scripts.Eval(conn, "fail", {Key("k")}, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("step refused"));
  EXPECT_FALSE(conn.broken());
}

TEST_F(RedisIntegrationTest, EvalManyRunsEveryCallInOrderInOneRoundTripEvenAfterAFlush) {
  ScriptRegistry scripts;
  ASSERT_TRUE(scripts.Register("push", "return redis.call('RPUSH', KEYS[1], ARGV[1])").ok());
  ASSERT_TRUE(scripts.Register("fail", "return redis.error_reply('BADSTEP refused')").ok());
  Connection conn = Connect();
  ASSERT_TRUE(admin().Command({"SCRIPT", "FLUSH"}).ok());
  std::vector<ScriptRegistry::Call> calls;
  for (const char* v : {"a", "b", "c"}) calls.push_back({.keys = {Key("list")}, .args = {v}});
  std::vector<absl::StatusOr<Reply>> replies = scripts.EvalMany(conn, "push", calls);
  ASSERT_EQ(replies.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(replies[i].ok()) << replies[i].status();
    EXPECT_EQ(*replies[i], Reply::Integer(i + 1)) << "run once each, in order";
  }
  EXPECT_EQ(*conn.Command({"LRANGE", Key("list"), "0", "-1"}),
            Reply::Array({Reply::String("a"), Reply::String("b"), Reply::String("c")}));

  // One call's failure is its own; the others still run.
  std::vector<absl::StatusOr<Reply>> failed = scripts.EvalMany(conn, "fail", {{}, {}});
  ASSERT_EQ(failed.size(), 2u);
  EXPECT_EQ(failed[0].status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(scripts.EvalMany(conn, "nope", {{}, {}})[1].status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_FALSE(conn.broken());
}

TEST_F(RedisIntegrationTest, LoadAllMakesScriptsExist) {
  ScriptRegistry scripts;
  ASSERT_TRUE(scripts.Register("one", "return 1").ok());
  ASSERT_TRUE(admin().Command({"SCRIPT", "FLUSH"}).ok());
  ASSERT_TRUE(scripts.LoadAll(admin()).ok());
  EXPECT_EQ(*admin().Command({"SCRIPT", "EXISTS", *scripts.Sha1("one")}),
            Reply::Array({Reply::Integer(1)}));
}

}  // namespace
}  // namespace flywheel::redis
