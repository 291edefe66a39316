#include "redis_recurring_store.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "flywheel/core/proto_time.h"
#include "flywheel/core/status.h"

namespace flywheel::scheduler {
namespace {

// KEYS[1] the work, [2] the tenant's index. ARGV[1] expected revision (0:
// any), [2] record, [3] next occurrence ms or '', [4] id. Returns {'ok',
// revision}, {'missing'} or {'stale', revision}.
constexpr char kPutScript[] = R"lua(
local v = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
local expected = tonumber(ARGV[1])
if expected ~= 0 then
  if v == 0 then return {'missing'} end
  if v ~= expected then return {'stale', v} end
end
v = v + 1
redis.call('HSET', KEYS[1], 'r', ARGV[2], 'v', v)
if ARGV[3] == '' then
  redis.call('HDEL', KEYS[1], 'n')
else
  redis.call('HSET', KEYS[1], 'n', ARGV[3])
end
redis.call('ZADD', KEYS[2], 0, ARGV[4])
return {'ok', v}
)lua";

// KEYS[1] the work, [2] the index. ARGV[1] revision, [2] record, [3] next
// occurrence ms or '', [4] last filed ms or '', [5] id. Returns 1.
constexpr char kRestoreScript[] = R"lua(
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'r', ARGV[2], 'v', ARGV[1])
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'n', ARGV[3]) end
if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'f', ARGV[4]) end
redis.call('ZADD', KEYS[2], 0, ARGV[5])
return 1
)lua";

// KEYS[1] the work, [2] the index. ARGV[1] id. Returns 1 when it existed.
constexpr char kDeleteScript[] = R"lua(
redis.call('ZREM', KEYS[2], ARGV[1])
return redis.call('DEL', KEYS[1])
)lua";

// KEYS[1] the work. ARGV[1] the next occurrence expected (ms), [2] the new
// one or ''. Returns 1 when moved.
constexpr char kAdvanceScript[] = R"lua(
if redis.call('HGET', KEYS[1], 'n') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'f', ARGV[1])
if ARGV[2] == '' then
  redis.call('HDEL', KEYS[1], 'n')
else
  redis.call('HSET', KEYS[1], 'n', ARGV[2])
end
return 1
)lua";

// KEYS[1] the index. ARGV[1] the works' key base, [2] the id listed after
// ('' from the first), [3] limit. Returns {r, v, n} per work.
constexpr char kListScript[] = R"lua(
local from = '-'
if ARGV[2] ~= '' then from = '(' .. ARGV[2] end
local ids = redis.call('ZRANGEBYLEX', KEYS[1], from, '+', 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for _, id in ipairs(ids) do
  out[#out + 1] = redis.call('HMGET', ARGV[1] .. id, 'r', 'v', 'n')
end
return out
)lua";

// A work from its hash fields {r, v, n}.
absl::StatusOr<std::optional<v1::RecurringWork>> ParseWork(const redis::Reply& fields) {
  if (!fields.is_array() || fields.elements().size() != 3) {
    return absl::DataLossError("recurring work read as " + fields.DebugString());
  }
  const std::vector<redis::Reply>& f = fields.elements();
  if (f[0].is_nil()) return std::nullopt;
  v1::RecurringWork work;
  int64_t revision = 0;
  if (!f[0].is_string() || !work.ParseFromString(f[0].str()) || !f[1].is_string() ||
      !absl::SimpleAtoi(f[1].str(), &revision)) {
    return absl::DataLossError("a damaged recurring work record: " + fields.DebugString());
  }
  work.set_revision(revision);
  int64_t next_ms = 0;
  if (f[2].is_string() && absl::SimpleAtoi(f[2].str(), &next_ms)) {
    *work.mutable_next_occurrence_time() = ToProtoTime(absl::FromUnixMillis(next_ms));
  }
  return work;
}

std::string Ms(absl::Time t) { return absl::StrCat(absl::ToUnixMillis(t)); }

// The work as its record keeps it: without revision and next occurrence.
std::string RecordOf(const v1::RecurringWork& work) {
  v1::RecurringWork record = work;
  record.clear_revision();
  record.clear_next_occurrence_time();
  return record.SerializeAsString();
}

// The next occurrence as the scripts take it: ms, or '' for none.
std::string NextOf(const v1::RecurringWork& work) {
  return work.has_next_occurrence_time() ? Ms(FromProtoTime(work.next_occurrence_time())) : "";
}

}  // namespace

