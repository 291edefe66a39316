#include "redis_slot_store.h"

#include <algorithm>
#include <tuple>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "flywheel/core/proto_time.h"
#include "flywheel/core/status.h"

namespace flywheel::scheduler {
namespace {

// Shared by the scripts. `covers(b, ms, ch, dest)`: whether the decoded
// blackout `b` covers the instant on the channel and destination.
// `obstacles(base, dkey, id, ms, gap, ch, dest)`: the records of the slots
// of `dkey` closer than `gap` (but `id`), and of the blackouts covering.
constexpr char kLuaCommon[] = R"lua(
local RESERVED = 1
local function covers(b, ms, ch, dest)
  if ms < b.s or ms >= b.e then return false end
  if #b.c > 0 then
    local found = false
    for _, c in ipairs(b.c) do if c == ch then found = true end end
    if not found then return false end
  end
  if #b.d > 0 then
    local found = false
    for _, d in ipairs(b.d) do if d == dest then found = true end end
    if not found then return false end
  end
  return true
end
local function obstacles(base, dkey, id, ms, gap, ch, dest)
  local close = {}
  if gap > 0 then
    local near = redis.call('ZRANGEBYSCORE', dkey, '(' .. (ms - gap), '(' .. (ms + gap))
    for _, other in ipairs(near) do
      if other ~= id then close[#close + 1] = redis.call('HGET', base .. 's:' .. other, 'r') end
    end
  end
  local blocked = {}
  local all = redis.call('HGETALL', base .. 'bx')
  for i = 1, #all, 2 do
    if covers(cjson.decode(all[i + 1]), ms, ch, dest) then
      blocked[#blocked + 1] = redis.call('HGET', base .. 'b', all[i])
    end
  end
  return close, blocked
end
-- a <= b comparing bytes, as sorted sets order members (Lua's own < follows
-- the server's locale).
local function bytes_le(a, b)
  for i = 1, math.min(#a, #b) do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return #a <= #b
end
)lua";

// KEYS[1] the destination's set. ARGV[1] base, [2] slot id, [3] ms, [4] gap
// ms, [5] channel, [6] destination. Returns {close records, blackouts}.
constexpr char kCheckScript[] = R"lua(
local close, blocked = obstacles(ARGV[1], KEYS[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]),
                                 tonumber(ARGV[5]), ARGV[6])
return {close, blocked}
)lua";

// KEYS[1] the slot, [2] its destination's set, [3] the tenant's set.
// ARGV[1] base, [2] id, [3] expected revision (0: create), [4] '1' to check
// the time, [5] gap ms, [6] ms, [7] channel, [8] destination, [9] status,
// [10] '1' when it occupies, [11] record, [12] revision. Returns {'ok'},
// {'existed', record}, {'missing'}, {'stale'} or {'blocked', close, blackouts}.
constexpr char kPutScript[] = R"lua(
local cur = redis.call('HMGET', KEYS[1], 'r', 'v', 'd')
local expected = tonumber(ARGV[3])
if expected == 0 then
  if cur[1] then return {'existed', cur[1]} end
else
  if not cur[1] then return {'missing'} end
  if tonumber(cur[2]) ~= expected then return {'stale'} end
end
local ms = tonumber(ARGV[6])
if ARGV[4] == '1' then
  local close, blocked = obstacles(ARGV[1], KEYS[2], ARGV[2], ms, tonumber(ARGV[5]),
                                   tonumber(ARGV[7]), ARGV[8])
  if #close > 0 or #blocked > 0 then return {'blocked', close, blocked} end
end
if cur[3] and cur[3] ~= ARGV[8] then redis.call('ZREM', ARGV[1] .. 'd:' .. cur[3], ARGV[2]) end
redis.call('HSET', KEYS[1], 'r', ARGV[11], 'v', ARGV[12], 'm', ARGV[6], 'd', ARGV[8],
           'c', ARGV[7], 'st', ARGV[9])
if ARGV[10] == '1' then
  redis.call('ZADD', KEYS[2], ms, ARGV[2])
else
  redis.call('ZREM', KEYS[2], ARGV[2])
end
redis.call('ZADD', KEYS[3], ms, ARGV[2])
return {'ok'}
)lua";

// KEYS[1] the tenant's set. ARGV[1] base, [2] from ms, [3] to ms
// (exclusive), [4] after ms, [5] after id ('' for none), [6] limit.
// Returns the records in order.
constexpr char kListScript[] = R"lua(
local from, limit = tonumber(ARGV[2]), tonumber(ARGV[6])
local after_ms, after_id = tonumber(ARGV[4]), ARGV[5]
if after_id ~= '' and after_ms > from then from = after_ms end
local out, offset, batch = {}, 0, 100
while #out < limit do
  local page = redis.call('ZRANGEBYSCORE', KEYS[1], from, '(' .. ARGV[3], 'WITHSCORES',
                          'LIMIT', offset, batch)
  for i = 1, #page, 2 do
    local id, ms = page[i], tonumber(page[i + 1])
    if after_id == '' or ms > after_ms or not bytes_le(id, after_id) then
      out[#out + 1] = redis.call('HGET', ARGV[1] .. 's:' .. id, 'r')
      if #out >= limit then break end
    end
  end
  if #page < 2 * batch then break end
  offset = offset + batch
end
return out
)lua";

// KEYS[1] the destination's set. ARGV[1] base, [2] from ms, [3] to ms
// (exclusive). Returns the records in order.
constexpr char kOnDestinationScript[] = R"lua(
local out = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[2], '(' .. ARGV[3])) do
  out[#out + 1] = redis.call('HGET', ARGV[1] .. 's:' .. id, 'r')
end
return out
)lua";

