#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace flywheel::kafka {

struct TopicSpec {
  std::string name;
  int partitions = 3;
  int replication_factor = 1;
};

/// Creates the topics that do not exist yet; existing ones are left as they
/// are. Used at start-up by `flywheel dev` and by tests.
absl::Status EnsureTopics(const std::string& bootstrap_servers,
                          const std::vector<TopicSpec>& topics,
                          std::chrono::milliseconds timeout = std::chrono::seconds(30));

}  // namespace flywheel::kafka
