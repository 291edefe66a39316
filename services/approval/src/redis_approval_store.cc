#include "redis_approval_store.h"

#include <cmath>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "flywheel/core/status.h"

namespace flywheel::approval {
namespace {

// The write, prefixed with outbox::RedisOutbox::kLua; the outbox's keys and
// args come after its own.
//
// KEYS[1] record hash, [2] audit list, [3] versions hash, [4] comments hash,
// [5] comment order, then one inbox key per line added, one per line removed.
// ARGV[1] expected revision (0: must not exist), [2] new revision, [3] chain,
// [4] request id, [5] first audit sequence, [6] audit entries, [7] version
// number (0: none), [8] version, [9] comments, [10] lines added, [11] lines
// removed; from [12]: the audit entries, (id, '0'/'1' resolved, comment) per
// comment, (due, member) per line added, member per line removed.
//
// Every check comes before the first write, so a refused write leaves
// everything as it was.
constexpr char kWriteScript[] = R"lua(
local record = KEYS[1]
local head = redis.call('HMGET', record, 'revision', 'audit_count', 'latest_version')
if ARGV[1] == '0' then
  if head[1] then return 'stale' end
elseif head[1] ~= ARGV[1] then
  return 'stale'
end
local audit_count = tonumber(head[2] or '0')
local n_audit = tonumber(ARGV[6])
if n_audit > 0 and tonumber(ARGV[5]) ~= audit_count + 1 then return 'stale' end
local latest = tonumber(head[3] or '0')
if ARGV[7] ~= '0' and tonumber(ARGV[7]) ~= latest + 1 then
  return redis.error_reply('version ' .. ARGV[7] .. ' does not follow the latest, ' .. latest)
end
if tonumber(ARGV[#ARGV]) > 0 and flywheel_outbox_busy(ARGV[4]) then return 'outbox_pending' end

redis.call('HSET', record, 'chain', ARGV[3], 'revision', ARGV[2])
local at = 12
for i = 0, n_audit - 1 do redis.call('RPUSH', KEYS[2], ARGV[at + i]) end
if n_audit > 0 then
  redis.call('HSET', record, 'audit_count', audit_count + n_audit,
             'audit_last', ARGV[at + n_audit - 1])
end
at = at + n_audit
if ARGV[7] ~= '0' then
  redis.call('HSET', KEYS[3], ARGV[7], ARGV[8])
  redis.call('HSET', record, 'latest_version', ARGV[7])
end
local unresolved = 0
for i = 1, tonumber(ARGV[9]) do
  local id, resolved = ARGV[at], ARGV[at + 1]
  local old = redis.call('HGET', KEYS[4], id)
  if old then
    local was = string.sub(old, 1, 1)
    if was == '0' and resolved == '1' then unresolved = unresolved - 1 end
    if was == '1' and resolved == '0' then unresolved = unresolved + 1 end
  else
    redis.call('ZADD', KEYS[5], redis.call('HINCRBY', record, 'comment_seq', 1), id)
    if resolved == '0' then unresolved = unresolved + 1 end
  end
  redis.call('HSET', KEYS[4], id, resolved .. ARGV[at + 2])
  at = at + 3
end
redis.call('HINCRBY', record, 'unresolved', unresolved)
local n_add = tonumber(ARGV[10])
for i = 1, n_add do
  redis.call('ZADD', KEYS[5 + i], ARGV[at], ARGV[at + 1])
  at = at + 2
end
for i = 1, tonumber(ARGV[11]) do
  redis.call('ZREM', KEYS[5 + n_add + i], ARGV[at])
  at = at + 1
end
flywheel_outbox_put()
return 'written'
)lua";

// KEYS[1] record hash, [2] versions hash. ARGV: below which number (0: from
// the newest), limit. Returns the versions, newest first.
constexpr char kListVersionsScript[] = R"lua(
local from = tonumber(redis.call('HGET', KEYS[1], 'latest_version') or '0')
local before = tonumber(ARGV[1])
if before > 0 and before - 1 < from then from = before - 1 end
local out = {}
for v = from, math.max(1, from - tonumber(ARGV[2]) + 1), -1 do
  local data = redis.call('HGET', KEYS[2], v)
  if data then out[#out + 1] = data end
end
return out
)lua";

// KEYS[1] comments hash, [2] comment order. ARGV: the comment before the
// page ('': from the first), limit. Returns the stored comment values.
constexpr char kListCommentsScript[] = R"lua(
local ids
if ARGV[1] == '' then
  ids = redis.call('ZRANGE', KEYS[2], 0, tonumber(ARGV[2]) - 1)
else
  local seq = redis.call('ZSCORE', KEYS[2], ARGV[1])
  if not seq then return {} end
  ids = redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. seq, '+inf', 'LIMIT', 0, ARGV[2])
end
local out = {}
for _, id in ipairs(ids) do
  local data = redis.call('HGET', KEYS[1], id)
  if data then out[#out + 1] = data end
end
return out
)lua";

// KEYS[1] an inbox. ARGV: the cursor's due and member ('': from the start),
// limit. Returns {member, due, ...} after the cursor in (due, member) order,
// the order Redis keeps a sorted set in. When the cursor's line is still
// there at that due its rank says where to start; otherwise the lines before
// it are counted (members compared as bytes: Lua's own `<` follows the
// server's locale).
constexpr char kInboxScript[] = R"lua(
local function at_or_before(a, b)
  for i = 1, math.min(#a, #b) do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return #a <= #b
end
local start = 0
if ARGV[2] ~= '' then
  local score = redis.call('ZSCORE', KEYS[1], ARGV[2])
  if score and tonumber(score) == tonumber(ARGV[1]) then
    start = redis.call('ZRANK', KEYS[1], ARGV[2]) + 1
  else
    start = redis.call('ZCOUNT', KEYS[1], '-inf', '(' .. ARGV[1])
    for _, member in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[1], ARGV[1])) do
      if not at_or_before(member, ARGV[2]) then break end
      start = start + 1
    end
  end
end
return redis.call('ZRANGE', KEYS[1], start, start + tonumber(ARGV[3]) - 1, 'WITHSCORES')
)lua";

