// Produce throughput to a real broker (FLYWHEEL_TEST_KAFKA): asynchronous
// sends of CloudEvents-sized records with acks=all and idempotence, measured
// until every record is acknowledged.
#include <benchmark/benchmark.h>

#include <atomic>

#include "flywheel/kafka/producer.h"
#include "flywheel/kafka/testing/kafka_test_env.h"

namespace flywheel::kafka {
namespace {

// Records sent per iteration before waiting for every acknowledgement.
constexpr int kBatch = 10'000;

void BM_ProduceAcknowledged(benchmark::State& state) {
  auto servers = testing::BootstrapServers();
  if (!servers.ok()) {
    state.SkipWithError(std::string(servers.status().message()).c_str());
    return;
  }
  auto topic = testing::CreateUniqueTopic(*servers, "bench", 3);
  auto producer = Producer::Create({.bootstrap_servers = *servers});
  if (!topic.ok() || !producer.ok()) {
    state.SkipWithError("cannot create topic or producer");
    return;
  }
  const std::string value(static_cast<size_t>(state.range(0)), 'x');
  // Connect, fetch metadata and acquire the idempotent producer id before
  // timing: a service pays that once at start-up, not per record.
  if (!(*producer)->SendAndWait(Record{.topic = *topic, .key = "warm-up", .value = value}).ok()) {
    state.SkipWithError("warm-up send failed");
    return;
  }
  std::atomic<int64_t> failed{0};
  int64_t sent = 0;
  for (auto _ : state) {
    for (int i = 0; i < kBatch; ++i) {
      (*producer)->Send(
          Record{.topic = *topic,
                 .key = "req_" + std::to_string(sent % 1024),
                 .value = value,
                 .headers = {{"ce_specversion", "1.0"}, {"ce_type", "dev.flywheel.bench.v1"}}},
          [&failed](const absl::Status& st, const Record&) {
            if (!st.ok()) failed++;
          });
      ++sent;
    }
    if (!(*producer)->Flush(std::chrono::seconds(60)).ok()) state.SkipWithError("flush timed out");
  }
  if (failed > 0) state.SkipWithError("some records failed");
  state.SetItemsProcessed(sent);
  state.SetBytesProcessed(sent * state.range(0));
}
BENCHMARK(BM_ProduceAcknowledged)
    ->Arg(256)
    ->Arg(1024)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace flywheel::kafka
