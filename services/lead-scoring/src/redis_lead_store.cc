#include "redis_lead_store.h"

#include <iterator>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "flywheel/core/status.h"

namespace flywheel::lead_scoring {
namespace {

// ARGV[1] base, then (lead id, visitor id, activity id) per event, each
// may be ''. Events resolve in order as the logic applies them: a link (an
// event naming a lead and a visitor, not a duplicate) sends the visitor's
// later activity to the lead, and makes the visitor's seen ids the lead's.
// Returns {n, (subject key, rev, state) * n, (subject, visitor, seen) per
// event}, subject and visitor as 1-based indexes (visitor 0: none).
constexpr char kReadScript[] = R"lua(
local base = ARGV[1]
local anon = base .. 'anon'
local subjects, index, events = {}, {}, {}
local links, merged, batch_seen = {}, {}, {}
local function load(subject)
  local i = index[subject]
  if i then return i end
  local h = redis.call('HMGET', base .. subject, 'rev', 'state')
  subjects[#subjects + 1] = subject
  subjects[#subjects + 1] = h[1] or ''
  subjects[#subjects + 1] = h[2] or ''
  i = #subjects / 3
  index[subject] = i
  return i
end
local function seen_by(subject, act)
  if batch_seen[subject] and batch_seen[subject][act] then return true end
  if redis.call('ZSCORE', base .. subject .. ':seen', act) then return true end
  for _, v in ipairs(merged[subject] or {}) do
    if redis.call('ZSCORE', base .. v .. ':seen', act) then return true end
  end
  return false
end
for i = 2, #ARGV, 3 do
  local lead, visitor, act = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local subject
  if lead ~= '' then
    subject = 'l:' .. lead
  else
    local linked = links[visitor]
    if linked == nil then
      linked = redis.call('HGET', anon, visitor) or false
      links[visitor] = linked
    end
    if linked then subject = 'l:' .. linked else subject = 'a:' .. visitor end
  end
  local s, v = load(subject), 0
  local seen = act ~= '' and seen_by(subject, act)
  local link = lead ~= '' and visitor ~= ''
  if link then
    v = load('a:' .. visitor)
    if act ~= '' and not seen then seen = seen_by('a:' .. visitor, act) end
  end
  if not seen then
    if act ~= '' then
      batch_seen[subject] = batch_seen[subject] or {}
      batch_seen[subject][act] = true
    end
    if link then
      links[visitor] = lead
      merged[subject] = merged[subject] or {}
      table.insert(merged[subject], 'a:' .. visitor)
      for id in pairs(batch_seen['a:' .. visitor] or {}) do
        batch_seen[subject] = batch_seen[subject] or {}
        batch_seen[subject][id] = true
      end
    end
  end
  events[#events + 1] = s
  events[#events + 1] = v
  events[#events + 1] = seen and 1 or 0
end
local out = {#subjects / 3}
for _, x in ipairs(subjects) do out[#out + 1] = x end
for _, x in ipairs(events) do out[#out + 1] = x end
return out
)lua";

// The write, prefixed with outbox::RedisOutbox::kLua; KEYS are the
// outbox's. ARGV[1] base, [2] seen ids kept, [3] history kept, [4] number
// of subjects; then per subject: key, expected rev ('0': absent), new rev,
// state, lead id to index ('' for a visitor), score, previous band, band,
// previous account, account, n, n activity ids, m, m history entries
// (oldest first), k, k (visitor, expected rev) links; then the outbox's.
// Every check comes first: a visitor link whose visitor moved (-1: not
// checked), a subject whose revision moved, or a visitor written to that
// was linked to a lead meanwhile writes nothing and returns 0. Else 1.
constexpr char kCommitScript[] = R"lua(
local base = ARGV[1]
local seen_kept, history_kept = tonumber(ARGV[2]), tonumber(ARGV[3])
local anon = base .. 'anon'
local changes, p = {}, 5
for _ = 1, tonumber(ARGV[4]) do
  local c = {at = p}
  p = p + 10
  c.seen, c.seen_n = p + 1, tonumber(ARGV[p])
  p = p + 1 + c.seen_n
  c.log, c.log_n = p + 1, tonumber(ARGV[p])
  p = p + 1 + c.log_n
  c.links, c.links_n = p + 1, tonumber(ARGV[p])
  p = p + 1 + 2 * c.links_n
  changes[#changes + 1] = c
end
for _, c in ipairs(changes) do
  local subject = ARGV[c.at]
  if (redis.call('HGET', base .. subject, 'rev') or '0') ~= ARGV[c.at + 1] then return 0 end
  if string.sub(subject, 1, 2) == 'a:' and redis.call('HEXISTS', anon, string.sub(subject, 3)) == 1 then
    return 0
  end
  for i = c.links, c.links + 2 * (c.links_n - 1), 2 do
    local expected = ARGV[i + 1]
    if expected ~= '-1' and (redis.call('HGET', base .. 'a:' .. ARGV[i], 'rev') or '0') ~= expected then
      return 0
    end
  end
end
for _, c in ipairs(changes) do
  local key, rev, member = base .. ARGV[c.at], ARGV[c.at + 2], ARGV[c.at + 4]
  redis.call('HSET', key, 'rev', rev, 'state', ARGV[c.at + 3])
  for i = c.links, c.links + 2 * (c.links_n - 1), 2 do
    local expected = ARGV[i + 1]
    if expected ~= '-1' and expected ~= '0' then
      local v = base .. 'a:' .. ARGV[i]
      redis.call('ZUNIONSTORE', key .. ':seen', 2, key .. ':seen', v .. ':seen', 'AGGREGATE', 'MAX')
      for _, entry in ipairs(redis.call('LRANGE', v .. ':log', 0, -1)) do
        redis.call('RPUSH', key .. ':log', entry)
      end
      redis.call('DEL', v, v .. ':seen', v .. ':log')
    end
    redis.call('HSET', anon, ARGV[i], member)
  end
  if c.seen_n > 0 then
    for i = c.seen, c.seen + c.seen_n - 1 do redis.call('ZADD', key .. ':seen', rev, ARGV[i]) end
    redis.call('ZREMRANGEBYRANK', key .. ':seen', 0, -(seen_kept + 1))
  end
  for i = c.log, c.log + c.log_n - 1 do redis.call('LPUSH', key .. ':log', ARGV[i]) end
  redis.call('LTRIM', key .. ':log', 0, history_kept - 1)
  if member ~= '' then
    local score, previous_band, band = ARGV[c.at + 5], ARGV[c.at + 6], ARGV[c.at + 7]
    local previous_account, account = ARGV[c.at + 8], ARGV[c.at + 9]
    redis.call('ZADD', base .. 'idx', score, member)
    if previous_band ~= band and previous_band ~= '0' then
      redis.call('ZREM', base .. 'band:' .. previous_band, member)
    end
    redis.call('ZADD', base .. 'band:' .. band, score, member)
    if previous_account ~= account and previous_account ~= '' then
      redis.call('ZREM', base .. 'acct:' .. previous_account, member)
    end
    if account ~= '' then redis.call('ZADD', base .. 'acct:' .. account, score, member) end
  end
end
flywheel_outbox_put()
return 1
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

asio::awaitable<absl::StatusOr<BatchRead>> RedisLeadStore::ReadBatch(std::string tenant,
                                                                     std::vector<ReadKey> keys) {
  std::vector<std::string> no_keys;
  std::vector<std::string> args;
  args.reserve(1 + 3 * keys.size());
  args.push_back(Base(tenant));
  for (const ReadKey& key : keys) {
    args.emplace_back(key.lead_id);
    args.emplace_back(key.visitor_id);
    args.emplace_back(key.activity_id);
  }
  FLYWHEEL_CO_ASSIGN_OR_RETURN(
      redis::Reply reply,
      co_await redis_.Eval(scripts_, "lead_read", std::move(no_keys), std::move(args)));
  const std::vector<redis::Reply>& parts = reply.elements();
  const size_t n = !parts.empty() && parts[0].is_integer() ? parts[0].integer() : SIZE_MAX;
  if (!reply.is_array() || n == SIZE_MAX || parts.size() != 1 + 3 * n + 3 * keys.size()) {
    co_return absl::DataLossError("lead_read answered " + reply.DebugString());
  }
  BatchRead out;
  out.subjects.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const redis::Reply& subject = parts[1 + 3 * i];
    if (!subject.is_string()) co_return absl::DataLossError("lead_read named no subject");
    SubjectRead& read = out.subjects[i];
    read.subject = {.visitor = subject.str().starts_with("a:"), .id = subject.str().substr(2)};
    FLYWHEEL_CO_ASSIGN_OR_RETURN(read.revision, ParseRevision(parts[2 + 3 * i]));
    FLYWHEEL_CO_ASSIGN_OR_RETURN(read.state, ParseState(parts[3 + 3 * i]));
  }
  out.events.resize(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    const size_t at = 1 + 3 * n + 3 * i;
    const int64_t subject = parts[at].integer(), visitor = parts[at + 1].integer();
    if (subject < 1 || static_cast<size_t>(subject) > n || visitor < 0 ||
        static_cast<size_t>(visitor) > n) {
      co_return absl::DataLossError("lead_read answered an index out of range");
    }
    out.events[i] = {.subject = static_cast<size_t>(subject - 1),
                     .visitor = visitor == 0 ? SIZE_MAX : static_cast<size_t>(visitor - 1),
                     .seen = parts[at + 2].integer() == 1};
  }
  co_return out;
}

asio::awaitable<absl::StatusOr<bool>> RedisLeadStore::CommitBatch(
    std::string tenant, std::vector<SubjectChange> changes,
    std::vector<kafka::OutgoingEvent> events) {
  FLYWHEEL_CO_ASSIGN_OR_RETURN(outbox::RedisOutbox::ScriptArgs staged,
                               co_await outbox_.Prepared(tenant, events));
  std::vector<std::string> args;
  args.reserve(4 + 16 * changes.size() + staged.args.size());
  args.insert(args.end(), {Base(tenant), absl::StrCat(options_.seen_kept),
                           absl::StrCat(options_.history_kept), absl::StrCat(changes.size())});
  for (const SubjectChange& c : changes) {
    args.push_back(absl::StrCat(c.subject.visitor ? "a:" : "l:", c.subject.id));
    args.push_back(absl::StrCat(c.expected_revision));
    args.push_back(absl::StrCat(c.revision));
    args.push_back(c.state.SerializeAsString());
    args.push_back(c.subject.visitor ? std::string() : c.subject.id);
    args.push_back(absl::StrCat(c.score));
    args.push_back(absl::StrCat(static_cast<int>(c.previous_band)));
    args.push_back(absl::StrCat(static_cast<int>(c.band)));
    args.push_back(c.previous_account);
    args.push_back(c.account);
    args.push_back(absl::StrCat(c.seen.size()));
    for (std::string_view id : c.seen) args.emplace_back(id);
    args.push_back(absl::StrCat(c.entries.size()));
    for (const stored::StoredActivity& entry : c.entries) {
      args.push_back(entry.SerializeAsString());
    }
    args.push_back(absl::StrCat(c.links.size()));
    for (const VisitorLink& link : c.links) {
      args.push_back(link.visitor);
      args.push_back(absl::StrCat(link.expected_revision));
    }
  }
  args.insert(args.end(), std::make_move_iterator(staged.args.begin()),
              std::make_move_iterator(staged.args.end()));
  FLYWHEEL_CO_ASSIGN_OR_RETURN(
      redis::Reply reply,
      co_await redis_.Eval(scripts_, "lead_commit", std::move(staged.keys), std::move(args)));
  FLYWHEEL_CO_ASSIGN_OR_RETURN(int64_t written, reply.AsInteger());
  if (written == 0) co_return false;
  if (!events.empty()) {
    // A failed publish leaves the events in the outbox for the relay.
    (void)co_await outbox_.Published(tenant, std::move(events));
  }
  co_return true;
}

asio::awaitable<absl::StatusOr<LeadRead>> RedisLeadStore::Read(std::string tenant,
                                                               std::string lead_id,
                                                               std::string visitor_id,
                                                               std::string activity_id) {
  std::vector<ReadKey> keys = {
      {.lead_id = lead_id, .visitor_id = visitor_id, .activity_id = activity_id}};
  FLYWHEEL_CO_ASSIGN_OR_RETURN(BatchRead batch,
                               co_await ReadBatch(std::move(tenant), std::move(keys)));
  const BatchRead::Event& event = batch.events[0];
  LeadRead out;
  SubjectRead& subject = batch.subjects[event.subject];
  out.subject = std::move(subject.subject);
  out.revision = subject.revision;
  out.state = std::move(subject.state);
  out.seen = event.seen;
  if (event.visitor != SIZE_MAX && batch.subjects[event.visitor].revision > 0) {
    out.visitor_revision = batch.subjects[event.visitor].revision;
    out.visitor_state = std::move(batch.subjects[event.visitor].state);
  }
  co_return out;
}

asio::awaitable<absl::StatusOr<bool>> RedisLeadStore::Commit(
    std::string tenant, LeadCommit commit, std::vector<kafka::OutgoingEvent> events) {
  SubjectChange change{.subject = std::move(commit.subject),
                       .expected_revision = commit.expected_revision,
                       .revision = commit.expected_revision + 1,
                       .state = std::move(commit.state),
                       .previous_band = commit.previous_band,
                       .band = commit.band,
                       .previous_account = std::move(commit.previous_account),
                       .account = std::move(commit.account),
                       .score = commit.score};
  if (!commit.activity_id.empty()) change.seen.push_back(commit.activity_id);
  if (commit.entry) change.entries.push_back(std::move(*commit.entry));
  if (!commit.merged_visitor.empty()) {
    change.links.push_back(
        {.visitor = commit.merged_visitor, .expected_revision = commit.expected_visitor_revision});
  } else if (!commit.linked_visitor.empty()) {
    change.links.push_back({.visitor = commit.linked_visitor, .expected_revision = 0});
  }
  std::vector<SubjectChange> changes;
  changes.push_back(std::move(change));
  co_return co_await CommitBatch(std::move(tenant), std::move(changes), std::move(events));
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