template <typename Message>
absl::StatusOr<Message> Parse(const std::string& bytes, const std::string& what) {
  Message message;
  if (!message.ParseFromString(bytes)) return absl::DataLossError(what + " does not parse");
  return message;
}

template <typename Message>
absl::StatusOr<Message> ParseReply(const redis::Reply& reply, const std::string& what) {
  if (!reply.is_string()) return absl::DataLossError(what + " is " + reply.DebugString());
  return Parse<Message>(reply.str(), what);
}

// A number field of the record hash; 0 when absent.
absl::StatusOr<int64_t> ParseCount(const redis::Reply& reply, const std::string& what) {
  if (reply.is_nil()) return 0;
  int64_t value = 0;
  if (!reply.is_string() || !absl::SimpleAtoi(reply.str(), &value) || value < 0) {
    return absl::DataLossError(what + " is " + reply.DebugString());
  }
  return value;
}

// A stored comment value: its resolved flag, then the comment.
absl::StatusOr<v1::Comment> ParseComment(const redis::Reply& reply, const std::string& key) {
  if (!reply.is_string() || reply.str().empty() ||
      (reply.str()[0] != '0' && reply.str()[0] != '1')) {
    return absl::DataLossError("a comment in " + key + " is " + reply.DebugString());
  }
  return Parse<v1::Comment>(reply.str().substr(1), "a comment in " + key);
}

}  // namespace

RedisApprovalStore::RedisApprovalStore(redis::AsyncClient& redis, std::string key_prefix,
                                       outbox::RedisOutbox& outbox)
    : redis_(redis), key_prefix_(std::move(key_prefix)), outbox_(outbox) {
  // Registering fixed, valid scripts under distinct names cannot fail.
  (void)scripts_.Register("approval_write", std::string(outbox::RedisOutbox::kLua) + kWriteScript);
  (void)scripts_.Register("approval_list_versions", kListVersionsScript);
  (void)scripts_.Register("approval_list_comments", kListCommentsScript);
  (void)scripts_.Register("approval_inbox", kInboxScript);
}