RedisRecurringStore::RedisRecurringStore(redis::AsyncClient& redis, std::string key_prefix)
    : redis_(redis), key_prefix_(std::move(key_prefix)) {
  // Registering fixed, valid scripts under distinct names cannot fail.
  (void)scripts_.Register("recur_put", kPutScript);
  (void)scripts_.Register("recur_delete", kDeleteScript);
  (void)scripts_.Register("recur_advance", kAdvanceScript);
  (void)scripts_.Register("recur_list", kListScript);
  (void)scripts_.Register("recur_restore", kRestoreScript);
}

std::string RedisRecurringStore::Key(const std::string& tenant_id, const std::string& what) const {
  return absl::StrCat(key_prefix_, "sched:recur:{", tenant_id, "}:", what);
}

asio::awaitable<absl::StatusOr<redis::Reply>> RedisRecurringStore::Run(
    const char* script, std::vector<std::string> keys, std::vector<std::string> args) {
  std::string name = script;
  co_return co_await redis_.Eval(scripts_, std::move(name), std::move(keys), std::move(args));
}

asio::awaitable<absl::StatusOr<bool>> RedisRecurringStore::RunForOne(
    const char* script, std::vector<std::string> keys, std::vector<std::string> args) {
  FLYWHEEL_CO_ASSIGN_OR_RETURN(redis::Reply reply,
                               co_await Run(script, std::move(keys), std::move(args)));
  FLYWHEEL_CO_ASSIGN_OR_RETURN(int64_t changed, reply.AsInteger());
  co_return changed == 1;
}

asio::awaitable<absl::StatusOr<v1::RecurringWork>> RedisRecurringStore::Put(
    const v1::RecurringWork& given, int64_t expected_revision) {
  const std::string& tenant = given.tenant_id();
  const std::string& id = given.recurrence_id();
  std::vector<std::string> keys = {Key(tenant, "w:" + id), Key(tenant, "i")};
  std::vector<std::string> args = {absl::StrCat(expected_revision), RecordOf(given), NextOf(given),
                                   id};
  FLYWHEEL_CO_ASSIGN_OR_RETURN(redis::Reply reply,
                               co_await Run("recur_put", std::move(keys), std::move(args)));
  if (!reply.is_array() || reply.elements().empty() || !reply.elements()[0].is_string()) {
    co_return absl::InternalError("recur_put returned " + reply.DebugString());
  }
  const std::string& outcome = reply.elements()[0].str();
  if (outcome == "missing") {
    co_return absl::NotFoundError(
        absl::StrCat("tenant '", tenant, "' has no recurring work '", id, "'"));
  }
  if (outcome == "stale") {
    co_return absl::AbortedError(absl::StrCat("recurring work '", id, "' changed since revision ",
                                              expected_revision, "; read it again"));
  }
  if (outcome != "ok" || reply.elements().size() != 2) {
    co_return absl::InternalError("recur_put returned " + reply.DebugString());
  }
  FLYWHEEL_CO_ASSIGN_OR_RETURN(int64_t revision, reply.elements()[1].AsInteger());
  v1::RecurringWork stored = given;
  stored.set_revision(revision);
  if (given.has_next_occurrence_time()) {
    *stored.mutable_next_occurrence_time() = ToProtoTime(
        absl::FromUnixMillis(absl::ToUnixMillis(FromProtoTime(given.next_occurrence_time()))));
  }
  co_return stored;
}

