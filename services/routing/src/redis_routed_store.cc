#include "redis_routed_store.h"

#include "absl/strings/numbers.h"
#include "flywheel/core/status.h"

namespace flywheel::routing {
namespace {

constexpr absl::Duration kAcquireTimeout = absl::Seconds(2);

// Records a routed request once. A replay of the event that already routed
// it is a no-op, so redelivery cannot overwrite later changes.
// KEYS[1] the request hash; ARGV[1] the event id; ARGV[2..] field, value pairs.
// Returns 1 when written, 0 when this event was already recorded.
constexpr char kRecordScript[] = R"lua(
if redis.call('HGET', KEYS[1], 'event_id') == ARGV[1] then
  return 0
end
redis.call('HSET', KEYS[1], 'event_id', ARGV[1], unpack(ARGV, 2))
return 1
)lua";

}  // namespace

RedisRoutedStore::RedisRoutedStore(redis::Pool& pool, std::string key_prefix)
    : pool_(pool), key_prefix_(std::move(key_prefix)) {
  // Registration of a fixed, valid script cannot fail.
  (void)scripts_.Register("record_routed", kRecordScript);
}

std::string RedisRoutedStore::KeyFor(const std::string& tenant_id,
                                     const std::string& request_id) const {
  return key_prefix_ + "routing:{" + tenant_id + "/" + request_id + "}:request";
}

absl::Status RedisRoutedStore::Record(const RoutedRequest& r) {
  FLYWHEEL_ASSIGN_OR_RETURN(auto conn, pool_.Acquire(kAcquireTimeout));
  return scripts_
      .Eval(*conn, "record_routed", {KeyFor(r.tenant_id, r.request_id)},
            {r.event_id, "tenant_id", r.tenant_id, "request_id", r.request_id, "request_type",
             r.request_type, "title", r.title, "priority", r.priority, "routed_at_us",
             std::to_string(absl::ToUnixMicros(r.routed_at))})
      .status();
}

absl::StatusOr<std::optional<RoutedRequest>> RedisRoutedStore::Find(const std::string& tenant_id,
                                                                    const std::string& request_id) {
  FLYWHEEL_ASSIGN_OR_RETURN(auto conn, pool_.Acquire(kAcquireTimeout));
  FLYWHEEL_ASSIGN_OR_RETURN(redis::Reply reply,
                            conn->Command({"HGETALL", KeyFor(tenant_id, request_id)}));
  FLYWHEEL_ASSIGN_OR_RETURN(std::vector<redis::Reply> items, reply.AsArray());
  if (items.empty()) return std::nullopt;
  RoutedRequest r;
  for (size_t i = 0; i + 1 < items.size(); i += 2) {
    FLYWHEEL_ASSIGN_OR_RETURN(std::string field, items[i].AsString());
    FLYWHEEL_ASSIGN_OR_RETURN(std::string value, items[i + 1].AsString());
    if (field == "tenant_id")
      r.tenant_id = value;
    else if (field == "request_id")
      r.request_id = value;
    else if (field == "request_type")
      r.request_type = value;
    else if (field == "title")
      r.title = value;
    else if (field == "priority")
      r.priority = value;
    else if (field == "event_id")
      r.event_id = value;
    else if (field == "routed_at_us") {
      int64_t micros = 0;
      if (!absl::SimpleAtoi(value, &micros)) {
        return absl::DataLossError("routed_at_us of " + request_id + " is not a number");
      }
      r.routed_at = absl::FromUnixMicros(micros);
    }
  }
  return r;
}

}  // namespace flywheel::routing
