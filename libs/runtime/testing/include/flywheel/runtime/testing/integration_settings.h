#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "flywheel/runtime/settings.h"

namespace flywheel::runtime::testing {

/// Settings for starting a service inside an integration test: gRPC on a
/// free loopback port, the test bed's broker (`FLYWHEEL_TEST_KAFKA`), the
/// given Redis endpoint and key prefix, a topic prefix no other test uses,
/// and a short drain. FAILED_PRECONDITION when the broker is not set.
absl::StatusOr<CommonSettings> IntegrationSettings(const std::string& redis_endpoint,
                                                   const std::string& redis_key_prefix);

}  // namespace flywheel::runtime::testing
