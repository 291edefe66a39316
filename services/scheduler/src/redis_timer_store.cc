#include "redis_timer_store.h"

#include <openssl/sha.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>
#include <variant>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "flywheel/async/when_all.h"
#include "flywheel/core/status.h"
#include "stored_spec.h"
#include "stored_timer.pb.h"

namespace flywheel::scheduler {
namespace {

// Every script starts with these. A timer's record, cut into pieces of at
// most 63 bytes (a longer value would turn the bucket's hash from a listpack
// into a hash table, several times the memory):
//
//   byte 1      flags: bit 0 paused; the number of pieces times 16
//   byte 2      point: 0 warning, 1 + escalation level for a breach, 255 publish
//   bytes 3-6   revision, unsigned 32 bits, little-endian (as all below)
//   bytes 7-14  due time of the point, ms since the epoch
//   bytes 15-22 only while paused: when the clock stopped, ms
//   then        the body: name length (1 byte), name (tenant NUL timer id),
//               the packed spec (StoredSpec); only C++ reads past the name
//
// Piece 0 is the field `member`, piece i the field `member .. char(i)`.
constexpr char kLuaCommon[] = R"lua(
local PIECE = 63
local function load(t, h)
  local first = redis.call('HGET', t, h)
  if not first then return nil, 0 end
  local n = math.floor(string.byte(first, 1) / 16)
  if n <= 1 then return first, 1 end
  local names = {}
  for i = 1, n - 1 do names[i] = h .. string.char(i) end
  local rest = redis.call('HMGET', t, unpack(names))
  for i = 1, n - 1 do
    if not rest[i] then error('the record of a timer in ' .. t .. ' is cut short') end
  end
  return first .. table.concat(rest), n
end
local function parse(rec)
  local flags, point, rev, due = struct.unpack('<BBI4i8', rec)
  local r = {point = point, rev = rev, due = due, paused_at = false}
  local at = 15
  if flags % 2 == 1 then
    r.paused_at = (struct.unpack('<i8', rec, 15))
    at = 23
  end
  r.body = string.sub(rec, at)
  return r
end
local function save(t, h, r, old_n)
  local rec
  if r.paused_at then
    rec = struct.pack('<BBI4i8i8', 1, r.point, r.rev, r.due, r.paused_at) .. r.body
  else
    rec = struct.pack('<BBI4i8', 0, r.point, r.rev, r.due) .. r.body
  end
  local n = math.ceil(#rec / PIECE)
  rec = string.char(n * 16 + string.byte(rec, 1)) .. string.sub(rec, 2)
  local args = {}
  for i = 0, n - 1 do
    if i == 0 then args[#args + 1] = h else args[#args + 1] = h .. string.char(i) end
    args[#args + 1] = string.sub(rec, i * PIECE + 1, (i + 1) * PIECE)
  end
  redis.call('HSET', t, unpack(args))
  for i = n, old_n - 1 do redis.call('HDEL', t, h .. string.char(i)) end
  return rec
end
local function drop(t, h, n)
  local names = {h}
  for i = 1, n - 1 do names[#names + 1] = h .. string.char(i) end
  redis.call('HDEL', t, unpack(names))
end
local function next_rev(counter)
  return redis.call('INCR', counter) % 4294967296
end
local function fix_head(heads, d, b)
  local first = redis.call('ZRANGE', d, 0, 0, 'WITHSCORES')
  if first[1] then redis.call('ZADD', heads, first[2], b) else redis.call('ZREM', heads, b) end
end
)lua";

// The scripts for one timer: KEYS[1] heads, [2] leases, [3] revision
// counter, [4] the bucket's due set, [5] its hash, [6] (arm and cancel, with
// the request index) the request's index set. ARGV[1] member, [2] bucket,
// [3] name, then each script's own. `find_in` returns the parsed record of
// member `h` named `name` in hash `t`, or nil and 'collision' when the
// member holds another timer; `find` that of this script's timer.
constexpr char kLuaFind[] = R"lua(
local function find_in(t, h, name)
  local rec, n = load(t, h)
  if not rec then return nil end
  local r = parse(rec)
  if string.sub(r.body, 2, 1 + string.byte(r.body, 1)) ~= name then return nil, 'collision' end
  r.n = n
  return r
end
local function find() return find_in(KEYS[5], ARGV[1], ARGV[3]) end
)lua";

// ARGV[4] body, [5] point, [6] due, [7] with KEYS[6] the index member.
// Returns the record.
constexpr char kArmScript[] = R"lua(
local old, why = find()
if why then return redis.error_reply('the hash of this timer id is that of another timer') end
redis.call('ZREM', KEYS[2], ARGV[1])
local r = {point = tonumber(ARGV[5]), rev = next_rev(KEYS[3]), due = tonumber(ARGV[6]),
           paused_at = false, body = ARGV[4]}
redis.call('ZADD', KEYS[4], ARGV[6], ARGV[1])
fix_head(KEYS[1], KEYS[4], ARGV[2])
if KEYS[6] then redis.call('ZADD', KEYS[6], 0, ARGV[7]) end
return save(KEYS[5], ARGV[1], r, old and old.n or 0)
)lua";

// ARGV[4] with KEYS[6] the index member. Returns 1 when there was a timer.
constexpr char kCancelScript[] = R"lua(
if KEYS[6] then redis.call('ZREM', KEYS[6], ARGV[4]) end
local r = find()
if not r then return 0 end
drop(KEYS[5], ARGV[1], r.n)
redis.call('ZREM', KEYS[2], ARGV[1])
if redis.call('ZREM', KEYS[4], ARGV[1]) == 1 then fix_head(KEYS[1], KEYS[4], ARGV[2]) end
return 1
)lua";

// Returns the record, or nil.
constexpr char kGetScript[] = R"lua(
local r = find()
if not r then return false end
return (load(KEYS[5], ARGV[1]))
)lua";

// ARGV[4] now. Returns {'ok', record}, {'missing'} or {'paused'}.
constexpr char kPauseScript[] = R"lua(
local r = find()
if not r then return {'missing'} end
if r.paused_at then return {'paused'} end
r.paused_at = tonumber(ARGV[4])
r.rev = next_rev(KEYS[3])
redis.call('ZREM', KEYS[2], ARGV[1])
if redis.call('ZREM', KEYS[4], ARGV[1]) == 1 then fix_head(KEYS[1], KEYS[4], ARGV[2]) end
return {'ok', save(KEYS[5], ARGV[1], r, r.n)}
)lua";

