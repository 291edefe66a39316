#include "redis_request_store.h"

#include "absl/strings/str_cat.h"
#include "flywheel/core/status.h"

namespace flywheel::intake {
namespace {

constexpr absl::Duration kAcquireTimeout = absl::Seconds(2);

// KEYS[1] idempotency hash, KEYS[2] request hash, KEYS[3] tenant index,
// KEYS[4] tenant outbox. ARGV: fingerprint, request id, data, revision,
// outbox id, outbox type, outbox data, index member, idempotency TTL in ms,
// stored-at ms. Returns {outcome, request id}; writes nothing unless the key
// is new.
constexpr char kCreateScript[] = R"lua(
local prior = redis.call('HMGET', KEYS[1], 'request_id', 'spec')
if prior[1] then
  if prior[2] == ARGV[1] then return {'replayed', prior[1]} end
  return {'conflict', prior[1]}
end
redis.call('HSET', KEYS[1], 'request_id', ARGV[2], 'spec', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[9])
redis.call('HSET', KEYS[2], 'data', ARGV[3], 'revision', ARGV[4],
           'outbox_id', ARGV[5], 'outbox_type', ARGV[6], 'outbox_data', ARGV[7])
redis.call('ZADD', KEYS[3], 0, ARGV[8])
redis.call('ZADD', KEYS[4], ARGV[10], ARGV[2])
return {'created', ARGV[2]}
)lua";

// KEYS[1] request hash, KEYS[2] tenant outbox. ARGV: expected revision,
// data, revision, request id, stored-at ms, then optionally outbox id,
// outbox type, outbox data. Compare-and-set on the revision; with an event,
// the outbox must be empty.
constexpr char kReplaceScript[] = R"lua(
local cur = redis.call('HMGET', KEYS[1], 'revision', 'outbox_id')
if not cur[1] then return 'not_found' end
if cur[1] ~= ARGV[1] then return 'stale' end
if not ARGV[6] then
  redis.call('HSET', KEYS[1], 'data', ARGV[2], 'revision', ARGV[3])
  return 'replaced'
end
if cur[2] then return 'outbox_pending' end
redis.call('HSET', KEYS[1], 'data', ARGV[2], 'revision', ARGV[3],
           'outbox_id', ARGV[6], 'outbox_type', ARGV[7], 'outbox_data', ARGV[8])
redis.call('ZADD', KEYS[2], ARGV[5], ARGV[4])
return 'replaced'
)lua";

// KEYS[1] request hash, KEYS[2] tenant outbox. ARGV[1] the published
// event's id, ARGV[2] the request id.
constexpr char kClearOutboxScript[] = R"lua(
if redis.call('HGET', KEYS[1], 'outbox_id') == ARGV[1] then
  redis.call('HDEL', KEYS[1], 'outbox_id', 'outbox_type', 'outbox_data')
  redis.call('ZREM', KEYS[2], ARGV[2])
  return 1
end
return 0
)lua";

absl::StatusOr<v1::Request> ParseRequest(const redis::Reply& reply, const std::string& key) {
  FLYWHEEL_ASSIGN_OR_RETURN(std::string data, reply.AsString());
  v1::Request request;
  if (!request.ParseFromString(data)) {
    return absl::DataLossError("the request stored at " + key + " does not parse");
  }
  return request;
}

}  // namespace

RedisRequestStore::RedisRequestStore(redis::Pool& pool, std::string key_prefix)
    : pool_(pool), key_prefix_(std::move(key_prefix)) {
  // Registering fixed, valid scripts under distinct names cannot fail.
  (void)scripts_.Register("intake_create", kCreateScript);
  (void)scripts_.Register("intake_replace", kReplaceScript);
  (void)scripts_.Register("intake_clear_outbox", kClearOutboxScript);
}

std::string RedisRequestStore::RequestKey(const std::string& tenant_id,
                                          const std::string& request_id) const {
  return absl::StrCat(key_prefix_, "intake:{", tenant_id, "}:request:", request_id);
}
std::string RedisRequestStore::IndexKey(const std::string& tenant_id) const {
  return absl::StrCat(key_prefix_, "intake:{", tenant_id, "}:requests");
}
std::string RedisRequestStore::OutboxKey(const std::string& tenant_id) const {
  return absl::StrCat(key_prefix_, "intake:{", tenant_id, "}:outbox");
}
std::string RedisRequestStore::IdempotencyKey(const std::string& tenant_id,
                                              const std::string& key) const {
  return absl::StrCat(key_prefix_, "idempotency:{", tenant_id, "}:", key);
}

