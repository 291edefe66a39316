#include "redis_request_store.h"

#include "absl/strings/str_cat.h"
#include "flywheel/core/status.h"

namespace flywheel::intake {
namespace {

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

// KEYS: request hashes of one tenant. Returns each one's data, or false
// for one that is gone: a page of ListRequests in one round trip.
constexpr char kReadManyScript[] = R"lua(
local out = {}
for i = 1, #KEYS do out[i] = redis.call('HGET', KEYS[i], 'data') end
return out
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

RedisRequestStore::RedisRequestStore(redis::AsyncClient& redis, std::string key_prefix,
                                     outbox::RedisOutbox& outbox)
    : redis_(redis), key_prefix_(std::move(key_prefix)), outbox_(outbox) {
  // Registering fixed, valid scripts under distinct names cannot fail.
  (void)scripts_.Register("intake_create", std::string(outbox::RedisOutbox::kLua) + kCreateScript);
  (void)scripts_.Register("intake_replace",
                          std::string(outbox::RedisOutbox::kLua) + kReplaceScript);
  (void)scripts_.Register("intake_read_many", kReadManyScript);
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

asio::awaitable<absl::StatusOr<redis::Reply>> RedisRequestStore::EvalWithEvents(
    std::string script, const std::string& tenant_id, std::vector<std::string> keys,
    std::vector<std::string> args, std::vector<kafka::OutgoingEvent>& events) {
  FLYWHEEL_CO_ASSIGN_OR_RETURN(outbox::RedisOutbox::ScriptArgs staged,
                               co_await outbox_.Prepared(tenant_id, events));
  keys.insert(keys.end(), staged.keys.begin(), staged.keys.end());
  args.insert(args.end(), staged.args.begin(), staged.args.end());
  co_return co_await redis_.Eval(scripts_, std::move(script), std::move(keys), std::move(args));
}

asio::awaitable<absl::StatusOr<std::optional<RequestStore::KeyUse>>> RedisRequestStore::FindKey(
    const std::string& tenant_id, const std::string& idempotency_key) {
  std::vector<std::string> command = {"HMGET", IdempotencyKey(tenant_id, idempotency_key),
                                      "request_id", "spec"};
  FLYWHEEL_CO_ASSIGN_OR_RETURN(redis::Reply reply, co_await redis_.Command(std::move(command)));
  FLYWHEEL_CO_ASSIGN_OR_RETURN(std::vector<redis::Reply> parts, reply.AsArray());
  if (parts.size() != 2 || parts[0].is_nil()) co_return std::nullopt;
  FLYWHEEL_CO_ASSIGN_OR_RETURN(std::string request_id, parts[0].AsString());
  FLYWHEEL_CO_ASSIGN_OR_RETURN(std::string fingerprint, parts[1].AsString());
  co_return KeyUse{.request_id = std::move(request_id), .spec_fingerprint = std::move(fingerprint)};
}

asio::awaitable<absl::StatusOr<RequestStore::CreateResult>> RedisRequestStore::Create(
    const v1::Request& request, const std::string& spec_fingerprint,
    std::vector<kafka::OutgoingEvent>& events, absl::Duration idempotency_ttl) {
  const std::string& tenant = request.tenant_id();
  std::vector<std::string> keys = {IdempotencyKey(tenant, request.idempotency_key()),
                                   RequestKey(tenant, request.request_id()), IndexKey(tenant)};
  std::vector<std::string> args = {spec_fingerprint,
                                   request.request_id(),
                                   request.SerializeAsString(),
                                   absl::StrCat(request.revision()),
                                   IndexMember(request),
                                   absl::StrCat(absl::ToInt64Milliseconds(idempotency_ttl))};
  FLYWHEEL_CO_ASSIGN_OR_RETURN(
      redis::Reply reply,
      co_await EvalWithEvents("intake_create", tenant, std::move(keys), std::move(args), events));
  FLYWHEEL_CO_ASSIGN_OR_RETURN(std::vector<redis::Reply> parts, reply.AsArray());
  if (parts.size() != 2) {
    co_return absl::InternalError("intake_create returned " + reply.DebugString());
  }
  FLYWHEEL_CO_ASSIGN_OR_RETURN(std::string outcome, parts[0].AsString());
  FLYWHEEL_CO_ASSIGN_OR_RETURN(std::string request_id, parts[1].AsString());
  CreateResult result{.request_id = request_id};
  if (outcome == "created") {
    result.outcome = CreateOutcome::kCreated;
  } else if (outcome == "replayed") {
    result.outcome = CreateOutcome::kReplayed;
  } else {
    result.outcome = CreateOutcome::kConflict;
  }
  co_return result;
}

asio::awaitable<absl::StatusOr<std::optional<v1::Request>>> RedisRequestStore::Get(
    const std::string& tenant_id, const std::string& request_id) {
  const std::string key = RequestKey(tenant_id, request_id);
  std::vector<std::string> command = {"HGET", key, "data"};
  FLYWHEEL_CO_ASSIGN_OR_RETURN(redis::Reply reply, co_await redis_.Command(std::move(command)));
  if (reply.is_nil()) co_return std::nullopt;
  FLYWHEEL_CO_ASSIGN_OR_RETURN(v1::Request request, ParseRequest(reply, key));
  // Keys are per tenant; this guards against a corrupted or hand-made value.
  if (request.tenant_id() != tenant_id) co_return std::nullopt;
  co_return request;
}

asio::awaitable<absl::StatusOr<RequestStore::ReplaceOutcome>> RedisRequestStore::Replace(
    const v1::Request& updated, int64_t expected_revision,
    std::vector<kafka::OutgoingEvent>& events) {
  std::vector<std::string> keys = {RequestKey(updated.tenant_id(), updated.request_id())};
  std::vector<std::string> args = {absl::StrCat(expected_revision), updated.SerializeAsString(),
                                   absl::StrCat(updated.revision()), updated.request_id()};
  FLYWHEEL_CO_ASSIGN_OR_RETURN(redis::Reply reply,
                               co_await EvalWithEvents("intake_replace", updated.tenant_id(),
                                                       std::move(keys), std::move(args), events));
  FLYWHEEL_CO_ASSIGN_OR_RETURN(std::string outcome, reply.AsString());
  if (outcome == "replaced") co_return ReplaceOutcome::kReplaced;
  if (outcome == "stale") co_return ReplaceOutcome::kStale;
  if (outcome == "outbox_pending") co_return ReplaceOutcome::kOutboxPending;
  co_return ReplaceOutcome::kNotFound;
}

asio::awaitable<absl::StatusOr<std::vector<v1::Request>>> RedisRequestStore::Scan(
    const std::string& tenant_id, const std::string& after, size_t limit) {
  std::vector<v1::Request> out;
  if (limit == 0) co_return out;
  std::vector<std::string> range = {
      "ZREVRANGEBYLEX",   IndexKey(tenant_id), after.empty() ? "+" : "(" + after, "-", "LIMIT", "0",
      absl::StrCat(limit)};
  FLYWHEEL_CO_ASSIGN_OR_RETURN(redis::Reply reply, co_await redis_.Command(std::move(range)));
  FLYWHEEL_CO_ASSIGN_OR_RETURN(std::vector<redis::Reply> members, reply.AsArray());
  if (members.empty()) co_return out;
  std::vector<std::string> keys;
  for (const redis::Reply& member : members) {
    FLYWHEEL_CO_ASSIGN_OR_RETURN(std::string text, member.AsString());
    const size_t colon = text.find(':');
    if (colon == std::string::npos) co_return absl::DataLossError("bad index member " + text);
    keys.push_back(RequestKey(tenant_id, text.substr(colon + 1)));
  }
  // Named, not built inside the co_await (see submissions_handler.cc).
  std::string script = "intake_read_many";
  std::vector<std::string> read_keys = keys;  // `keys` names the replies below
  std::vector<std::string> no_args;
  FLYWHEEL_CO_ASSIGN_OR_RETURN(
      redis::Reply found,
      co_await redis_.Eval(scripts_, std::move(script), std::move(read_keys), std::move(no_args)));
  FLYWHEEL_CO_ASSIGN_OR_RETURN(std::vector<redis::Reply> data, found.AsArray());
  out.reserve(data.size());
  for (size_t i = 0; i < data.size() && i < keys.size(); ++i) {
    if (data[i].is_nil()) continue;  // Indexed but gone: nothing to show.
    FLYWHEEL_CO_ASSIGN_OR_RETURN(v1::Request request, ParseRequest(data[i], keys[i]));
    out.push_back(std::move(request));
  }
  co_return out;
}

}  // namespace flywheel::intake