// ARGV[4] expected revision, [5] point, [6] due. Returns {'ok', record},
// {'missing'}, {'running'} or {'stale'}.
constexpr char kResumeScript[] = R"lua(
local r = find()
if not r then return {'missing'} end
if not r.paused_at then return {'running'} end
if r.rev ~= tonumber(ARGV[4]) then return {'stale'} end
r.paused_at = false
r.rev = next_rev(KEYS[3])
r.point = tonumber(ARGV[5])
r.due = tonumber(ARGV[6])
redis.call('ZADD', KEYS[4], ARGV[6], ARGV[1])
fix_head(KEYS[1], KEYS[4], ARGV[2])
return {'ok', save(KEYS[5], ARGV[1], r, r.n)}
)lua";

// One shard's completions. KEYS[1] heads, [2] leases, [3] revision counter.
// ARGV[1] the shard's key base (bucket and index keys are built from it;
// they carry the same hash tag), then 8 for each completion: member,
// bucket, name, the claim's revision, the next point ('' to retire), its
// due time, the request's index bucket ('' without the index) and index
// member. A completion whose claim no longer holds its timer (another
// revision, or no lease) changes nothing. Each bucket's head is fixed once.
// Returns an outcome per completion: 'advanced', 'retired' or 'lost'.
constexpr char kCompleteAllScript[] = R"lua(
local base = ARGV[1]
local out, moved = {}, {}
for i = 2, #ARGV, 8 do
  local h, b, name, rev, point, due, rb, rm =
    ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], ARGV[i + 5], ARGV[i + 6],
    ARGV[i + 7]
  local t = base .. 't:' .. b
  local r = find_in(t, h, name)
  if not r or r.rev ~= tonumber(rev) or not redis.call('ZSCORE', KEYS[2], h) then
    out[#out + 1] = 'lost'
  else
    redis.call('ZREM', KEYS[2], h)
    if point == '' then
      drop(t, h, r.n)
      if rb ~= '' then redis.call('ZREM', base .. 'r:' .. rb, rm) end
      out[#out + 1] = 'retired'
    else
      r.rev = next_rev(KEYS[3])
      r.point = tonumber(point)
      r.due = tonumber(due)
      redis.call('ZADD', base .. 'd:' .. b, due, h)
      moved[b] = true
      save(t, h, r, r.n)
      out[#out + 1] = 'advanced'
    end
  end
end
for b in pairs(moved) do fix_head(KEYS[1], base .. 'd:' .. b, b) end
return out
)lua";

// One shard's claim. KEYS[1] heads, [2] leases, [3] revision counter. ARGV[1]
// the shard's key base (bucket keys are built from it; they carry the same
// hash tag), [2] buckets, [3] now, [4] max, [5] lease end. Timers whose
// lease ended come first; then the buckets' due sets are merged by their
// heads, so the shard's earliest due timers are taken first. Every taken
// timer gets a new revision and moves to the leases. Returns the records.
constexpr char kClaimScript[] = R"lua(
local base, buckets, now, max, lease_end =
  ARGV[1], tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4]), ARGV[5]
