#include "follow_topics.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "flywheel/core/id.h"

namespace flywheel::loadtest {

absl::StatusOr<std::unique_ptr<kafka::Consumer>> FollowTopics(
    const std::string& bootstrap_servers, const std::vector<std::string>& topics,
    std::function<void(const kafka::CloudEvent&)> handle) {
  const std::string group = "loadtest-" + NewRandomId().substr(0, 10);
  auto consumer =
      kafka::Consumer::Create({.bootstrap_servers = bootstrap_servers,
                               .group_id = group,
                               .topics = topics,
                               .dead_letter_topic = topics.front() + ".loadtest-unused",
                               .handler_name = "loadtest.follow",
                               .properties = {{"auto.offset.reset", "latest"}}},
                              [handle = std::move(handle)](const kafka::ConsumedEvent& consumed) {
                                handle(consumed.event);
                                return absl::OkStatus();
                              });
  if (!consumer.ok()) return consumer.status();
  if (absl::Status started = (*consumer)->Start(); !started.ok()) return started;
  const absl::Time give_up = absl::Now() + absl::Seconds(30);
  while (!(*consumer)->HasAssignment()) {
    if (absl::Now() > give_up) {
      return absl::DeadlineExceededError(
          absl::StrCat("group ", group, " got no partitions of ", topics.front(), " in 30 s"));
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  // The assignment is in place; give the fetcher a moment to resolve
  // "latest" before load starts, or the first events could be skipped.
  absl::SleepFor(absl::Seconds(2));
  return consumer;
}

}  // namespace flywheel::loadtest
