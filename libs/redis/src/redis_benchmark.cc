// Pipelined writes per second against FLYWHEEL_TEST_REDIS, at batch sizes
// 1, 16 and 128 (one round trip per batch).

#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "flywheel/core/id.h"
#include "flywheel/redis/connection.h"
#include "flywheel/redis/testing/redis_test_env.h"

namespace flywheel::redis {
namespace {

void RunPipelined(benchmark::State& state, bool hash) {
  absl::StatusOr<Endpoint> endpoint = TestRedisEndpointFromEnv();
  if (!endpoint.ok()) {
    state.SkipWithError(std::string(endpoint.status().message()).c_str());
    return;
  }
  ConnectionOptions options;
  options.endpoint = *endpoint;
  absl::StatusOr<Connection> conn = Connection::Connect(options);
  if (!conn.ok()) {
    state.SkipWithError(std::string(conn.status().ToString()).c_str());
    return;
  }
  const int batch = static_cast<int>(state.range(0));
  const std::string prefix = "bench:{" + NewRandomId() + "}:";
  const std::string value(64, 'v');
  std::vector<std::vector<std::string>> commands(batch);
  int64_t n = 0;
  for (auto _ : state) {
    for (int i = 0; i < batch; ++i, ++n) {
      std::string field = std::to_string(n % 1024);
      commands[i] = hash ? std::vector<std::string>{"HSET", prefix + "h", field, value}
                         : std::vector<std::string>{"SET", prefix + field, value};
    }
    std::vector<absl::StatusOr<Reply>> results = conn->Pipeline(commands);
    for (const absl::StatusOr<Reply>& r : results) {
      if (!r.ok()) {
        state.SkipWithError(std::string(r.status().ToString()).c_str());
        return;
      }
    }
    benchmark::DoNotOptimize(results);
  }
  state.SetItemsProcessed(state.iterations() * batch);
  // Clean up this run's keys.
  std::vector<std::vector<std::string>> cleanup = {{"UNLINK", prefix + "h"}};
  for (int i = 0; i < 1024; ++i) cleanup.push_back({"UNLINK", prefix + std::to_string(i)});
  conn->Pipeline(cleanup);
}

void BM_PipelinedSet(benchmark::State& state) { RunPipelined(state, /*hash=*/false); }
void BM_PipelinedHset(benchmark::State& state) { RunPipelined(state, /*hash=*/true); }

// Real time: the work is mostly waiting on the server, not CPU.
BENCHMARK(BM_PipelinedSet)->Arg(1)->Arg(16)->Arg(128)->UseRealTime();
BENCHMARK(BM_PipelinedHset)->Arg(1)->Arg(16)->Arg(128)->UseRealTime();

}  // namespace
}  // namespace flywheel::redis
