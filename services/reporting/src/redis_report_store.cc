#include "redis_report_store.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "flywheel/core/status.h"

namespace flywheel::reporting {
namespace {

// KEYS[1]: the request's hash. ARGV: expected revision, facts, the number
// of entries to remove, then (key, member) to remove and (key, score,
// member) to add. Every key is in the tenant's slot.
constexpr char kCommitScript[] = R"lua(
local rev = tonumber(redis.call('HGET', KEYS[1], 'rev') or '0')
if rev ~= tonumber(ARGV[1]) then return -1 end
redis.call('HSET', KEYS[1], 'rev', rev + 1, 'facts', ARGV[2])
local i = 4
for _ = 1, tonumber(ARGV[3]) do
  redis.call('ZREM', ARGV[i], ARGV[i + 1])
  i = i + 2
end
while i <= #ARGV do
  redis.call('ZADD', ARGV[i], ARGV[i + 1], ARGV[i + 2])
  i = i + 3
end
return rev + 1
)lua";

// KEYS[1]: the ids hash, KEYS[2]: the series, KEYS[3]: the event ids
// applied. ARGV: id, score, member, event id. An event applied before
// changes nothing, so a replay never brings back a restated record.
constexpr char kReplaceScript[] = R"lua(
if redis.call('SADD', KEYS[3], ARGV[4]) == 0 then return 0 end
local now = ARGV[2] .. '\31' .. ARGV[3]
local old = redis.call('HGET', KEYS[1], ARGV[1])
if old == now then return 0 end
if old then
  local sep = string.find(old, '\31', 1, true)
  redis.call('ZREM', KEYS[2], string.sub(old, sep + 1))
end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
redis.call('HSET', KEYS[1], ARGV[1], now)
return 1
)lua";

}  // namespace

RedisReportStore::RedisReportStore(redis::AsyncClient& redis, std::string key_prefix)
    : redis_(redis), prefix_(std::move(key_prefix)) {
  // Registering fixed, valid scripts under distinct names cannot fail.
  (void)scripts_.Register("report_commit", kCommitScript);
  (void)scripts_.Register("report_replace", kReplaceScript);
}

std::string RedisReportStore::Base(const std::string& tenant) const {
  return absl::StrCat(prefix_, "rep:{", tenant, "}:");
}

asio::awaitable<absl::StatusOr<FactsRead>> RedisReportStore::ReadRequest(std::string tenant,
                                                                         std::string request) {
  std::vector<std::string> command = {"HMGET", Base(tenant) + "req:" + request, "rev", "facts"};
  FLYWHEEL_CO_ASSIGN_OR_RETURN(redis::Reply reply, co_await redis_.Command(std::move(command)));
  FLYWHEEL_CO_ASSIGN_OR_RETURN(std::vector<redis::Reply> parts, reply.AsArray());
  FactsRead out;
  if (parts.size() != 2 || parts[0].is_nil()) co_return out;
  out.found = true;
  if (!absl::SimpleAtoi(parts[0].str(), &out.revision) ||
      !out.facts.ParseFromString(parts[1].str())) {
    co_return absl::DataLossError("stored facts of request " + request + " do not parse");
  }
  co_return out;
}

asio::awaitable<absl::Status> RedisReportStore::CommitRequest(
    std::string tenant, std::string request, int64_t expected_revision, stored::RequestFacts facts,
    std::vector<SeriesEntry> before, std::vector<SeriesEntry> after) {
  const std::string base = Base(tenant);
  std::vector<std::string> keys = {base + "req:" + request};
  std::vector<std::string> args = {absl::StrCat(expected_revision), "", ""};
  size_t removed = 0;
  for (const SeriesEntry& old : before) {
    if (std::find(after.begin(), after.end(), old) != after.end()) continue;
    args.push_back(base + old.series);
    args.push_back(old.member);
    ++removed;
  }
  args[2] = absl::StrCat(removed);
  facts.clear_entries();
  for (const SeriesEntry& now : after) {
    facts.add_entries(EncodeEntry(now));
    if (std::find(before.begin(), before.end(), now) != before.end()) continue;
    args.push_back(base + now.series);
    args.push_back(absl::StrCat(now.score));
    args.push_back(now.member);
  }
  args[1] = facts.SerializeAsString();
  FLYWHEEL_CO_ASSIGN_OR_RETURN(
      redis::Reply reply,
      co_await redis_.Eval(scripts_, "report_commit", std::move(keys), std::move(args)));
  if (reply.integer() < 0) {
    co_return absl::AbortedError("request " + request + " changed while its event was applied");
  }
  co_return absl::OkStatus();
}

