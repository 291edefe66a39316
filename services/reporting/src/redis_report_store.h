#pragma once

#include <asio/awaitable.hpp>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "facts.h"
#include "flywheel/redis/async_client.h"
#include "flywheel/redis/script_registry.h"
#include "stored_facts.pb.h"

namespace flywheel::reporting {

/// A request's facts as read, with the revision a commit must find.
struct FactsRead {
  bool found = false;
  int64_t revision = 0;
  stored::RequestFacts facts;
};

/// Reporting's state in Redis, under `<prefix>rep:{<tenant>}:` (one hash
/// slot per tenant):
/// - `req:<request id>`: a hash {rev, facts} with the request's
///   `RequestFacts`;
/// - one sorted set per series (facts.h), members scored by time;
/// - `lead:<lead id>`: the lead's touches, scored by time;
/// - `ids:<series>`: for series whose records a later one replaces (spend
///   lines, won deals), the member each source id holds now, and
///   `seen:<series>` the ids of the events applied to them.
/// Coroutines on the client's context; thread-safe.
class RedisReportStore {
 public:
  RedisReportStore(redis::AsyncClient& redis, std::string key_prefix);

  asio::awaitable<absl::StatusOr<FactsRead>> ReadRequest(std::string tenant, std::string request);

  /// Writes `facts` and moves the request's series entries from `before`
  /// to `after`, only if the stored revision is still `expected_revision`
  /// (ABORTED otherwise: read again and merge again).
  asio::awaitable<absl::Status> CommitRequest(std::string tenant, std::string request,
                                              int64_t expected_revision, stored::RequestFacts facts,
                                              std::vector<SeriesEntry> before,
                                              std::vector<SeriesEntry> after);

  /// Adds a lead's touch to the tenant's touch series and to the lead's
  /// own; false when it was there already.
  asio::awaitable<absl::StatusOr<bool>> AddTouch(std::string tenant, std::string lead,
                                                 int64_t time_ms, std::string touch);

  /// Records a lead's first qualification; false when it qualified before.
  asio::awaitable<absl::StatusOr<bool>> AddQualified(std::string tenant, std::string lead,
                                                     int64_t time_ms);

  /// Puts `member` in `series` for source id `id`, replacing what that id
  /// held; false when the event `event_id` was applied before or the id
  /// held exactly this already.
  asio::awaitable<absl::StatusOr<bool>> Replace(std::string tenant, std::string series,
                                                std::string id, int64_t score, std::string member,
                                                std::string event_id);

  /// The members of `series` scored in [from_ms, to_ms), with their scores.
  asio::awaitable<absl::StatusOr<std::vector<std::pair<std::string, int64_t>>>> Range(
      std::string tenant, std::string series, int64_t from_ms, int64_t to_ms);

  /// A lead's touches scored before `to_ms`, in time order.
  asio::awaitable<absl::StatusOr<std::vector<std::pair<std::string, int64_t>>>> LeadTouches(
      std::string tenant, std::string lead, int64_t to_ms);

 private:
  std::string Base(const std::string& tenant) const;
  asio::awaitable<absl::StatusOr<std::vector<std::pair<std::string, int64_t>>>> ByScore(
      std::string key, int64_t from_ms, int64_t to_ms);

  redis::AsyncClient& redis_;
  const std::string prefix_;
  redis::ScriptRegistry scripts_;
};

}  // namespace flywheel::reporting