local out = {}
local function take(t, h)
  local rec, n = load(t, h)
  if not rec then
    redis.call('ZREM', KEYS[2], h)
    return
  end
  local r = parse(rec)
  r.rev = next_rev(KEYS[3])
  redis.call('ZADD', KEYS[2], lease_end, h)
  out[#out + 1] = save(t, h, r, n)
end
for _, h in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, max)) do
  take(base .. 't:' .. ((string.byte(h, 3) * 256 + string.byte(h, 4)) % buckets), h)
end
while #out < max do
  local heads = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'WITHSCORES', 'LIMIT', 0, 2)
  if #heads == 0 then break end
  local b, bound = heads[1], now
  if heads[3] and tonumber(heads[4]) < tonumber(now) then bound = heads[4] end
  local d, t = base .. 'd:' .. b, base .. 't:' .. b
  for _, h in ipairs(redis.call('ZRANGEBYSCORE', d, '-inf', bound, 'LIMIT', 0, max - #out)) do
    redis.call('ZREM', d, h)
    take(t, h)
  end
  fix_head(KEYS[1], d, b)
end
return out
)lua";

// KEYS[1] heads, [2] leases. Returns {earliest head or '', earliest lease end
// or ''}.
constexpr char kNextDueScript[] = R"lua(
local head = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local lease = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
return {head[2] or '', lease[2] or ''}
)lua";

// Bodies up to this size fit the 15 pieces the flags byte can count.
constexpr size_t kMaxBody = 15 * 63 - 22;

// A publish point's code; breaches use 1 to 1 + kMaxEscalationLevel below it.
constexpr uint8_t kPublishCode = 255;
static_assert(1 + kMaxEscalationLevel < kPublishCode);

uint8_t PointCode(const FirePoint& point) {
  if (point.kind == PointKind::kPublish) return kPublishCode;
  return point.kind == PointKind::kWarning ? 0 : static_cast<uint8_t>(1 + point.escalation_level);
}

FirePoint PointOfCode(uint8_t code, absl::Time due) {
  if (code == kPublishCode) return {.kind = PointKind::kPublish, .escalation_level = 0, .due = due};
  return {.kind = code == 0 ? PointKind::kWarning : PointKind::kBreach,
          .escalation_level = code == 0 ? 0u : code - 1u,
          .due = due};
}

uint64_t ReadLittleEndian(std::string_view bytes, size_t at, size_t width) {
  uint64_t value = 0;
  for (size_t i = 0; i < width; ++i) {
    value |= static_cast<uint64_t>(static_cast<uint8_t>(bytes[at + i])) << (8 * i);
  }
  return value;
}

std::string Name(const std::string& tenant_id, const std::string& timer_id) {
  return absl::StrCat(tenant_id, std::string(1, '\0'), timer_id);
}

// How many index sets each shard spreads requests over.
constexpr uint32_t kRequestBuckets = 256;

// The start of every index member of a request: tenant NUL request NUL.
std::string RequestName(const std::string& tenant_id, const std::string& request_id) {
  return absl::StrCat(tenant_id, std::string(1, '\0'), request_id, std::string(1, '\0'));
}

// The index bucket of a request (the same in every shard).
uint32_t RequestBucket(const std::string& request_name) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(request_name.data()), request_name.size(), digest);
  return ((uint32_t{digest[0]} << 8) | digest[1]) % kRequestBuckets;
}