asio::awaitable<absl::StatusOr<bool>> RedisReportStore::AddTouch(std::string tenant,
                                                                 std::string lead, int64_t time_ms,
                                                                 std::string touch) {
  const std::string base = Base(tenant);
  const std::string score = absl::StrCat(time_ms);
  std::vector<std::string> own = {"ZADD", base + "lead:" + lead, score, touch};
  FLYWHEEL_CO_ASSIGN_OR_RETURN(redis::Reply first, co_await redis_.Command(std::move(own)));
  std::vector<std::string> all = {"ZADD", base + kTouchSeries, score,
                                  absl::StrCat(lead, std::string(1, kSep), touch)};
  FLYWHEEL_CO_ASSIGN_OR_RETURN(redis::Reply second, co_await redis_.Command(std::move(all)));
  co_return first.integer() + second.integer() > 0;
}

asio::awaitable<absl::StatusOr<bool>> RedisReportStore::AddQualified(std::string tenant,
                                                                     std::string lead,
                                                                     int64_t time_ms) {
  std::vector<std::string> command = {"ZADD", Base(tenant) + kQualifiedSeries, "NX",
                                      absl::StrCat(time_ms), lead};
  FLYWHEEL_CO_ASSIGN_OR_RETURN(redis::Reply reply, co_await redis_.Command(std::move(command)));
  co_return reply.integer() > 0;
}

asio::awaitable<absl::StatusOr<bool>> RedisReportStore::Replace(std::string tenant,
                                                                std::string series, std::string id,
                                                                int64_t score, std::string member,
                                                                std::string event_id) {
  const std::string base = Base(tenant);
  std::vector<std::string> keys = {base + "ids:" + series, base + series, base + "seen:" + series};
  std::vector<std::string> args = {std::move(id), absl::StrCat(score), std::move(member),
                                   std::move(event_id)};
  FLYWHEEL_CO_ASSIGN_OR_RETURN(
      redis::Reply reply,
      co_await redis_.Eval(scripts_, "report_replace", std::move(keys), std::move(args)));
  co_return reply.integer() > 0;
}

asio::awaitable<absl::StatusOr<std::vector<std::pair<std::string, int64_t>>>>
RedisReportStore::ByScore(std::string key, int64_t from_ms, int64_t to_ms) {
  std::vector<std::string> command = {"ZRANGEBYSCORE", std::move(key), absl::StrCat(from_ms),
                                      absl::StrCat("(", to_ms), "WITHSCORES"};
  FLYWHEEL_CO_ASSIGN_OR_RETURN(redis::Reply reply, co_await redis_.Command(std::move(command)));
  FLYWHEEL_CO_ASSIGN_OR_RETURN(std::vector<redis::Reply> parts, reply.AsArray());
  std::vector<std::pair<std::string, int64_t>> out;
  out.reserve(parts.size() / 2);
  for (size_t i = 0; i + 1 < parts.size(); i += 2) {
    double score = 0;
    (void)absl::SimpleAtod(parts[i + 1].str(), &score);
    out.emplace_back(parts[i].str(), static_cast<int64_t>(score));
  }
  co_return out;
}

asio::awaitable<absl::StatusOr<std::vector<std::pair<std::string, int64_t>>>>
RedisReportStore::Range(std::string tenant, std::string series, int64_t from_ms, int64_t to_ms) {
  return ByScore(Base(tenant) + series, from_ms, to_ms);
}

asio::awaitable<absl::StatusOr<std::vector<std::pair<std::string, int64_t>>>>
RedisReportStore::LeadTouches(std::string tenant, std::string lead, int64_t to_ms) {
  return ByScore(Base(tenant) + "lead:" + lead, INT64_MIN / 2, to_ms);
}

}  // namespace flywheel::reporting
