// A consumer-group member for crash tests: consumer_test starts it as a child
// process and kills it with SIGKILL while it has work in flight.
//
//   kafka_window_member SERVERS TOPIC DEAD_LETTER_TOPIC GROUP HOLD_FROM MARKER
//
// Events are named `e<N>`. Those below HOLD_FROM are done at once; the first
// batch that starts at or above it is held in flight (its completion is
// never called) and MARKER is created to say so. Offsets are auto-committed
// every 100 ms, so the committed offset reaches HOLD_FROM soon after.

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "flywheel/kafka/consumer.h"

namespace {

int Number(const std::string& id) { return std::atoi(id.c_str() + 1); }

}  // namespace

int main(int argc, char** argv) {
  if (argc != 7) {
    std::fprintf(stderr, "usage: %s SERVERS TOPIC DLQ GROUP HOLD_FROM MARKER\n", argv[0]);
    return 2;
  }
  const int hold_from = std::atoi(argv[5]);
  const std::string marker = argv[6];
  std::mutex mu;
  std::vector<flywheel::kafka::BatchDone> held;  // kept, so never completed nor dropped

  flywheel::kafka::ConsumerOptions options{.bootstrap_servers = argv[1],
                                           .group_id = argv[4],
                                           // As consumer_test's restarted member.
                                           .group_instance_id = "window-member",
                                           .topics = {argv[2]},
                                           .dead_letter_topic = argv[3],
                                           .handler_name = "test.window_member",
                                           .max_batch_events = 5,
                                           .properties = {{"auto.commit.interval.ms", "100"}}};
  auto consumer = flywheel::kafka::Consumer::Create(
      options, [&](flywheel::kafka::EventBatch batch, flywheel::kafka::BatchDone done) {
        std::vector<absl::Status> statuses;
        for (const auto& consumed : batch.events) {
          if (Number(consumed.event.id) >= hold_from) break;
          statuses.push_back(absl::OkStatus());
        }
        if (!statuses.empty()) {
          // The rest, if any, comes back at once as a batch of its own.
          done(std::move(statuses));
          return;
        }
        std::lock_guard lock(mu);
        held.push_back(std::move(done));
        std::ofstream(marker) << "holding " << batch.events.front().event.id << "\n";
      });
  if (!consumer.ok() || !(*consumer)->Start().ok()) {
    std::fprintf(stderr, "consumer did not start\n");
    return 1;
  }
  // Killed long before this.
  absl::SleepFor(absl::Minutes(2));
  return 3;
}
