#pragma once

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace flywheel::routing {

/// What routing keeps about a request it has taken in. The full workflow
/// instance (stages, owner, approval tier) is the routing issue's; the
/// foundation records that the request arrived and was routed.
struct RoutedRequest {
  std::string tenant_id;
  std::string request_id;
  std::string request_type;
  std::string title;
  std::string priority;
  /// The `ce_id` of the request.submitted event that routed it.
  std::string event_id;
  absl::Time routed_at;

  bool operator==(const RoutedRequest&) const = default;
};

/// Where routed requests live. The seam between the routing logic and Redis.
class RoutedStore {
 public:
  virtual ~RoutedStore() = default;
  /// Records `request` durably. Recording the same event again changes
  /// nothing and is OK (at-least-once delivery). UNAVAILABLE when the store
  /// cannot be reached; the caller retries.
  virtual absl::Status Record(const RoutedRequest& request) = 0;
  /// The routed request, or nullopt when routing has not seen it.
  virtual absl::StatusOr<std::optional<RoutedRequest>> Find(const std::string& tenant_id,
                                                            const std::string& request_id) = 0;
};

}  // namespace flywheel::routing
