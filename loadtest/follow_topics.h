// Following the platform's topics from a load generator: a fresh consumer
// group that starts at the topics' ends, so it sees only what this run causes.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "flywheel/kafka/consumer.h"

namespace flywheel::loadtest {

/// Hands every event published to `topics` from now on to `handle` (on the
/// consumer's threads, so it must be thread-safe). Returns once the group
/// has its partitions and has looked up where they end.
absl::StatusOr<std::unique_ptr<kafka::Consumer>> FollowTopics(
    const std::string& bootstrap_servers, const std::vector<std::string>& topics,
    std::function<void(const kafka::CloudEvent&)> handle);

}  // namespace flywheel::loadtest