std::string RedisApprovalStore::RequestKey(const std::string& tenant_id, const std::string& what,
                                           const std::string& request_id) const {
  return absl::StrCat(key_prefix_, "approval:{", tenant_id, "}:", what, ":", request_id);
}

std::string RedisApprovalStore::InboxKey(const std::string& tenant_id,
                                         const std::string& approver_id) const {
  return absl::StrCat(key_prefix_, "approval:{", tenant_id, "}:inbox:", approver_id);
}

asio::awaitable<absl::StatusOr<std::optional<ApprovalRecord>>> RedisApprovalStore::Read(
    const std::string& tenant_id, const std::string& request_id) {
  const std::string key = RequestKey(tenant_id, "record", request_id);
  std::vector<std::string> command = {"HMGET",       key,          "chain",      "revision",
                                      "audit_count", "audit_last", "unresolved", "latest_version"};
  FLYWHEEL_CO_ASSIGN_OR_RETURN(redis::Reply reply, co_await redis_.Command(std::move(command)));
  FLYWHEEL_CO_ASSIGN_OR_RETURN(std::vector<redis::Reply> fields, reply.AsArray());
  if (fields.size() != 6) co_return absl::InternalError("HMGET returned " + reply.DebugString());
  if (fields[0].is_nil()) co_return std::nullopt;
  ApprovalRecord record;
  FLYWHEEL_CO_ASSIGN_OR_RETURN(record.chain,
                               ParseReply<v1::ApprovalChain>(fields[0], "the chain in " + key));
  if (record.chain.tenant_id() != tenant_id || record.chain.request_id() != request_id) {
    co_return absl::DataLossError(absl::StrCat("the chain in ", key, " is that of ",
                                               record.chain.tenant_id(), "/",
                                               record.chain.request_id()));
  }
  FLYWHEEL_CO_ASSIGN_OR_RETURN(record.revision, ParseCount(fields[1], "the revision in " + key));
  FLYWHEEL_CO_ASSIGN_OR_RETURN(int64_t audit_count,
                               ParseCount(fields[2], "the audit count in " + key));
  record.audit_count = static_cast<uint64_t>(audit_count);
  if (!fields[3].is_nil()) {
    FLYWHEEL_CO_ASSIGN_OR_RETURN(record.last_audit,
                                 ParseReply<v1::AuditEntry>(fields[3], "the last entry in " + key));
  }
  FLYWHEEL_CO_ASSIGN_OR_RETURN(int64_t unresolved,
                               ParseCount(fields[4], "the unresolved count in " + key));
  record.unresolved_comments = static_cast<int>(unresolved);
  FLYWHEEL_CO_ASSIGN_OR_RETURN(int64_t latest,
                               ParseCount(fields[5], "the latest version in " + key));
  record.latest_version = static_cast<uint32_t>(latest);
  co_return record;
}

