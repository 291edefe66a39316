#pragma once

#include <string>

#include "flywheel/redis/pool.h"
#include "flywheel/redis/script_registry.h"
#include "routed_store.h"

namespace flywheel::routing {

/// Routed requests as Redis hashes, one per request, at
/// `<prefix>routing:{<tenant>/<request id>}:request`. The hash tag keeps every
/// key of one request on one Redis Cluster slot. Thread-safe.
class RedisRoutedStore final : public RoutedStore {
 public:
  RedisRoutedStore(redis::Pool& pool, std::string key_prefix);

  absl::Status Record(const RoutedRequest& request) override;
  absl::StatusOr<std::optional<RoutedRequest>> Find(const std::string& tenant_id,
                                                    const std::string& request_id) override;

  /// The key a request is stored at (for operators and tests).
  std::string KeyFor(const std::string& tenant_id, const std::string& request_id) const;

 private:
  redis::Pool& pool_;
  std::string key_prefix_;
  redis::ScriptRegistry scripts_;
};

}  // namespace flywheel::routing