// KEYS[1] blackouts, [2] their JSON, [3] the tenant's set. ARGV[1] base,
// [2] id, [3] record, [4] start ms, [5] end ms, [6] channels (comma
// separated), [7...] destinations. Returns the records of the reserved
// slots it covers, in order.
constexpr char kPutBlackoutScript[] = R"lua(
local c, d = {}, {}
for x in string.gmatch(ARGV[6], '[^,]+') do c[#c + 1] = tonumber(x) end
for i = 7, #ARGV do d[#d + 1] = ARGV[i] end
local b = {s = tonumber(ARGV[4]), e = tonumber(ARGV[5]), c = c, d = d}
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
redis.call('HSET', KEYS[2], ARGV[2], cjson.encode(b))
local held = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[3], ARGV[4], '(' .. ARGV[5])) do
  local s = redis.call('HMGET', ARGV[1] .. 's:' .. id, 'r', 'st', 'c', 'd', 'm')
  if tonumber(s[2]) == RESERVED and covers(b, tonumber(s[5]), tonumber(s[3]), s[4]) then
    held[#held + 1] = s[1]
  end
end
return held
)lua";

// KEYS[1] blackouts, [2] their JSON. ARGV[1] id. Returns 1 when there was one.
constexpr char kDeleteBlackoutScript[] = R"lua(
redis.call('HDEL', KEYS[2], ARGV[1])
return redis.call('HDEL', KEYS[1], ARGV[1])
)lua";

int64_t Ms(absl::Time t) { return absl::ToUnixMillis(t); }

absl::StatusOr<v1::PublishingSlot> ParseSlot(const redis::Reply& reply) {
  v1::PublishingSlot slot;
  if (!reply.is_string() || !slot.ParseFromString(reply.str())) {
    return absl::DataLossError("a slot record does not parse: " + reply.DebugString());
  }
  return slot;
}

absl::StatusOr<std::vector<v1::PublishingSlot>> ParseSlots(const redis::Reply& reply) {
  FLYWHEEL_ASSIGN_OR_RETURN(std::vector<redis::Reply> records, reply.AsArray());
  std::vector<v1::PublishingSlot> out;
  out.reserve(records.size());
  for (const redis::Reply& record : records) {
    FLYWHEEL_ASSIGN_OR_RETURN(v1::PublishingSlot slot, ParseSlot(record));
    out.push_back(std::move(slot));
  }
  return out;
}