absl::StatusOr<std::optional<RequestStore::KeyUse>> RedisRequestStore::FindKey(
    const std::string& tenant_id, const std::string& idempotency_key) {
  FLYWHEEL_ASSIGN_OR_RETURN(auto conn, pool_.Acquire(kAcquireTimeout));
  FLYWHEEL_ASSIGN_OR_RETURN(
      redis::Reply reply,
      conn->Command({"HMGET", IdempotencyKey(tenant_id, idempotency_key), "request_id", "spec"}));
  FLYWHEEL_ASSIGN_OR_RETURN(std::vector<redis::Reply> parts, reply.AsArray());
  if (parts.size() != 2 || parts[0].is_nil()) return std::nullopt;
  FLYWHEEL_ASSIGN_OR_RETURN(std::string request_id, parts[0].AsString());
  FLYWHEEL_ASSIGN_OR_RETURN(std::string fingerprint, parts[1].AsString());
  return KeyUse{.request_id = std::move(request_id), .spec_fingerprint = std::move(fingerprint)};
}

absl::StatusOr<RequestStore::CreateResult> RedisRequestStore::Create(
    const v1::Request& request, const std::string& spec_fingerprint, const PendingEvent& event,
    absl::Duration idempotency_ttl) {
  FLYWHEEL_ASSIGN_OR_RETURN(auto conn, pool_.Acquire(kAcquireTimeout));
  FLYWHEEL_ASSIGN_OR_RETURN(
      redis::Reply reply,
      scripts_.Eval(*conn, "intake_create",
                    {IdempotencyKey(request.tenant_id(), request.idempotency_key()),
                     RequestKey(request.tenant_id(), request.request_id()),
                     IndexKey(request.tenant_id()), OutboxKey(request.tenant_id())},
                    {spec_fingerprint, request.request_id(), request.SerializeAsString(),
                     absl::StrCat(request.revision()), event.id, event.type, event.data,
                     IndexMember(request), absl::StrCat(absl::ToInt64Milliseconds(idempotency_ttl)),
                     absl::StrCat(StoredAtMillis(request))}));
  FLYWHEEL_ASSIGN_OR_RETURN(std::vector<redis::Reply> parts, reply.AsArray());
  if (parts.size() != 2)
    return absl::InternalError("intake_create returned " + reply.DebugString());
  FLYWHEEL_ASSIGN_OR_RETURN(std::string outcome, parts[0].AsString());
  FLYWHEEL_ASSIGN_OR_RETURN(std::string request_id, parts[1].AsString());
  CreateResult result{.request_id = request_id};
  if (outcome == "created") {
    result.outcome = CreateOutcome::kCreated;
  } else if (outcome == "replayed") {
    result.outcome = CreateOutcome::kReplayed;
  } else {
    result.outcome = CreateOutcome::kConflict;
  }
  return result;
}

absl::StatusOr<std::optional<StoredRequest>> RedisRequestStore::Get(const std::string& tenant_id,
                                                                    const std::string& request_id) {
  const std::string key = RequestKey(tenant_id, request_id);
  FLYWHEEL_ASSIGN_OR_RETURN(auto conn, pool_.Acquire(kAcquireTimeout));
  FLYWHEEL_ASSIGN_OR_RETURN(redis::Reply reply, conn->Command({"HMGET", key, "data", "outbox_id",
                                                               "outbox_type", "outbox_data"}));
  FLYWHEEL_ASSIGN_OR_RETURN(std::vector<redis::Reply> fields, reply.AsArray());
  if (fields.size() != 4) return absl::InternalError("HMGET returned " + reply.DebugString());
  if (fields[0].is_nil()) return std::nullopt;
  StoredRequest stored;
  FLYWHEEL_ASSIGN_OR_RETURN(stored.request, ParseRequest(fields[0], key));
  // Keys are per tenant; this guards against a corrupted or hand-made value.
  if (stored.request.tenant_id() != tenant_id) return std::nullopt;
  if (!fields[1].is_nil()) {
    stored.outbox = PendingEvent{fields[1].str(), fields[2].str(), fields[3].str()};
  }
  return stored;
}

