#include "redis_lead_store.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "flywheel/core/status.h"

namespace flywheel::lead_scoring {
namespace {

// ARGV[1] base, [2] lead id, [3] visitor id, [4] activity id (each may be
// ''). Returns {subject key, rev, state, seen, visitor rev, visitor state}.
constexpr char kReadScript[] = R"lua(
local base, lead, visitor, act = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local subject
if lead ~= '' then
  subject = 'l:' .. lead
else
  local linked = redis.call('HGET', base .. 'anon', visitor)
  if linked then subject = 'l:' .. linked else subject = 'a:' .. visitor end
end
local h = redis.call('HMGET', base .. subject, 'rev', 'state')
local seen = 0
if act ~= '' and redis.call('ZSCORE', base .. subject .. ':seen', act) then seen = 1 end
local vrev, vstate = '', ''
if lead ~= '' and visitor ~= '' then
  local v = redis.call('HMGET', base .. 'a:' .. visitor, 'rev', 'state')
  vrev, vstate = v[1] or '', v[2] or ''
  if act ~= '' and seen == 0 and redis.call('ZSCORE', base .. 'a:' .. visitor .. ':seen', act) then
    seen = 1
  end
end
return {subject, h[1] or '', h[2] or '', seen, vrev, vstate}
)lua";

// The write, prefixed with outbox::RedisOutbox::kLua; KEYS are the
// outbox's. ARGV[1] base, [2] subject key, [3] expected rev ('0': absent),
// [4] state, [5] activity id, [6] history entry, [7] merged visitor,
// [8] its expected rev, [9] lead id to index ('' for a visitor), [10] score,
// [11] previous band, [12] band, [13] previous account, [14] account,
// [15] seen ids kept, [16] history kept, [17] visitor to link to the lead
// ('' none); then the outbox's.
// Returns the new revision, or 0 when a revision moved, a visitor was
// linked to a lead meanwhile, or a visitor being linked without a merge has
// activity of its own by now (nothing written).
constexpr char kCommitScript[] = R"lua(
local base, subject = ARGV[1], ARGV[2]
local key = base .. subject
if (redis.call('HGET', key, 'rev') or '0') ~= ARGV[3] then return 0 end
-- A visitor linked to a lead since it was read: its activity is the lead's.
if string.sub(subject, 1, 2) == 'a:' and redis.call('HEXISTS', base .. 'anon', string.sub(subject, 3)) == 1 then
  return 0
end
local visitor = ARGV[7]
if visitor ~= '' and (redis.call('HGET', base .. 'a:' .. visitor, 'rev') or '0') ~= ARGV[8] then
  return 0
end
-- A link read when the visitor had no activity: activity scored under the
-- visitor since then would be stranded, so the link is read again to merge it.
if ARGV[17] ~= '' and visitor == '' and redis.call('EXISTS', base .. 'a:' .. ARGV[17]) == 1 then
  return 0
end
local rev = tonumber(ARGV[3]) + 1
redis.call('HSET', key, 'rev', rev, 'state', ARGV[4])
local seen_kept, history_kept = tonumber(ARGV[15]), tonumber(ARGV[16])
if visitor ~= '' then
  local v = base .. 'a:' .. visitor
  redis.call('ZUNIONSTORE', key .. ':seen', 2, key .. ':seen', v .. ':seen', 'AGGREGATE', 'MAX')
  for _, entry in ipairs(redis.call('LRANGE', v .. ':log', 0, -1)) do
    redis.call('RPUSH', key .. ':log', entry)
  end
  redis.call('DEL', v, v .. ':seen', v .. ':log')
end
if ARGV[17] ~= '' then redis.call('HSET', base .. 'anon', ARGV[17], ARGV[9]) end
if ARGV[5] ~= '' then
  redis.call('ZADD', key .. ':seen', rev, ARGV[5])
  redis.call('ZREMRANGEBYRANK', key .. ':seen', 0, -(seen_kept + 1))
end
if ARGV[6] ~= '' then redis.call('LPUSH', key .. ':log', ARGV[6]) end
redis.call('LTRIM', key .. ':log', 0, history_kept - 1)
local member = ARGV[9]
if member ~= '' then
  local score = ARGV[10]
  redis.call('ZADD', base .. 'idx', score, member)
  if ARGV[11] ~= ARGV[12] and ARGV[11] ~= '0' then
    redis.call('ZREM', base .. 'band:' .. ARGV[11], member)
  end
  redis.call('ZADD', base .. 'band:' .. ARGV[12], score, member)
  if ARGV[13] ~= ARGV[14] and ARGV[13] ~= '' then
    redis.call('ZREM', base .. 'acct:' .. ARGV[13], member)
  end
  if ARGV[14] ~= '' then redis.call('ZADD', base .. 'acct:' .. ARGV[14], score, member) end
end
flywheel_outbox_put()
return rev
)lua";