absl::StatusOr<std::vector<v1::Blackout>> ParseBlackouts(const redis::Reply& reply) {
  FLYWHEEL_ASSIGN_OR_RETURN(std::vector<redis::Reply> records, reply.AsArray());
  std::vector<v1::Blackout> out;
  for (const redis::Reply& record : records) {
    v1::Blackout blackout;
    if (!record.is_string() || !blackout.ParseFromString(record.str())) {
      return absl::DataLossError("a blackout record does not parse");
    }
    out.push_back(std::move(blackout));
  }
  std::sort(out.begin(), out.end(), [](const v1::Blackout& a, const v1::Blackout& b) {
    return std::make_tuple(FromProtoTime(a.range().start_time()), a.blackout_id()) <
           std::make_tuple(FromProtoTime(b.range().start_time()), b.blackout_id());
  });
  return out;
}

// {close records, blackout records} as the scripts return them.
absl::StatusOr<Obstacles> ParseObstacles(const redis::Reply& close, const redis::Reply& blocked) {
  Obstacles out;
  FLYWHEEL_ASSIGN_OR_RETURN(out.too_close, ParseSlots(close));
  FLYWHEEL_ASSIGN_OR_RETURN(out.blackouts, ParseBlackouts(blocked));
  return out;
}

int64_t GapMs(absl::Duration gap) { return std::max<int64_t>(0, absl::ToInt64Milliseconds(gap)); }

}  // namespace

RedisSlotStore::RedisSlotStore(redis::AsyncClient& redis, std::string key_prefix)
    : redis_(redis), key_prefix_(std::move(key_prefix)) {
  // Registering fixed, valid scripts under distinct names cannot fail.
  (void)scripts_.Register("slots_check", std::string(kLuaCommon) + kCheckScript);
  (void)scripts_.Register("slots_put", std::string(kLuaCommon) + kPutScript);
  (void)scripts_.Register("slots_list", std::string(kLuaCommon) + kListScript);
  (void)scripts_.Register("slots_on_destination", kOnDestinationScript);
  (void)scripts_.Register("slots_put_blackout", std::string(kLuaCommon) + kPutBlackoutScript);
  (void)scripts_.Register("slots_delete_blackout", kDeleteBlackoutScript);
}

std::string RedisSlotStore::Key(const std::string& tenant_id, const std::string& what) const {
  return absl::StrCat(key_prefix_, "sched:slots:{", tenant_id, "}:", what);
}

asio::awaitable<absl::StatusOr<redis::Reply>> RedisSlotStore::Run(const char* script,
                                                                  std::vector<std::string> keys,
                                                                  std::vector<std::string> args) {
  std::string name = script;
  co_return co_await redis_.Eval(scripts_, std::move(name), std::move(keys), std::move(args));
}

asio::awaitable<absl::StatusOr<Obstacles>> RedisSlotStore::Check(const v1::PublishingSlot& slot,
                                                                 absl::Duration min_gap) {
  const std::string& tenant = slot.tenant_id();
  std::vector<std::string> keys = {Key(tenant, "d:" + slot.destination())};
  std::vector<std::string> args = {Key(tenant, ""),
                                   slot.slot_id(),
                                   absl::StrCat(Ms(PublishTimeOf(slot))),
                                   absl::StrCat(GapMs(min_gap)),
                                   absl::StrCat(static_cast<int>(slot.channel())),
                                   slot.destination()};
  FLYWHEEL_CO_ASSIGN_OR_RETURN(redis::Reply reply,
                               co_await Run("slots_check", std::move(keys), std::move(args)));
  if (!reply.is_array() || reply.elements().size() != 2) {
    co_return absl::InternalError("slots_check returned " + reply.DebugString());
  }
  co_return ParseObstacles(reply.elements()[0], reply.elements()[1]);
}