absl::StatusOr<RequestStore::ReplaceOutcome> RedisRequestStore::Replace(
    const v1::Request& updated, int64_t expected_revision,
    const std::optional<PendingEvent>& event) {
  std::vector<std::string> args = {absl::StrCat(expected_revision), updated.SerializeAsString(),
                                   absl::StrCat(updated.revision()), updated.request_id(),
                                   absl::StrCat(StoredAtMillis(updated))};
  if (event) {
    args.insert(args.end(), {event->id, event->type, event->data});
  }
  FLYWHEEL_ASSIGN_OR_RETURN(auto conn, pool_.Acquire(kAcquireTimeout));
  FLYWHEEL_ASSIGN_OR_RETURN(redis::Reply reply,
                            scripts_.Eval(*conn, "intake_replace",
                                          {RequestKey(updated.tenant_id(), updated.request_id()),
                                           OutboxKey(updated.tenant_id())},
                                          args));
  FLYWHEEL_ASSIGN_OR_RETURN(std::string outcome, reply.AsString());
  if (outcome == "replaced") return ReplaceOutcome::kReplaced;
  if (outcome == "stale") return ReplaceOutcome::kStale;
  if (outcome == "outbox_pending") return ReplaceOutcome::kOutboxPending;
  return ReplaceOutcome::kNotFound;
}

absl::Status RedisRequestStore::ClearOutbox(const std::string& tenant_id,
                                            const std::string& request_id,
                                            const std::string& event_id) {
  FLYWHEEL_ASSIGN_OR_RETURN(auto conn, pool_.Acquire(kAcquireTimeout));
  return scripts_
      .Eval(*conn, "intake_clear_outbox", {RequestKey(tenant_id, request_id), OutboxKey(tenant_id)},
            {event_id, request_id})
      .status();
}

absl::StatusOr<std::vector<StoredRequest>> RedisRequestStore::Unannounced(
    const std::string& tenant_id, absl::Time stored_before, size_t limit) {
  std::vector<StoredRequest> out;
  if (limit == 0) return out;
  std::vector<std::string> request_ids;
  {
    FLYWHEEL_ASSIGN_OR_RETURN(auto conn, pool_.Acquire(kAcquireTimeout));
    FLYWHEEL_ASSIGN_OR_RETURN(
        redis::Reply reply, conn->Command({"ZRANGEBYSCORE", OutboxKey(tenant_id), "-inf",
                                           absl::StrCat(absl::ToUnixMillis(stored_before)), "LIMIT",
                                           "0", absl::StrCat(limit)}));
    FLYWHEEL_ASSIGN_OR_RETURN(std::vector<redis::Reply> members, reply.AsArray());
    for (const redis::Reply& member : members) {
      FLYWHEEL_ASSIGN_OR_RETURN(std::string id, member.AsString());
      request_ids.push_back(std::move(id));
    }
  }
  for (const std::string& request_id : request_ids) {
    FLYWHEEL_ASSIGN_OR_RETURN(std::optional<StoredRequest> stored, Get(tenant_id, request_id));
    // Announced since the scan (or gone): nothing left to relay.
    if (stored && stored->outbox) out.push_back(*std::move(stored));
  }
  return out;
}

absl::StatusOr<std::vector<v1::Request>> RedisRequestStore::Scan(const std::string& tenant_id,
                                                                 const std::string& after,
                                                                 size_t limit) {
  std::vector<v1::Request> out;
  if (limit == 0) return out;
  FLYWHEEL_ASSIGN_OR_RETURN(auto conn, pool_.Acquire(kAcquireTimeout));
  FLYWHEEL_ASSIGN_OR_RETURN(
      redis::Reply reply,
      conn->Command({"ZREVRANGEBYLEX", IndexKey(tenant_id), after.empty() ? "+" : "(" + after, "-",
                     "LIMIT", "0", absl::StrCat(limit)}));
  FLYWHEEL_ASSIGN_OR_RETURN(std::vector<redis::Reply> members, reply.AsArray());
  if (members.empty()) return out;
  std::vector<std::vector<std::string>> commands;
  std::vector<std::string> keys;
  for (const redis::Reply& member : members) {
    FLYWHEEL_ASSIGN_OR_RETURN(std::string text, member.AsString());
    const size_t colon = text.find(':');
    if (colon == std::string::npos) return absl::DataLossError("bad index member " + text);
    keys.push_back(RequestKey(tenant_id, text.substr(colon + 1)));
    commands.push_back({"HGET", keys.back(), "data"});
  }
  std::vector<absl::StatusOr<redis::Reply>> replies = conn->Pipeline(commands);
  out.reserve(replies.size());
  for (size_t i = 0; i < replies.size(); ++i) {
    if (!replies[i].ok()) return replies[i].status();
    if (replies[i]->is_nil()) continue;  // Indexed but gone: nothing to show.
    FLYWHEEL_ASSIGN_OR_RETURN(v1::Request request, ParseRequest(*replies[i], keys[i]));
    out.push_back(std::move(request));
  }
  return out;
}

}  // namespace flywheel::intake