// ARGV[1] the lead's key, [2] history entries to read (0: none). Returns
// {state, entries...}.
constexpr char kGetScript[] = R"lua(
local state = redis.call('HGET', ARGV[1], 'state')
if not state then return {} end
local out = {state}
local n = tonumber(ARGV[2])
if n > 0 then
  for _, entry in ipairs(redis.call('LRANGE', ARGV[1] .. ':log', 0, n - 1)) do
    out[#out + 1] = entry
  end
end
return out
)lua";

absl::StatusOr<int64_t> ParseRevision(const redis::Reply& reply) {
  if (reply.is_nil() || (reply.is_string() && reply.str().empty())) return 0;
  int64_t rev = 0;
  if (!reply.is_string() || !absl::SimpleAtoi(reply.str(), &rev) || rev < 0) {
    return absl::DataLossError("a lead's revision is " + reply.DebugString());
  }
  return rev;
}

absl::StatusOr<stored::StoredLead> ParseState(const redis::Reply& reply) {
  stored::StoredLead state;
  if (reply.is_nil() || (reply.is_string() && reply.str().empty())) return state;
  if (!reply.is_string() || !state.ParseFromString(reply.str())) {
    return absl::DataLossError("a lead's state does not parse");
  }
  return state;
}

}  // namespace

RedisLeadStore::RedisLeadStore(redis::AsyncClient& redis, outbox::RedisOutbox& outbox,
                               RedisLeadStoreOptions options)
    : redis_(redis), outbox_(outbox), options_(std::move(options)) {
  // Registering fixed, valid scripts under distinct names cannot fail.
  (void)scripts_.Register("lead_read", kReadScript);
  (void)scripts_.Register("lead_commit", std::string(outbox::RedisOutbox::kLua) + kCommitScript);
  (void)scripts_.Register("lead_get", kGetScript);
}

std::string RedisLeadStore::Base(const std::string& tenant) const {
  return absl::StrCat(options_.key_prefix, "leadscoring:{", tenant, "}:");
}

asio::awaitable<absl::StatusOr<LeadRead>> RedisLeadStore::Read(std::string tenant,
                                                               std::string lead_id,
                                                               std::string visitor_id,
                                                               std::string activity_id) {
  std::vector<std::string> keys;
  std::vector<std::string> args = {Base(tenant), lead_id, visitor_id, activity_id};
  FLYWHEEL_CO_ASSIGN_OR_RETURN(
      redis::Reply reply,
      co_await redis_.Eval(scripts_, "lead_read", std::move(keys), std::move(args)));
  FLYWHEEL_CO_ASSIGN_OR_RETURN(std::vector<redis::Reply> parts, reply.AsArray());
  if (parts.size() != 6 || !parts[0].is_string()) {
    co_return absl::DataLossError("lead_read answered " + reply.DebugString());
  }
  LeadRead out;
  const std::string& subject = parts[0].str();
  out.subject = {.visitor = subject.starts_with("a:"), .id = subject.substr(2)};
  FLYWHEEL_CO_ASSIGN_OR_RETURN(out.revision, ParseRevision(parts[1]));
  FLYWHEEL_CO_ASSIGN_OR_RETURN(out.state, ParseState(parts[2]));
  out.seen = parts[3].integer() == 1;
  FLYWHEEL_CO_ASSIGN_OR_RETURN(out.visitor_revision, ParseRevision(parts[4]));
  if (out.visitor_revision > 0) {
    FLYWHEEL_CO_ASSIGN_OR_RETURN(stored::StoredLead visitor, ParseState(parts[5]));
    out.visitor_state = std::move(visitor);
  }
  co_return out;
}