asio::awaitable<absl::Status> RedisRecurringStore::Restore(const v1::RecurringWork& work,
                                                           std::optional<absl::Time> filed) {
  const std::string& tenant = work.tenant_id();
  const std::string& id = work.recurrence_id();
  std::vector<std::string> keys = {Key(tenant, "w:" + id), Key(tenant, "i")};
  std::vector<std::string> args = {absl::StrCat(work.revision()), RecordOf(work), NextOf(work),
                                   filed ? Ms(*filed) : "", id};
  co_return (co_await RunForOne("recur_restore", std::move(keys), std::move(args))).status();
}

asio::awaitable<absl::StatusOr<std::optional<v1::RecurringWork>>> RedisRecurringStore::Get(
    const std::string& tenant_id, const std::string& recurrence_id) {
  std::vector<std::string> command = {"HMGET", Key(tenant_id, "w:" + recurrence_id), "r", "v", "n"};
  FLYWHEEL_CO_ASSIGN_OR_RETURN(redis::Reply reply, co_await redis_.Command(std::move(command)));
  co_return ParseWork(reply);
}

asio::awaitable<absl::StatusOr<std::optional<absl::Time>>> RedisRecurringStore::LastFiled(
    const std::string& tenant_id, const std::string& recurrence_id) {
  std::vector<std::string> command = {"HGET", Key(tenant_id, "w:" + recurrence_id), "f"};
  FLYWHEEL_CO_ASSIGN_OR_RETURN(redis::Reply reply, co_await redis_.Command(std::move(command)));
  int64_t ms = 0;
  if (reply.is_nil()) co_return std::nullopt;
  if (!reply.is_string() || !absl::SimpleAtoi(reply.str(), &ms)) {
    co_return absl::DataLossError("a damaged last filed occurrence: " + reply.DebugString());
  }
  co_return absl::FromUnixMillis(ms);
}

asio::awaitable<absl::StatusOr<std::vector<v1::RecurringWork>>> RedisRecurringStore::List(
    const std::string& tenant_id, const std::string& after_id, size_t limit) {
  std::vector<std::string> keys = {Key(tenant_id, "i")};
  std::vector<std::string> args = {Key(tenant_id, "w:"), after_id, absl::StrCat(limit)};
  FLYWHEEL_CO_ASSIGN_OR_RETURN(redis::Reply reply,
                               co_await Run("recur_list", std::move(keys), std::move(args)));
  if (!reply.is_array())
    co_return absl::InternalError("recur_list returned " + reply.DebugString());
  std::vector<v1::RecurringWork> out;
  for (const redis::Reply& fields : reply.elements()) {
    FLYWHEEL_CO_ASSIGN_OR_RETURN(std::optional<v1::RecurringWork> work, ParseWork(fields));
    // An id whose work vanished between the two reads of the script cannot
    // happen (one script); an index left by hand without its work is skipped.
    if (work) out.push_back(*std::move(work));
  }
  co_return out;
}

asio::awaitable<absl::StatusOr<bool>> RedisRecurringStore::Delete(
    const std::string& tenant_id, const std::string& recurrence_id) {
  std::vector<std::string> keys = {Key(tenant_id, "w:" + recurrence_id), Key(tenant_id, "i")};
  std::vector<std::string> args = {recurrence_id};
  co_return co_await RunForOne("recur_delete", std::move(keys), std::move(args));
}

asio::awaitable<absl::StatusOr<bool>> RedisRecurringStore::Advance(const std::string& tenant_id,
                                                                   const std::string& recurrence_id,
                                                                   absl::Time from,
                                                                   std::optional<absl::Time> to) {
  std::vector<std::string> keys = {Key(tenant_id, "w:" + recurrence_id)};
  std::vector<std::string> args = {Ms(from), to ? Ms(*to) : ""};
  co_return co_await RunForOne("recur_advance", std::move(keys), std::move(args));
}

}  // namespace flywheel::scheduler