asio::awaitable<absl::StatusOr<ApprovalStore::WriteOutcome>> RedisApprovalStore::Write(
    ApprovalWrite& write) {
  FLYWHEEL_CO_RETURN_IF_ERROR(CheckWrite(write));
  const std::string& tenant = write.tenant_id;
  const std::string& request = write.request_id;
  write.chain.set_revision(write.expected_revision + 1);

  std::vector<std::string> keys = {
      RequestKey(tenant, "record", request), RequestKey(tenant, "audit", request),
      RequestKey(tenant, "versions", request), RequestKey(tenant, "comments", request),
      RequestKey(tenant, "comment_order", request)};
  for (const InboxEntry& line : write.inbox_add) keys.push_back(InboxKey(tenant, line.approver_id));
  for (const InboxEntry& line : write.inbox_remove) {
    keys.push_back(InboxKey(tenant, line.approver_id));
  }

  std::vector<std::string> args = {
      absl::StrCat(write.expected_revision),
      absl::StrCat(write.expected_revision + 1),
      write.chain.SerializeAsString(),
      request,
      absl::StrCat(write.audit.empty() ? 0 : write.audit.front().sequence()),
      absl::StrCat(write.audit.size()),
      absl::StrCat(write.version.has_value() ? write.version->version() : 0),
      write.version.has_value() ? write.version->SerializeAsString() : "",
      absl::StrCat(write.comments.size()),
      absl::StrCat(write.inbox_add.size()),
      absl::StrCat(write.inbox_remove.size())};
  for (const v1::AuditEntry& entry : write.audit) args.push_back(entry.SerializeAsString());
  for (const v1::Comment& comment : write.comments) {
    args.push_back(comment.comment_id());
    args.push_back(comment.resolved() ? "1" : "0");
    args.push_back(comment.SerializeAsString());
  }
  for (const InboxEntry& line : write.inbox_add) {
    args.push_back(absl::StrCat(line.due_ms));
    args.push_back(InboxMember(line));
  }
  for (const InboxEntry& line : write.inbox_remove) args.push_back(InboxMember(line));

  FLYWHEEL_CO_ASSIGN_OR_RETURN(outbox::RedisOutbox::ScriptArgs staged,
                               co_await outbox_.Prepared(tenant, write.events));
  keys.insert(keys.end(), staged.keys.begin(), staged.keys.end());
  args.insert(args.end(), staged.args.begin(), staged.args.end());
  std::string script = "approval_write";
  FLYWHEEL_CO_ASSIGN_OR_RETURN(
      redis::Reply reply,
      co_await redis_.Eval(scripts_, std::move(script), std::move(keys), std::move(args)));
  FLYWHEEL_CO_ASSIGN_OR_RETURN(std::string outcome, reply.AsString());
  if (outcome == "written") co_return WriteOutcome::kWritten;
  if (outcome == "stale") co_return WriteOutcome::kStale;
  if (outcome == "outbox_pending") co_return WriteOutcome::kOutboxPending;
  co_return absl::InternalError("approval_write returned " + reply.DebugString());
}

asio::awaitable<absl::StatusOr<std::vector<v1::AuditEntry>>> RedisApprovalStore::ListAudit(
    const std::string& tenant_id, const std::string& request_id, uint64_t after_sequence,
    size_t limit) {
  std::vector<v1::AuditEntry> out;
  if (limit == 0) co_return out;
  // Entry n sits at index n - 1, so the page starts at index after_sequence.
  const std::string key = RequestKey(tenant_id, "audit", request_id);
  std::vector<std::string> command = {"LRANGE", key, absl::StrCat(after_sequence),
                                      absl::StrCat(after_sequence + limit - 1)};
  FLYWHEEL_CO_ASSIGN_OR_RETURN(redis::Reply reply, co_await redis_.Command(std::move(command)));
  FLYWHEEL_CO_ASSIGN_OR_RETURN(std::vector<redis::Reply> entries, reply.AsArray());
  out.reserve(entries.size());
  for (const redis::Reply& entry : entries) {
    FLYWHEEL_CO_ASSIGN_OR_RETURN(v1::AuditEntry parsed,
                                 ParseReply<v1::AuditEntry>(entry, "an entry in " + key));
    out.push_back(std::move(parsed));
  }
  co_return out;
}

asio::awaitable<absl::StatusOr<std::vector<v1::AssetVersion>>> RedisApprovalStore::ListVersions(
    const std::string& tenant_id, const std::string& request_id, uint32_t before, size_t limit) {
  std::vector<v1::AssetVersion> out;
  if (limit == 0) co_return out;
  const std::string key = RequestKey(tenant_id, "versions", request_id);
  std::vector<std::string> keys = {RequestKey(tenant_id, "record", request_id), key};
  std::vector<std::string> args = {absl::StrCat(before), absl::StrCat(limit)};
  std::string script = "approval_list_versions";
  FLYWHEEL_CO_ASSIGN_OR_RETURN(
      redis::Reply reply,
      co_await redis_.Eval(scripts_, std::move(script), std::move(keys), std::move(args)));
  FLYWHEEL_CO_ASSIGN_OR_RETURN(std::vector<redis::Reply> versions, reply.AsArray());
  out.reserve(versions.size());
  for (const redis::Reply& version : versions) {
    FLYWHEEL_CO_ASSIGN_OR_RETURN(v1::AssetVersion parsed,
                                 ParseReply<v1::AssetVersion>(version, "a version in " + key));
    out.push_back(std::move(parsed));
  }
  co_return out;
}