// A record as the scripts return it (see kLuaCommon).
absl::StatusOr<StoredTimer> ParseRecord(const redis::Reply& reply) {
  if (!reply.is_string()) return absl::DataLossError("a timer record is " + reply.DebugString());
  const std::string& rec = reply.str();
  auto damaged = [&](const char* what) {
    return absl::DataLossError(absl::StrCat("a timer record of ", rec.size(), " bytes ", what));
  };
  if (rec.size() < 15) return damaged("is too short");
  const bool paused = (static_cast<uint8_t>(rec[0]) & 1) != 0;
  const uint8_t code = static_cast<uint8_t>(rec[1]);
  StoredTimer timer;
  timer.revision = static_cast<uint32_t>(ReadLittleEndian(rec, 2, 4));
  timer.next =
      PointOfCode(code, absl::FromUnixMillis(static_cast<int64_t>(ReadLittleEndian(rec, 6, 8))));
  size_t at = 14;
  if (paused) {
    if (rec.size() < 23) return damaged("is too short for a paused timer");
    timer.paused_at = absl::FromUnixMillis(static_cast<int64_t>(ReadLittleEndian(rec, 14, 8)));
    at = 22;
  }
  const size_t name_size = static_cast<uint8_t>(rec[at]);
  if (rec.size() < at + 1 + name_size) return damaged("has its name cut short");
  const std::string name = rec.substr(at + 1, name_size);
  const size_t nul = name.find('\0');
  if (nul == std::string::npos) return damaged("has a name without a tenant");
  timer.tenant_id = name.substr(0, nul);
  timer.timer_id = name.substr(nul + 1);
  stored::StoredSpec packed;
  if (!packed.ParseFromArray(rec.data() + at + 1 + name_size,
                             static_cast<int>(rec.size() - at - 1 - name_size))) {
    return damaged("has a spec that does not parse");
  }
  timer.spec = UnpackSpec(packed, timer.timer_id);
  return timer;
}

// A reply {'ok', record} or {outcome}: the record, or the outcome.
absl::StatusOr<std::variant<StoredTimer, std::string>> ParseOutcome(const redis::Reply& reply) {
  if (!reply.is_array() || reply.elements().empty() || !reply.elements()[0].is_string()) {
    return absl::InternalError("a timer script returned " + reply.DebugString());
  }
  const std::string& outcome = reply.elements()[0].str();
  if (outcome != "ok") return outcome;
  if (reply.elements().size() != 2) {
    return absl::InternalError("a timer script returned " + reply.DebugString());
  }
  FLYWHEEL_ASSIGN_OR_RETURN(StoredTimer timer, ParseRecord(reply.elements()[1]));
  return timer;
}

absl::StatusOr<std::optional<int64_t>> ParseScore(const redis::Reply& reply) {
  if (!reply.is_string()) return absl::InternalError("a score is " + reply.DebugString());
  if (reply.str().empty()) return std::nullopt;
  double score = 0;
  if (!absl::SimpleAtod(reply.str(), &score)) {
    return absl::DataLossError("a score is " + reply.DebugString());
  }
  return std::llround(score);
}

}  // namespace

absl::StatusOr<std::unique_ptr<RedisTimerStore>> RedisTimerStore::Create(
    redis::AsyncClient& redis, RedisTimerStoreOptions options) {
  if (options.shards < 1 || options.shards > 65536) {
    return absl::InvalidArgumentError(
        absl::StrCat("shards: ", options.shards, " is not between 1 and 65536"));
  }
  if (options.buckets_per_shard < 1 || options.buckets_per_shard > 65536) {
    return absl::InvalidArgumentError(absl::StrCat("buckets_per_shard: ", options.buckets_per_shard,
                                                   " is not between 1 and 65536"));
  }
  return std::unique_ptr<RedisTimerStore>(new RedisTimerStore(redis, std::move(options)));
}

RedisTimerStore::RedisTimerStore(redis::AsyncClient& redis, RedisTimerStoreOptions options)
    : redis_(redis), options_(std::move(options)) {
  const std::string one = std::string(kLuaCommon) + kLuaFind;
  // Registering fixed, valid scripts under distinct names cannot fail.
  (void)scripts_.Register("sched_arm", one + kArmScript);
  (void)scripts_.Register("sched_cancel", one + kCancelScript);
  (void)scripts_.Register("sched_get", one + kGetScript);
  (void)scripts_.Register("sched_pause", one + kPauseScript);
  (void)scripts_.Register("sched_resume", one + kResumeScript);
  (void)scripts_.Register("sched_complete_all", one + kCompleteAllScript);
  (void)scripts_.Register("sched_claim", std::string(kLuaCommon) + kClaimScript);
  (void)scripts_.Register("sched_next_due", kNextDueScript);
}

