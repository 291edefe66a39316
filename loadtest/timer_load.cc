// flywheel-loadtest-timers: load on the scheduler's timer store and its
// claimers, measured as a user of timers sees it (--mode):
//
//   arm   arms --timers SLA timers through the scheduler's Redis store, as
//         many in flight as --in_flight, due weeks from now; reports timers
//         armed per second and Redis memory per armed timer (used_memory
//         before and after, over the count).
//   due   arms --rate x --seconds timers whose due times follow one another
//         at --rate per second, starting once all are armed, then follows
//         the SLA topic while the scheduler replicas running on the same
//         Redis key prefix and topics fire them: fire lag (arrival of the
//         sla.breached minus its due time) percentiles, and points that
//         arrived twice (double fires) or never.
//
// One JSON object goes to stdout with --json.
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <map>
#include <mutex>

#include "absl/container/flat_hash_map.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "flywheel/async/io_threads.h"
#include "flywheel/async/spawn.h"
#include "flywheel/core/id.h"
#include "flywheel/core/proto_time.h"
#include "flywheel/events/catalog.h"
#include "flywheel/redis/async_client.h"
#include "flywheel/redis/connection.h"
#include "flywheel/redis/endpoint.h"
#include "flywheel/scheduler/v1/events.pb.h"
#include "follow_topics.h"
#include "redis_timer_store.h"
#include "samples.h"

ABSL_FLAG(std::string, mode, "arm", "arm or due");
ABSL_FLAG(std::string, redis, "127.0.0.1:6379", "Redis host:port");
ABSL_FLAG(std::string, key_prefix, "", "the scheduler's redis.key_prefix");
ABSL_FLAG(std::string, kafka, "", "bootstrap servers (due)");
ABSL_FLAG(std::string, topic_prefix, "", "the scheduler's kafka.topic_prefix (due)");
ABSL_FLAG(int64_t, timers, 100000, "timers to arm (arm)");
ABSL_FLAG(int, in_flight, 512, "arms in flight at once");
ABSL_FLAG(double, rate, 10000, "timers due per second (due)");
ABSL_FLAG(double, seconds, 10, "how long timers keep falling due (due)");
ABSL_FLAG(bool, json, false, "print the results as one JSON object on stdout");