asio::awaitable<absl::StatusOr<PutOutcome>> RedisSlotStore::Put(
    const v1::PublishingSlot& given, int64_t expected_revision,
    std::optional<absl::Duration> check_gap) {
  FLYWHEEL_CO_RETURN_IF_ERROR(CheckSlotIdentity(given));
  v1::PublishingSlot slot = given;
  const absl::Time at = PublishTimeOf(given);
  *slot.mutable_publish_time() = ToProtoTime(at);
  slot.clear_holds();
  const std::string& tenant = slot.tenant_id();
  std::vector<std::string> keys = {Key(tenant, "s:" + slot.slot_id()),
                                   Key(tenant, "d:" + slot.destination()), Key(tenant, "t")};
  std::vector<std::string> args = {Key(tenant, ""),
                                   slot.slot_id(),
                                   absl::StrCat(expected_revision),
                                   check_gap.has_value() ? "1" : "0",
                                   absl::StrCat(GapMs(check_gap.value_or(absl::ZeroDuration()))),
                                   absl::StrCat(Ms(at)),
                                   absl::StrCat(static_cast<int>(slot.channel())),
                                   slot.destination(),
                                   absl::StrCat(static_cast<int>(slot.status())),
                                   Occupies(slot.status()) ? "1" : "0",
                                   slot.SerializeAsString(),
                                   absl::StrCat(slot.revision())};
  FLYWHEEL_CO_ASSIGN_OR_RETURN(redis::Reply reply,
                               co_await Run("slots_put", std::move(keys), std::move(args)));
  if (!reply.is_array() || reply.elements().empty() || !reply.elements()[0].is_string()) {
    co_return absl::InternalError("slots_put returned " + reply.DebugString());
  }
  const std::vector<redis::Reply>& parts = reply.elements();
  const std::string& outcome = parts[0].str();
  PutOutcome out;
  if (outcome == "ok") {
    out.slot = std::move(slot);
    co_return out;
  }
  if (outcome == "existed" && parts.size() == 2) {
    FLYWHEEL_CO_ASSIGN_OR_RETURN(out.slot, ParseSlot(parts[1]));
    out.existed = true;
    co_return out;
  }
  if (outcome == "blocked" && parts.size() == 3) {
    FLYWHEEL_CO_ASSIGN_OR_RETURN(out.obstacles, ParseObstacles(parts[1], parts[2]));
    co_return out;
  }
  if (outcome == "missing") co_return absl::NotFoundError("no slot " + slot.slot_id());
  if (outcome == "stale") {
    co_return absl::AbortedError(
        absl::StrCat(slot.slot_id(), " changed since revision ", expected_revision));
  }
  co_return absl::InternalError("slots_put returned " + reply.DebugString());
}

asio::awaitable<absl::StatusOr<std::optional<v1::PublishingSlot>>> RedisSlotStore::Get(
    const std::string& tenant_id, const std::string& slot_id) {
  std::vector<std::string> command = {"HGET", Key(tenant_id, "s:" + slot_id), "r"};
  FLYWHEEL_CO_ASSIGN_OR_RETURN(redis::Reply reply, co_await redis_.Command(std::move(command)));
  if (reply.is_nil()) co_return std::nullopt;
  FLYWHEEL_CO_ASSIGN_OR_RETURN(v1::PublishingSlot slot, ParseSlot(reply));
  co_return slot;
}

asio::awaitable<absl::StatusOr<std::vector<v1::PublishingSlot>>> RedisSlotStore::List(
    const std::string& tenant_id, absl::Time from, absl::Time to, absl::Time after_time,
    const std::string& after_id, size_t limit) {
  std::vector<std::string> keys = {Key(tenant_id, "t")};
  std::vector<std::string> args = {Key(tenant_id, ""),
                                   absl::StrCat(Ms(from)),
                                   absl::StrCat(Ms(to)),
                                   absl::StrCat(Ms(after_time)),
                                   after_id,
                                   absl::StrCat(limit)};
  FLYWHEEL_CO_ASSIGN_OR_RETURN(redis::Reply reply,
                               co_await Run("slots_list", std::move(keys), std::move(args)));
  co_return ParseSlots(reply);
}

asio::awaitable<absl::StatusOr<std::vector<v1::PublishingSlot>>> RedisSlotStore::OnDestination(
    const std::string& tenant_id, const std::string& destination, absl::Time from, absl::Time to) {
  std::vector<std::string> keys = {Key(tenant_id, "d:" + destination)};
  std::vector<std::string> args = {Key(tenant_id, ""), absl::StrCat(Ms(from)),
                                   absl::StrCat(Ms(to))};
  FLYWHEEL_CO_ASSIGN_OR_RETURN(
      redis::Reply reply, co_await Run("slots_on_destination", std::move(keys), std::move(args)));
  co_return ParseSlots(reply);
}