asio::awaitable<absl::StatusOr<bool>> RedisLeadStore::Commit(
    std::string tenant, LeadCommit commit, std::vector<kafka::OutgoingEvent> events) {
  FLYWHEEL_CO_ASSIGN_OR_RETURN(outbox::RedisOutbox::ScriptArgs staged,
                               co_await outbox_.Prepared(tenant, events));
  const std::string subject = (commit.subject.visitor ? "a:" : "l:") + commit.subject.id;
  std::vector<std::string> args = {Base(tenant),
                                   subject,
                                   absl::StrCat(commit.expected_revision),
                                   commit.state.SerializeAsString(),
                                   commit.activity_id,
                                   commit.entry ? commit.entry->SerializeAsString() : std::string(),
                                   commit.merged_visitor,
                                   absl::StrCat(commit.expected_visitor_revision),
                                   commit.subject.visitor ? std::string() : commit.subject.id,
                                   absl::StrCat(commit.score),
                                   absl::StrCat(static_cast<int>(commit.previous_band)),
                                   absl::StrCat(static_cast<int>(commit.band)),
                                   commit.previous_account,
                                   commit.account,
                                   absl::StrCat(options_.seen_kept),
                                   absl::StrCat(options_.history_kept),
                                   commit.linked_visitor};
  args.insert(args.end(), staged.args.begin(), staged.args.end());
  FLYWHEEL_CO_ASSIGN_OR_RETURN(
      redis::Reply reply,
      co_await redis_.Eval(scripts_, "lead_commit", std::move(staged.keys), std::move(args)));
  FLYWHEEL_CO_ASSIGN_OR_RETURN(int64_t rev, reply.AsInteger());
  if (rev == 0) co_return false;
  if (!events.empty()) {
    // A failed publish leaves the events in the outbox for the relay.
    (void)co_await outbox_.Published(tenant, std::move(events));
  }
  co_return true;
}

asio::awaitable<absl::StatusOr<std::optional<LeadView>>> RedisLeadStore::Get(std::string tenant,
                                                                             std::string lead_id,
                                                                             bool with_history) {
  std::vector<std::string> keys;
  std::vector<std::string> args = {Base(tenant) + "l:" + lead_id,
                                   absl::StrCat(with_history ? options_.history_kept : 0)};
  FLYWHEEL_CO_ASSIGN_OR_RETURN(
      redis::Reply reply,
      co_await redis_.Eval(scripts_, "lead_get", std::move(keys), std::move(args)));
  FLYWHEEL_CO_ASSIGN_OR_RETURN(std::vector<redis::Reply> parts, reply.AsArray());
  if (parts.empty()) co_return std::nullopt;
  LeadView view;
  FLYWHEEL_CO_ASSIGN_OR_RETURN(view.state, ParseState(parts[0]));
  for (size_t i = 1; i < parts.size(); ++i) {
    stored::StoredActivity entry;
    if (!parts[i].is_string() || !entry.ParseFromString(parts[i].str())) {
      co_return absl::DataLossError("an activity in the history of lead " + lead_id +
                                    " does not parse");
    }
    view.history.push_back(std::move(entry));
  }
  co_return view;
}

asio::awaitable<absl::StatusOr<std::vector<std::string>>> RedisLeadStore::List(std::string tenant,
                                                                               LeadIndex index,
                                                                               size_t offset,
                                                                               size_t count) {
  std::string key = Base(tenant);
  if (!index.account.empty()) {
    key += "acct:" + index.account;
  } else if (index.band != v1::SCORE_BAND_UNSPECIFIED) {
    key += absl::StrCat("band:", static_cast<int>(index.band));
  } else {
    key += "idx";
  }
  std::vector<std::string> command = {"ZREVRANGE", key, absl::StrCat(offset),
                                      absl::StrCat(offset + count - 1)};
  FLYWHEEL_CO_ASSIGN_OR_RETURN(redis::Reply reply, co_await redis_.Command(std::move(command)));
  FLYWHEEL_CO_ASSIGN_OR_RETURN(std::vector<redis::Reply> members, reply.AsArray());
  std::vector<std::string> out;
  for (const redis::Reply& m : members) out.push_back(m.str());
  co_return out;
}

}  // namespace flywheel::lead_scoring