RedisTimerStore::Slot RedisTimerStore::SlotOf(const std::string& tenant_id,
                                              const std::string& timer_id) const {
  const std::string name = Name(tenant_id, timer_id);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(name.data()), name.size(), digest);
  // Bytes 1-2 pick the shard, 3-4 the bucket (the claim script reads them
  // too); the member is 96 bits, so ids collide with odds of about 1e-17 at
  // a million timers, and a collision is refused, never merged.
  return {.shard = ((uint32_t{digest[0]} << 8) | digest[1]) % options_.shards,
          .bucket = ((uint32_t{digest[2]} << 8) | digest[3]) % options_.buckets_per_shard,
          .member = std::string(reinterpret_cast<const char*>(digest), 12)};
}

std::string RedisTimerStore::ShardKey(uint32_t shard, const std::string& what) const {
  return absl::StrCat(options_.key_prefix, "sched:{", shard, "}:", what);
}

std::string RedisTimerStore::BucketKey(uint32_t shard, const std::string& what,
                                       uint32_t bucket) const {
  return absl::StrCat(options_.key_prefix, "sched:{", shard, "}:", what, ":", bucket);
}

bool RedisTimerStore::Indexed(const FirePoint& point) const {
  return options_.index_requests && point.kind != PointKind::kPublish;
}

asio::awaitable<absl::StatusOr<redis::Reply>> RedisTimerStore::RunForTimer(
    const char* script, const std::string& tenant_id, const std::string& timer_id,
    std::vector<std::string> args, const std::string* request_id) {
  const Slot slot = SlotOf(tenant_id, timer_id);
  std::vector<std::string> keys = {
      ShardKey(slot.shard, "h"), ShardKey(slot.shard, "l"), ShardKey(slot.shard, "n"),
      BucketKey(slot.shard, "d", slot.bucket), BucketKey(slot.shard, "t", slot.bucket)};
  std::vector<std::string> all = {slot.member, absl::StrCat(slot.bucket),
                                  Name(tenant_id, timer_id)};
  all.insert(all.end(), std::make_move_iterator(args.begin()), std::make_move_iterator(args.end()));
  if (request_id != nullptr) {
    const std::string request = RequestName(tenant_id, *request_id);
    keys.push_back(BucketKey(slot.shard, "r", RequestBucket(request)));
    all.push_back(request + timer_id);
  }
  std::string name = script;
  co_return co_await redis_.Eval(scripts_, std::move(name), std::move(keys), std::move(all));
}

asio::awaitable<absl::StatusOr<StoredTimer>> RedisTimerStore::Arm(const TimerArm& given) {
  FLYWHEEL_CO_RETURN_IF_ERROR(CheckArm(given));
  const TimerArm arm = StoredForm(given);
  const std::string name = Name(arm.tenant_id, arm.timer_id);
  std::string body = absl::StrCat(std::string(1, static_cast<char>(name.size())), name,
                                  PackSpec(arm).SerializeAsString());
  if (body.size() > kMaxBody) {
    co_return absl::InvalidArgumentError(
        absl::StrCat("spec: the timer takes ", body.size(), " bytes, more than ", kMaxBody));
  }
  std::vector<std::string> args = {std::move(body), absl::StrCat(PointCode(arm.next)),
                                   absl::StrCat(absl::ToUnixMillis(arm.next.due))};
  const std::string* request = Indexed(arm.next) ? &arm.spec.request_id : nullptr;
  FLYWHEEL_CO_ASSIGN_OR_RETURN(
      redis::Reply reply,
      co_await RunForTimer("sched_arm", arm.tenant_id, arm.timer_id, args, request));
  co_return ParseRecord(reply);
}