asio::awaitable<absl::StatusOr<std::vector<v1::Comment>>> RedisApprovalStore::ListComments(
    const std::string& tenant_id, const std::string& request_id,
    const std::string& after_comment_id, size_t limit) {
  std::vector<v1::Comment> out;
  if (limit == 0) co_return out;
  const std::string key = RequestKey(tenant_id, "comments", request_id);
  std::vector<std::string> keys = {key, RequestKey(tenant_id, "comment_order", request_id)};
  std::vector<std::string> args = {after_comment_id, absl::StrCat(limit)};
  std::string script = "approval_list_comments";
  FLYWHEEL_CO_ASSIGN_OR_RETURN(
      redis::Reply reply,
      co_await redis_.Eval(scripts_, std::move(script), std::move(keys), std::move(args)));
  FLYWHEEL_CO_ASSIGN_OR_RETURN(std::vector<redis::Reply> comments, reply.AsArray());
  out.reserve(comments.size());
  for (const redis::Reply& comment : comments) {
    FLYWHEEL_CO_ASSIGN_OR_RETURN(v1::Comment parsed, ParseComment(comment, key));
    out.push_back(std::move(parsed));
  }
  co_return out;
}

asio::awaitable<absl::StatusOr<std::optional<v1::Comment>>> RedisApprovalStore::GetComment(
    const std::string& tenant_id, const std::string& request_id, const std::string& comment_id) {
  const std::string key = RequestKey(tenant_id, "comments", request_id);
  std::vector<std::string> command = {"HGET", key, comment_id};
  FLYWHEEL_CO_ASSIGN_OR_RETURN(redis::Reply reply, co_await redis_.Command(std::move(command)));
  if (reply.is_nil()) co_return std::nullopt;
  FLYWHEEL_CO_ASSIGN_OR_RETURN(v1::Comment comment, ParseComment(reply, key));
  co_return comment;
}

asio::awaitable<absl::StatusOr<std::vector<InboxEntry>>> RedisApprovalStore::Inbox(
    const std::string& tenant_id, const std::string& approver_id, int64_t after_due_ms,
    const std::string& after_member, size_t limit) {
  std::vector<InboxEntry> out;
  if (limit == 0) co_return out;
  const std::string key = InboxKey(tenant_id, approver_id);
  std::vector<std::string> keys = {key};
  std::vector<std::string> args = {absl::StrCat(after_due_ms), after_member, absl::StrCat(limit)};
  std::string script = "approval_inbox";
  FLYWHEEL_CO_ASSIGN_OR_RETURN(
      redis::Reply reply,
      co_await redis_.Eval(scripts_, std::move(script), std::move(keys), std::move(args)));
  FLYWHEEL_CO_ASSIGN_OR_RETURN(std::vector<redis::Reply> flat, reply.AsArray());
  for (size_t i = 0; i + 1 < flat.size(); i += 2) {
    const std::string& member = flat[i].str();
    const size_t slash = member.find('/');
    double due = 0;
    if (slash == std::string::npos || !absl::SimpleAtod(flat[i + 1].str(), &due)) {
      co_return absl::DataLossError("a line in " + key + " is " + flat[i].DebugString() + " at " +
                                    flat[i + 1].DebugString());
    }
    out.push_back(InboxEntry{.approver_id = approver_id,
                             .request_id = member.substr(0, slash),
                             .step_id = member.substr(slash + 1),
                             .due_ms = std::llround(due)});
  }
  co_return out;
}

asio::awaitable<absl::StatusOr<int64_t>> RedisApprovalStore::InboxSize(
    const std::string& tenant_id, const std::string& approver_id) {
  std::vector<std::string> command = {"ZCARD", InboxKey(tenant_id, approver_id)};
  FLYWHEEL_CO_ASSIGN_OR_RETURN(redis::Reply reply, co_await redis_.Command(std::move(command)));
  co_return reply.AsInteger();
}

}  // namespace flywheel::approval
