#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "flywheel/kafka/record.h"

namespace flywheel::kafka::testing {

/// The broker integration tests use: `FLYWHEEL_TEST_KAFKA`, set by the test
/// bed (tests/testbed/testbed.sh). FAILED_PRECONDITION when it is unset, so a
/// test run without a broker fails loudly instead of passing quietly.
absl::StatusOr<std::string> BootstrapServers();

/// A topic name no other test uses (`test.<random>.<name>`), created with
/// `partitions` partitions before it is returned.
absl::StatusOr<std::string> CreateUniqueTopic(
    const std::string& bootstrap_servers, const std::string& name, int partitions = 3,
    const std::map<std::string, std::string>& configs = {});

/// Reads `topic` from the beginning, in a group of its own, until `count`
/// records have arrived or `deadline` passes; returns what arrived.
std::vector<Record> ReadTopic(const std::string& bootstrap_servers, const std::string& topic,
                              size_t count, absl::Duration deadline = absl::Seconds(30));

/// Every record `topic` holds now, read from the beginning: as many as its
/// partitions' watermarks count, so the read ends as soon as they are in
/// instead of waiting out a deadline for records that may not come.
std::vector<Record> ReadAll(const std::string& bootstrap_servers, const std::string& topic,
                            absl::Duration deadline = absl::Seconds(30));

}  // namespace flywheel::kafka::testing