asio::awaitable<absl::StatusOr<bool>> RedisTimerStore::Cancel(const std::string& tenant_id,
                                                              const std::string& timer_id) {
  // The index member names the request, which only the record knows.
  std::optional<std::string> request;
  if (options_.index_requests) {
    FLYWHEEL_CO_ASSIGN_OR_RETURN(std::optional<StoredTimer> timer,
                                 co_await Get(tenant_id, timer_id));
    if (!timer.has_value()) co_return false;
    if (Indexed(timer->next)) request = timer->spec.request_id;
  }
  std::vector<std::string> none;
  const std::string* indexed = request.has_value() ? &*request : nullptr;
  FLYWHEEL_CO_ASSIGN_OR_RETURN(
      redis::Reply reply, co_await RunForTimer("sched_cancel", tenant_id, timer_id, none, indexed));
  FLYWHEEL_CO_ASSIGN_OR_RETURN(int64_t removed, reply.AsInteger());
  co_return removed == 1;
}

asio::awaitable<absl::StatusOr<StoredTimer>> RedisTimerStore::Pause(const std::string& tenant_id,
                                                                    const std::string& timer_id,
                                                                    absl::Time now) {
  std::vector<std::string> args = {absl::StrCat(absl::ToUnixMillis(now))};
  FLYWHEEL_CO_ASSIGN_OR_RETURN(redis::Reply reply,
                               co_await RunForTimer("sched_pause", tenant_id, timer_id, args));
  FLYWHEEL_CO_ASSIGN_OR_RETURN(auto outcome, ParseOutcome(reply));
  if (auto* timer = std::get_if<StoredTimer>(&outcome)) co_return std::move(*timer);
  const std::string& what = std::get<std::string>(outcome);
  if (what == "missing") co_return absl::NotFoundError("no timer " + timer_id);
  if (what == "paused") co_return absl::FailedPreconditionError(timer_id + " is paused already");
  co_return absl::InternalError("sched_pause returned " + reply.DebugString());
}

asio::awaitable<absl::StatusOr<StoredTimer>> RedisTimerStore::Resume(const std::string& tenant_id,
                                                                     const std::string& timer_id,
                                                                     const FirePoint& next,
                                                                     uint32_t expected_revision) {
  FLYWHEEL_CO_RETURN_IF_ERROR(CheckPoint(next));
  std::vector<std::string> args = {absl::StrCat(expected_revision), absl::StrCat(PointCode(next)),
                                   absl::StrCat(absl::ToUnixMillis(next.due))};
  FLYWHEEL_CO_ASSIGN_OR_RETURN(redis::Reply reply,
                               co_await RunForTimer("sched_resume", tenant_id, timer_id, args));
  FLYWHEEL_CO_ASSIGN_OR_RETURN(auto outcome, ParseOutcome(reply));
  if (auto* timer = std::get_if<StoredTimer>(&outcome)) co_return std::move(*timer);
  const std::string& what = std::get<std::string>(outcome);
  if (what == "missing") co_return absl::NotFoundError("no timer " + timer_id);
  if (what == "running") co_return absl::FailedPreconditionError(timer_id + " is not paused");
  if (what == "stale") {
    co_return absl::AbortedError(
        absl::StrCat(timer_id, " changed since revision ", expected_revision));
  }
  co_return absl::InternalError("sched_resume returned " + reply.DebugString());
}

asio::awaitable<absl::StatusOr<std::optional<StoredTimer>>> RedisTimerStore::Get(
    const std::string& tenant_id, const std::string& timer_id) {
  std::vector<std::string> none;
  FLYWHEEL_CO_ASSIGN_OR_RETURN(redis::Reply reply,
                               co_await RunForTimer("sched_get", tenant_id, timer_id, none));
  if (reply.is_nil()) co_return std::nullopt;
  FLYWHEEL_CO_ASSIGN_OR_RETURN(StoredTimer timer, ParseRecord(reply));
  co_return timer;
}

