#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace flywheel::kafka {

struct TopicSpec {
  std::string name;
  int partitions = 3;
  int replication_factor = 1;
  /// Topic-level configs (`retention.ms`, `max.message.bytes`, ...); the
  /// broker's defaults for what is not named.
  std::map<std::string, std::string> configs;
};

/// How long EnsureTopics waits by default.
inline constexpr std::chrono::milliseconds kEnsureTopicsTimeout = std::chrono::seconds(30);

/// Creates the topics that do not exist yet; existing ones are left as they
/// are. Returns once every topic shows in the cluster's metadata with its
/// partitions, so what starts producing next finds them (DEADLINE_EXCEEDED
/// when they do not within `timeout`). Used at start-up by every service
/// and by tests.
/// `properties` are librdkafka properties for the admin client (TLS, SASL).
absl::Status EnsureTopics(const std::string& bootstrap_servers,
                          const std::vector<TopicSpec>& topics,
                          std::chrono::milliseconds timeout = kEnsureTopicsTimeout,
                          const std::map<std::string, std::string>& properties = {});

/// How many records each partition of `topic` holds now: its high watermark
/// minus its low watermark, by partition. For tests and operator tools.
absl::StatusOr<std::map<int32_t, int64_t>> RecordCounts(
    const std::string& bootstrap_servers, const std::string& topic,
    std::chrono::milliseconds timeout = std::chrono::seconds(10));

/// The offsets `group` has committed on `topic` (the next offset each
/// partition will be read from), by partition; partitions without a
/// committed offset are left out. Does not join the group. For tests and
/// operator tools.
absl::StatusOr<std::map<int32_t, int64_t>> CommittedOffsets(
    const std::string& bootstrap_servers, const std::string& group, const std::string& topic,
    std::chrono::milliseconds timeout = std::chrono::seconds(10));

/// The last value of every key of `topic`, read from its start up to the
/// end it had when called: what a compacted topic holds. A key whose last
/// record is a tombstone (a null value) is left out. DEADLINE_EXCEEDED when
/// the end is not reached within `timeout`. Blocks; for start-up rebuilds
/// and operator tools.
absl::StatusOr<std::map<std::string, std::string>> LatestValues(
    const std::string& bootstrap_servers, const std::string& topic,
    std::chrono::milliseconds timeout = std::chrono::seconds(60));

}  // namespace flywheel::kafka
