// flywheel-loadtest-consume: a no-op kafka::BatchHandler reading a topic from
// the start, to compare with kcat's raw consume of the same topic.
//
//   flywheel-loadtest-consume --kafka=HOST:PORT --topic=T --create --partitions=12
//       creates T (if missing) and exits
//   flywheel-loadtest-consume --kafka=HOST:PORT --topic=T --events=N
//       joins a fresh group, completes every batch at once, exits after N
//       events; prints one JSON object: events, seconds from the group's
//       assignment to the last event, events/s, batches
#include <algorithm>
#include <atomic>
#include <cstdio>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "flywheel/core/id.h"
#include "flywheel/kafka/admin.h"
#include "flywheel/kafka/consumer.h"

ABSL_FLAG(std::string, kafka, "", "bootstrap servers");
ABSL_FLAG(std::string, topic, "", "topic to read (or create)");
ABSL_FLAG(bool, create, false, "create the topic and exit");
ABSL_FLAG(int, partitions, 12, "partitions of a topic made with --create");
ABSL_FLAG(int64_t, events, 0, "exit after this many events");
ABSL_FLAG(int, concurrency, 12, "the consumer's handler lanes");
ABSL_FLAG(absl::Duration, timeout, absl::Minutes(5), "give up after this long");

namespace flywheel::loadtest {
namespace {

int Create(const std::string& kafka, const std::string& topic) {
  absl::Status status =
      kafka::EnsureTopics(kafka, {{.name = topic, .partitions = absl::GetFlag(FLAGS_partitions)}});
  if (!status.ok()) {
    std::fprintf(stderr, "cannot create %s: %s\n", topic.c_str(), status.ToString().c_str());
    return 1;
  }
  return 0;
}

int Consume(const std::string& kafka, const std::string& topic, int64_t wanted) {
  std::atomic<int64_t> seen{0}, batches{0};
  absl::Mutex mu;
  absl::Time first = absl::InfiniteFuture();
  absl::Notification all_seen;
  auto consumer = kafka::Consumer::Create(
      {.bootstrap_servers = kafka,
       .group_id = "loadtest-noop-" + NewRandomId().substr(0, 10),
       .topics = {topic},
       .dead_letter_topic = topic + ".loadtest-unused",
       .handler_name = "loadtest.noop",
       .concurrency = absl::GetFlag(FLAGS_concurrency)},
      kafka::BatchHandler([&](kafka::EventBatch batch, kafka::BatchDone done) {
        const auto n = static_cast<int64_t>(batch.events.size());
        if (batches.fetch_add(1) == 0) {
          absl::MutexLock lock(&mu);
          first = std::min(first, absl::Now());
        }
        done(std::vector<absl::Status>(batch.events.size()));
        if (seen.fetch_add(n) + n >= wanted && !all_seen.HasBeenNotified()) all_seen.Notify();
      }));
  if (!consumer.ok()) {
    std::fprintf(stderr, "%s\n", consumer.status().ToString().c_str());
    return 1;
  }
  const absl::Time started = absl::Now();
  if (absl::Status st = (*consumer)->Start(); !st.ok()) {
    std::fprintf(stderr, "%s\n", st.ToString().c_str());
    return 1;
  }
  const absl::Time give_up = started + absl::GetFlag(FLAGS_timeout);
  while (!(*consumer)->HasAssignment() && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  const absl::Time assigned = absl::Now();
  const bool done = all_seen.WaitForNotificationWithDeadline(give_up);
  const absl::Time last = absl::Now();
  (*consumer)->Stop();
  const double seconds = absl::ToDoubleSeconds(last - assigned);
  absl::MutexLock lock(&mu);
  std::printf(
      "{\"events\": %lld, \"batches\": %lld, \"seconds\": %.4f, \"rate\": %.1f, "
      "\"seconds_to_assignment\": %.4f, \"seconds_first_to_last\": %.4f, \"complete\": %s}\n",
      static_cast<long long>(seen.load()), static_cast<long long>(batches.load()), seconds,
      seen.load() / seconds, absl::ToDoubleSeconds(assigned - started),
      absl::ToDoubleSeconds(last - first), done ? "true" : "false");
  return done ? 0 : 1;
}

}  // namespace
}  // namespace flywheel::loadtest

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  const std::string kafka = absl::GetFlag(FLAGS_kafka), topic = absl::GetFlag(FLAGS_topic);
  if (kafka.empty() || topic.empty()) {
    std::fprintf(stderr, "--kafka and --topic are required\n");
    return 2;
  }
  if (absl::GetFlag(FLAGS_create)) return flywheel::loadtest::Create(kafka, topic);
  return flywheel::loadtest::Consume(kafka, topic, absl::GetFlag(FLAGS_events));
}