asio::awaitable<absl::StatusOr<std::vector<ClaimedTimer>>> RedisTimerStore::Claim(
    absl::Time now, size_t max, absl::Duration lease) {
  if (lease <= absl::ZeroDuration()) {
    co_return absl::InvalidArgumentError("lease: must be positive");
  }
  max = std::min(max, kMaxClaimBatch);
  std::vector<ClaimedTimer> out;
  const int64_t now_ms = absl::ToUnixMillis(now);
  const int64_t lease_end_ms = absl::ToUnixMillis(now + lease);
  const absl::Time lease_until = absl::FromUnixMillis(lease_end_ms);
  const uint32_t first = next_shard_.fetch_add(1, std::memory_order_relaxed);
  for (uint32_t i = 0; i < options_.shards && out.size() < max; ++i) {
    const uint32_t shard = (first + i) % options_.shards;
    std::vector<std::string> keys = {ShardKey(shard, "h"), ShardKey(shard, "l"),
                                     ShardKey(shard, "n")};
    std::vector<std::string> args = {ShardKey(shard, ""), absl::StrCat(options_.buckets_per_shard),
                                     absl::StrCat(now_ms), absl::StrCat(max - out.size()),
                                     absl::StrCat(lease_end_ms)};
    std::string script = "sched_claim";
    FLYWHEEL_CO_ASSIGN_OR_RETURN(
        redis::Reply reply,
        co_await redis_.Eval(scripts_, std::move(script), std::move(keys), std::move(args)));
    FLYWHEEL_CO_ASSIGN_OR_RETURN(std::vector<redis::Reply> records, reply.AsArray());
    for (const redis::Reply& record : records) {
      FLYWHEEL_CO_ASSIGN_OR_RETURN(StoredTimer timer, ParseRecord(record));
      out.push_back({.timer = std::move(timer), .lease_until = lease_until});
    }
  }
  std::sort(out.begin(), out.end(), [](const ClaimedTimer& a, const ClaimedTimer& b) {
    return std::tie(a.timer.next.due, a.timer.tenant_id, a.timer.timer_id) <
           std::tie(b.timer.next.due, b.timer.tenant_id, b.timer.timer_id);
  });
  co_return out;
}

asio::awaitable<std::vector<absl::Status>> RedisTimerStore::CompleteAll(
    const std::vector<Completion>& batch) {
  std::vector<absl::Status> done(batch.size());
  // The valid completions of each shard, by their place in `batch`.
  std::map<uint32_t, std::vector<size_t>> by_shard;
  for (size_t i = 0; i < batch.size(); ++i) {
    if (batch[i].next.has_value()) {
      done[i] = CheckPoint(*batch[i].next);
      if (!done[i].ok()) continue;
    }
    const StoredTimer& timer = batch[i].claimed->timer;
    by_shard[SlotOf(timer.tenant_id, timer.timer_id).shard].push_back(i);
  }
  std::vector<asio::awaitable<std::vector<absl::Status>>> calls;
  calls.reserve(by_shard.size());
  for (const auto& [shard, at] : by_shard) calls.push_back(CompleteInShard(shard, batch, at));
  // The shards at once: their scripts are independent.
  std::vector<std::vector<absl::Status>> outcomes = co_await async::WhenAll(std::move(calls));
  size_t call = 0;
  for (const auto& [shard, at] : by_shard) {
    for (size_t k = 0; k < at.size(); ++k) done[at[k]] = std::move(outcomes[call][k]);
    ++call;
  }
  co_return done;
}

asio::awaitable<std::vector<absl::Status>> RedisTimerStore::CompleteInShard(
    uint32_t shard, const std::vector<Completion>& batch, const std::vector<size_t>& at) {
  std::vector<std::string> keys = {ShardKey(shard, "h"), ShardKey(shard, "l"),
                                   ShardKey(shard, "n")};
  std::vector<std::string> args;
  args.reserve(1 + 8 * at.size());
  args.push_back(ShardKey(shard, ""));
  for (size_t i : at) {
    const StoredTimer& timer = batch[i].claimed->timer;
    const std::optional<FirePoint>& next = batch[i].next;
    Slot slot = SlotOf(timer.tenant_id, timer.timer_id);
    args.push_back(std::move(slot.member));
    args.push_back(absl::StrCat(slot.bucket));
    args.push_back(Name(timer.tenant_id, timer.timer_id));
    args.push_back(absl::StrCat(timer.revision));
    args.push_back(next.has_value() ? absl::StrCat(PointCode(*next)) : "");
    args.push_back(next.has_value() ? absl::StrCat(absl::ToUnixMillis(next->due)) : "");
    if (!next.has_value() && Indexed(timer.next)) {
      const std::string request = RequestName(timer.tenant_id, timer.spec.request_id);
      args.push_back(absl::StrCat(RequestBucket(request)));
      args.push_back(request + timer.timer_id);
    } else {
      args.emplace_back();
      args.emplace_back();
    }
  }
  std::string script = "sched_complete_all";
  absl::StatusOr<redis::Reply> reply =
      co_await redis_.Eval(scripts_, std::move(script), std::move(keys), std::move(args));
  absl::StatusOr<std::vector<redis::Reply>> outcomes =
      reply.ok() ? reply->AsArray() : absl::StatusOr<std::vector<redis::Reply>>(reply.status());
  if (outcomes.ok() && outcomes->size() != at.size()) {
    outcomes = absl::InternalError("sched_complete_all returned " + reply->DebugString());
  }
  std::vector<absl::Status> done;
  done.reserve(at.size());
  for (size_t k = 0; k < at.size(); ++k) {
    if (!outcomes.ok()) {
      done.push_back(outcomes.status());
      continue;
    }
    const redis::Reply& outcome = (*outcomes)[k];
    const StoredTimer& timer = batch[at[k]].claimed->timer;
    if (outcome.is_string() && (outcome.str() == "advanced" || outcome.str() == "retired")) {
      done.push_back(absl::OkStatus());
    } else if (outcome.is_string() && outcome.str() == "lost") {
      done.push_back(
          absl::AbortedError(absl::StrCat("the claim of ", timer.timer_id, " at revision ",
                                          timer.revision, " no longer holds it")));
    } else {
      done.push_back(absl::InternalError("sched_complete_all returned " + outcome.DebugString()));
    }
  }
  co_return done;
}