asio::awaitable<absl::StatusOr<std::vector<v1::PublishingSlot>>> RedisSlotStore::PutBlackout(
    const v1::Blackout& given) {
  FLYWHEEL_CO_RETURN_IF_ERROR(CheckBlackoutIdentity(given));
  v1::Blackout blackout = given;
  const absl::Time start = ToSlotTime(FromProtoTime(given.range().start_time()));
  const absl::Time end = ToSlotTime(FromProtoTime(given.range().end_time()));
  *blackout.mutable_range()->mutable_start_time() = ToProtoTime(start);
  *blackout.mutable_range()->mutable_end_time() = ToProtoTime(end);
  const std::string& tenant = blackout.tenant_id();
  std::vector<std::string> keys = {Key(tenant, "b"), Key(tenant, "bx"), Key(tenant, "t")};
  std::vector<int> channels(blackout.channels().begin(), blackout.channels().end());
  std::vector<std::string> args = {
      Key(tenant, ""),         blackout.blackout_id(), blackout.SerializeAsString(),
      absl::StrCat(Ms(start)), absl::StrCat(Ms(end)),  absl::StrJoin(channels, ",")};
  args.insert(args.end(), blackout.destinations().begin(), blackout.destinations().end());
  FLYWHEEL_CO_ASSIGN_OR_RETURN(
      redis::Reply reply, co_await Run("slots_put_blackout", std::move(keys), std::move(args)));
  co_return ParseSlots(reply);
}

asio::awaitable<absl::StatusOr<bool>> RedisSlotStore::DeleteBlackout(
    const std::string& tenant_id, const std::string& blackout_id) {
  std::vector<std::string> keys = {Key(tenant_id, "b"), Key(tenant_id, "bx")};
  std::vector<std::string> args = {blackout_id};
  FLYWHEEL_CO_ASSIGN_OR_RETURN(
      redis::Reply reply, co_await Run("slots_delete_blackout", std::move(keys), std::move(args)));
  FLYWHEEL_CO_ASSIGN_OR_RETURN(int64_t removed, reply.AsInteger());
  co_return removed == 1;
}

asio::awaitable<absl::StatusOr<std::vector<v1::Blackout>>> RedisSlotStore::Blackouts(
    const std::string& tenant_id) {
  std::vector<std::string> command = {"HVALS", Key(tenant_id, "b")};
  FLYWHEEL_CO_ASSIGN_OR_RETURN(redis::Reply reply, co_await redis_.Command(std::move(command)));
  co_return ParseBlackouts(reply);
}

asio::awaitable<absl::Status> RedisSlotStore::SetApproved(const std::string& tenant_id,
                                                          const std::string& request_id,
                                                          std::optional<uint32_t> version) {
  std::vector<std::string> command =
      version ? std::vector<std::string>{"HSET", Key(tenant_id, "a"), request_id,
                                         absl::StrCat(*version)}
              : std::vector<std::string>{"HDEL", Key(tenant_id, "a"), request_id};
  FLYWHEEL_CO_ASSIGN_OR_RETURN(redis::Reply reply, co_await redis_.Command(std::move(command)));
  (void)reply;
  co_return absl::OkStatus();
}

asio::awaitable<absl::StatusOr<std::optional<uint32_t>>> RedisSlotStore::ApprovedVersion(
    const std::string& tenant_id, const std::string& request_id) {
  std::vector<std::string> command = {"HGET", Key(tenant_id, "a"), request_id};
  FLYWHEEL_CO_ASSIGN_OR_RETURN(redis::Reply reply, co_await redis_.Command(std::move(command)));
  if (reply.is_nil()) co_return std::nullopt;
  uint32_t version = 0;
  if (!reply.is_string() || !absl::SimpleAtoi(reply.str(), &version)) {
    co_return absl::DataLossError("an approval record of request " + request_id + " is " +
                                  reply.DebugString());
  }
  co_return version;
}

}  // namespace flywheel::scheduler