namespace flywheel::loadtest {
namespace {

using scheduler::FirePoint;
using scheduler::PointKind;
using scheduler::RedisTimerStore;
using scheduler::TimerArm;

// A timer as routing arms one for a stage: an intake-style request id and
// a stage timer id under it.
TimerArm MakeArm(const std::string& run, int64_t n, absl::Time due) {
  TimerArm arm;
  arm.tenant_id = "acme";
  const std::string request = absl::StrCat("req_", run, absl::Hex(n, absl::kZeroPad16));
  arm.timer_id = absl::StrCat(request, "/stage/creation/1");
  arm.spec.request_id = request;
  arm.spec.kind = common::v1::TIMER_KIND_STAGE_SLA;
  arm.spec.stage_id = "creation";
  arm.spec.calendar_id = "always_open";
  arm.spec.duration = absl::Hours(24);
  arm.spec.start_time = due - absl::Hours(24);
  arm.next = {.kind = PointKind::kBreach, .escalation_level = 0, .due = due};
  return arm;
}

// Arms one timer; takes `arm` by value so it lives as long as the
// coroutine (the store's Arm takes a reference).
asio::awaitable<absl::StatusOr<scheduler::StoredTimer>> ArmOne(RedisTimerStore& store,
                                                               TimerArm arm) {
  co_return co_await store.Arm(arm);
}

// Redis's used_memory, in bytes.
absl::StatusOr<int64_t> UsedMemory(const redis::Endpoint& endpoint) {
  auto connection = redis::Connection::Connect({.endpoint = endpoint});
  if (!connection.ok()) return connection.status();
  auto info = connection->Command({"INFO", "memory"});
  if (!info.ok()) return info.status();
  auto text_or = info->AsString();
  if (!text_or.ok()) return text_or.status();
  const std::string& text = *text_or;
  const size_t at = text.find("used_memory:");
  if (at == std::string::npos) return absl::InternalError("INFO memory has no used_memory");
  return std::stoll(text.substr(at + 12));
}

// Arms `count` timers, due at `due(n)`, `in_flight` at a time; returns the
// seconds it took.
absl::StatusOr<double> ArmAll(async::IoThreads& io, RedisTimerStore& store, const std::string& run,
                              int64_t count, const std::function<absl::Time(int64_t)>& due) {
  std::atomic<int64_t> next{0}, failed{0};
  std::mutex mu;
  std::condition_variable finished;
  int lanes = absl::GetFlag(FLAGS_in_flight);
  int running = lanes;
  const absl::Time start = absl::Now();
  std::function<void()> arm_next = [&] {
    const int64_t n = next++;
    if (n >= count) {
      std::lock_guard lock(mu);
      if (--running == 0) finished.notify_one();
      return;
    }
    async::Spawn(io.context(), ArmOne(store, MakeArm(run, n, due(n))),
                 [&](absl::StatusOr<scheduler::StoredTimer> armed) {
                   if (!armed.ok() && ++failed <= 3) {
                     std::fprintf(stderr, "arm failed: %s\n", armed.status().ToString().c_str());
                   }
                   arm_next();
                 });
  };
  for (int i = 0; i < lanes; ++i) arm_next();
  std::unique_lock lock(mu);
  finished.wait(lock, [&] { return running == 0; });
  if (failed > 0) return absl::UnavailableError(absl::StrCat(failed.load(), " arms failed"));
  return absl::ToDoubleSeconds(absl::Now() - start);
}

int Run() {
  const std::string mode = absl::GetFlag(FLAGS_mode);
  auto endpoint = redis::ParseEndpoint(absl::GetFlag(FLAGS_redis));
  if (!endpoint.ok() || (mode != "arm" && mode != "due")) {
    std::fprintf(stderr, "--redis must be host:port and --mode arm or due\n");
    return 2;
  }
  async::IoThreads io(2);
  auto client = redis::AsyncClient::Create(
      io.context(), {.connection = {.endpoint = *endpoint}, .connections = 4});
  if (!client.ok()) return 1;
  auto store = RedisTimerStore::Create(**client, {.key_prefix = absl::GetFlag(FLAGS_key_prefix)});
  if (!store.ok()) return 1;
  const std::string run = NewRandomId().substr(0, 8);
  std::string json = absl::StrCat("\"mode\": \"", mode, "\"");

  if (mode == "arm") {
    const int64_t count = absl::GetFlag(FLAGS_timers);
    auto before = UsedMemory(*endpoint);
    const absl::Time far = absl::Now() + absl::Hours(24 * 30);
    auto seconds = ArmAll(io, **store, run, count,
                          [&](int64_t n) { return far + absl::Milliseconds(n % 86'400'000); });
    auto after = UsedMemory(*endpoint);
    if (!seconds.ok() || !before.ok() || !after.ok()) {
      std::fprintf(stderr, "arming failed\n");
      return 1;
    }
    const double per_timer = static_cast<double>(*after - *before) / count;
    std::fprintf(stderr, "armed %lld timers in %.2f s (%.0f/s), %.0f bytes of Redis each\n",
                 static_cast<long long>(count), *seconds, count / *seconds, per_timer);
    absl::StrAppend(&json, ", \"timers\": ", count, ", \"seconds\": ", *seconds,
                    ", \"rate\": ", count / *seconds, ", \"bytes_per_timer\": ", per_timer);
  } else {
    const double rate = absl::GetFlag(FLAGS_rate);
    const int64_t count = static_cast<int64_t>(rate * absl::GetFlag(FLAGS_seconds));
    absl::Mutex mu;
    absl::flat_hash_map<std::string, int> seen;  // event id -> arrivals
    Samples lag;
    // The worst lag of the points due in each second of the run: where in
    // the run the lag builds (a stall at the start, or throughout).
    std::map<int64_t, double> worst_by_second;
    auto follower = FollowTopics(absl::GetFlag(FLAGS_kafka),
                                 {absl::GetFlag(FLAGS_topic_prefix) + events::kSlaTopic},
                                 [&](const kafka::CloudEvent& e) {
                                   if (e.type != events::kSlaBreached) return;
                                   scheduler::v1::SlaBreached breached;
                                   if (!breached.ParseFromString(e.data)) return;
                                   if (breached.request_id().find(run) == std::string::npos) return;
                                   const absl::Time now = absl::Now();
                                   absl::MutexLock lock(&mu);
                                   if (++seen[e.id] == 1) {
                                     const absl::Time due = FromProtoTime(breached.due_time());
                                     const double late = absl::ToDoubleSeconds(now - due);
                                     lag.Add(late);
                                     double& worst = worst_by_second[absl::ToUnixSeconds(due)];
                                     worst = std::max(worst, late);
                                   }
                                 });
    if (!follower.ok()) {
      std::fprintf(stderr, "cannot follow the SLA topic: %s\n",
                   follower.status().ToString().c_str());
      return 1;
    }
    // Due from a moment after arming ends: arming runs at tens of thousands
    // a second, so count / 20,000 s plus a margin.
    const absl::Time first_due =
        absl::Now() + absl::Seconds(2) + absl::Seconds(static_cast<double>(count) / 20'000);
    auto armed = ArmAll(io, **store, run, count,
                        [&](int64_t n) { return first_due + absl::Seconds(n / rate); });
    if (!armed.ok()) {
      std::fprintf(stderr, "arming failed: %s\n", armed.status().ToString().c_str());
      return 1;
    }
    if (absl::Now() > first_due) std::fprintf(stderr, "arming ended after the first due time\n");
    const absl::Time last_due = first_due + absl::Seconds((count - 1) / rate);
    const absl::Time give_up = last_due + absl::Seconds(60);
    auto received = [&] {
      absl::MutexLock lock(&mu);
      return static_cast<int64_t>(seen.size());
    };
    while (received() < count && absl::Now() < give_up) absl::SleepFor(absl::Milliseconds(50));
    // Late doubles: a lease that ended while its holder was still publishing.
    absl::SleepFor(absl::Seconds(1));
    (*follower)->Stop();
    int64_t doubled = 0;
    {
      absl::MutexLock lock(&mu);
      for (const auto& [id, arrivals] : seen) doubled += arrivals > 1;
    }
    lag.Print("fire lag");
    std::string by_second;
    {
      absl::MutexLock lock(&mu);
      for (const auto& [second, worst] : worst_by_second) {
        absl::StrAppend(&by_second, by_second.empty() ? "" : " ",
                        second - worst_by_second.begin()->first, ":",
                        static_cast<int64_t>(worst * 1000));
      }
    }
    std::fprintf(stderr, "worst lag in ms by second of due time: %s\n", by_second.c_str());
    std::fprintf(stderr, "fired %lld of %lld, %lld more than once\n",
                 static_cast<long long>(received()), static_cast<long long>(count),
                 static_cast<long long>(doubled));
    absl::StrAppend(&json, ", \"timers\": ", count, ", \"rate\": ", rate,
                    ", \"arm_seconds\": ", *armed, ", \"fired\": ", received(),
                    ", \"never_fired\": ", count - received(), ", \"fired_twice\": ", doubled,
                    ", \"lag\": {", lag.Json(), "}");
  }
  if (absl::GetFlag(FLAGS_json)) std::printf("{%s}\n", json.c_str());
  io.Stop();
  return 0;
}

}  // namespace
}  // namespace flywheel::loadtest

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  return flywheel::loadtest::Run();
}
