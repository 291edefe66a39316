#include "redis_request_store.h"

#include "absl/strings/str_cat.h"
#include "flywheel/core/status.h"

namespace flywheel::intake {
namespace {

constexpr absl::Duration kAcquireTimeout = absl::Seconds(2);

// Both scripts are prefixed with outbox::RedisOutbox::kLua and get the
// tenant outbox's keys and args after their own (see RedisOutbox).

// KEYS[1] idempotency hash, KEYS[2] request hash, KEYS[3] tenant index.
// ARGV: fingerprint, request id, data, revision, index member, idempotency
// TTL in ms. Returns {outcome, request id}; writes nothing unless the key is
// new.
constexpr char kCreateScript[] = R"lua(
local prior = redis.call('HMGET', KEYS[1], 'request_id', 'spec')
if prior[1] then
  if prior[2] == ARGV[1] then return {'replayed', prior[1]} end
  return {'conflict', prior[1]}
end
redis.call('HSET', KEYS[1], 'request_id', ARGV[2], 'spec', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[6])
redis.call('HSET', KEYS[2], 'data', ARGV[3], 'revision', ARGV[4])
redis.call('ZADD', KEYS[3], 0, ARGV[5])
flywheel_outbox_put()
return {'created', ARGV[2]}
)lua";

// KEYS[1] request hash. ARGV: expected revision, data, revision, request
// id. Compare-and-set on the revision; a change with events waits for the
// request's earlier events to leave the outbox, so they keep their order.
constexpr char kReplaceScript[] = R"lua(
local cur = redis.call('HGET', KEYS[1], 'revision')
if not cur then return 'not_found' end
if cur ~= ARGV[1] then return 'stale' end
if tonumber(ARGV[#ARGV]) > 0 and flywheel_outbox_busy(ARGV[4]) then return 'outbox_pending' end
redis.call('HSET', KEYS[1], 'data', ARGV[2], 'revision', ARGV[3])
flywheel_outbox_put()
return 'replaced'
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

RedisRequestStore::RedisRequestStore(redis::Pool& pool, std::string key_prefix,
                                     outbox::RedisOutbox& outbox)
    : pool_(pool), key_prefix_(std::move(key_prefix)), outbox_(outbox) {
  // Registering fixed, valid scripts under distinct names cannot fail.
  (void)scripts_.Register("intake_create", std::string(outbox::RedisOutbox::kLua) + kCreateScript);
  (void)scripts_.Register("intake_replace",
                          std::string(outbox::RedisOutbox::kLua) + kReplaceScript);
}

std::string RedisRequestStore::RequestKey(const std::string& tenant_id,
                                          const std::string& request_id) const {
  return absl::StrCat(key_prefix_, "intake:{", tenant_id, "}:request:", request_id);
}
std::string RedisRequestStore::IndexKey(const std::string& tenant_id) const {
  return absl::StrCat(key_prefix_, "intake:{", tenant_id, "}:requests");
}
std::string RedisRequestStore::IdempotencyKey(const std::string& tenant_id,
                                              const std::string& key) const {
  return absl::StrCat(key_prefix_, "idempotency:{", tenant_id, "}:", key);
}

absl::StatusOr<redis::Reply> RedisRequestStore::EvalWithEvents(
    std::string_view script, const std::string& tenant_id, std::vector<std::string> keys,
    std::vector<std::string> args, std::vector<kafka::OutgoingEvent>& events) {
  FLYWHEEL_ASSIGN_OR_RETURN(outbox::RedisOutbox::ScriptArgs staged,
                            outbox_.ForScript(tenant_id, events));
  keys.insert(keys.end(), staged.keys.begin(), staged.keys.end());
  args.insert(args.end(), staged.args.begin(), staged.args.end());
  FLYWHEEL_ASSIGN_OR_RETURN(auto conn, pool_.Acquire(kAcquireTimeout));
  return scripts_.Eval(*conn, script, keys, args);
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
    const v1::Request& request, const std::string& spec_fingerprint,
    std::vector<kafka::OutgoingEvent>& events, absl::Duration idempotency_ttl) {
  FLYWHEEL_ASSIGN_OR_RETURN(
      redis::Reply reply,
      EvalWithEvents(
          "intake_create", request.tenant_id(),
          {IdempotencyKey(request.tenant_id(), request.idempotency_key()),
           RequestKey(request.tenant_id(), request.request_id()), IndexKey(request.tenant_id())},
          {spec_fingerprint, request.request_id(), request.SerializeAsString(),
           absl::StrCat(request.revision()), IndexMember(request),
           absl::StrCat(absl::ToInt64Milliseconds(idempotency_ttl))},
          events));
  FLYWHEEL_ASSIGN_OR_RETURN(std::vector<redis::Reply> parts, reply.AsArray());
  if (parts.size() != 2) {
    return absl::InternalError("intake_create returned " + reply.DebugString());
  }
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

absl::StatusOr<std::optional<v1::Request>> RedisRequestStore::Get(const std::string& tenant_id,
                                                                  const std::string& request_id) {
  const std::string key = RequestKey(tenant_id, request_id);
  FLYWHEEL_ASSIGN_OR_RETURN(auto conn, pool_.Acquire(kAcquireTimeout));
  FLYWHEEL_ASSIGN_OR_RETURN(redis::Reply reply, conn->Command({"HGET", key, "data"}));
  if (reply.is_nil()) return std::nullopt;
  FLYWHEEL_ASSIGN_OR_RETURN(v1::Request request, ParseRequest(reply, key));
  // Keys are per tenant; this guards against a corrupted or hand-made value.
  if (request.tenant_id() != tenant_id) return std::nullopt;
  return request;
}

absl::StatusOr<RequestStore::ReplaceOutcome> RedisRequestStore::Replace(
    const v1::Request& updated, int64_t expected_revision,
    std::vector<kafka::OutgoingEvent>& events) {
  FLYWHEEL_ASSIGN_OR_RETURN(
      redis::Reply reply,
      EvalWithEvents("intake_replace", updated.tenant_id(),
                     {RequestKey(updated.tenant_id(), updated.request_id())},
                     {absl::StrCat(expected_revision), updated.SerializeAsString(),
                      absl::StrCat(updated.revision()), updated.request_id()},
                     events));
  FLYWHEEL_ASSIGN_OR_RETURN(std::string outcome, reply.AsString());
  if (outcome == "replaced") return ReplaceOutcome::kReplaced;
  if (outcome == "stale") return ReplaceOutcome::kStale;
  if (outcome == "outbox_pending") return ReplaceOutcome::kOutboxPending;
  return ReplaceOutcome::kNotFound;
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