asio::awaitable<absl::StatusOr<std::vector<std::string>>> RedisTimerStore::OfRequest(
    const std::string& tenant_id, const std::string& request_id, const std::string& after,
    size_t limit) {
  if (!options_.index_requests) {
    co_return absl::FailedPreconditionError("this timer store keeps no index of requests");
  }
  const std::string request = RequestName(tenant_id, request_id);
  const uint32_t bucket = RequestBucket(request);
  // The request's members sort between `request` and `request` with its
  // last NUL raised to 0x01.
  std::string end = request;
  end.back() = '\x01';
  std::vector<asio::awaitable<absl::StatusOr<redis::Reply>>> reads;
  reads.reserve(options_.shards);
  for (uint32_t shard = 0; shard < options_.shards; ++shard) {
    std::vector<std::string> command = {"ZRANGEBYLEX",
                                        BucketKey(shard, "r", bucket),
                                        after.empty() ? "[" + request : "(" + request + after,
                                        "(" + end,
                                        "LIMIT",
                                        "0",
                                        absl::StrCat(limit)};
    reads.push_back(redis_.Command(std::move(command)));
  }
  std::vector<std::string> timers;
  for (absl::StatusOr<redis::Reply>& reply : co_await async::WhenAll(std::move(reads))) {
    if (!reply.ok()) co_return reply.status();
    if (!reply->is_array()) {
      co_return absl::InternalError("ZRANGEBYLEX returned " + reply->DebugString());
    }
    for (const redis::Reply& member : reply->elements()) {
      if (member.is_string() && member.str().size() > request.size()) {
        timers.push_back(member.str().substr(request.size()));
      }
    }
  }
  std::sort(timers.begin(), timers.end());
  if (timers.size() > limit) timers.resize(limit);
  co_return timers;
}

asio::awaitable<absl::StatusOr<std::optional<absl::Time>>> RedisTimerStore::NextDue() {
  std::optional<int64_t> earliest;
  for (uint32_t shard = 0; shard < options_.shards; ++shard) {
    std::vector<std::string> keys = {ShardKey(shard, "h"), ShardKey(shard, "l")};
    std::vector<std::string> args;
    std::string script = "sched_next_due";
    FLYWHEEL_CO_ASSIGN_OR_RETURN(
        redis::Reply reply,
        co_await redis_.Eval(scripts_, std::move(script), std::move(keys), std::move(args)));
    FLYWHEEL_CO_ASSIGN_OR_RETURN(std::vector<redis::Reply> both, reply.AsArray());
    if (both.size() != 2)
      co_return absl::InternalError("sched_next_due returned " + reply.DebugString());
    for (const redis::Reply& score : both) {
      FLYWHEEL_CO_ASSIGN_OR_RETURN(std::optional<int64_t> ms, ParseScore(score));
      if (ms.has_value() && (!earliest.has_value() || *ms < *earliest)) earliest = ms;
    }
  }
  if (!earliest.has_value()) co_return std::nullopt;
  co_return absl::FromUnixMillis(*earliest);
}

}  // namespace flywheel::scheduler
