#include "redis_workflow_store.h"

#include <cmath>
#include <limits>

#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "flywheel/core/status.h"

namespace flywheel::routing {
namespace {

constexpr absl::Duration kAcquireTimeout = absl::Seconds(2);

// Shared by the assignment scripts. KEYS[1..6]: workflow, load, rr, queue,
// reasons, open (see the class comment).
//
// choose(strategy, start, freed): ARGV[start] = n, then n (member id, WIP
// limit) pairs sorted by id. Picks by strategy among members below their
// limit, counting `freed` (a member whose slot the change frees) one task
// lighter; writes nothing. Returns the member (or nil) and n.
//
// take(strategy, best): counts the task against `best`.
//
// place(): gives the task to `best`, or queues the request with the reason.
constexpr char kAssignLib[] = R"lua(
local function choose(strategy, start, freed)
  local n = tonumber(ARGV[start])
  local ids, limits, loads = {}, {}, {}
  for i = 1, n do
    ids[i] = ARGV[start + 2 * i - 1]
    limits[i] = tonumber(ARGV[start + 2 * i])
    loads[i] = tonumber(redis.call('HGET', KEYS[2], ids[i]) or '0')
    if ids[i] == freed and loads[i] > 0 then loads[i] = loads[i] - 1 end
  end
  local best, best_load = nil, nil
  if strategy == 'round_robin' then
    local last = redis.call('GET', KEYS[3]) or ''
    local first = 1
    while first <= n and ids[first] <= last do first = first + 1 end
    for k = 0, n - 1 do
      local i = ((first - 1 + k) % n) + 1
      if loads[i] < limits[i] then best = ids[i]; break end
    end
  else
    for i = 1, n do
      if loads[i] < limits[i] and (best == nil or loads[i] < best_load) then
        best = ids[i]; best_load = loads[i]
      end
    end
  end
  return best, n
end

local function take(strategy, best)
  if not best then return end
  if strategy == 'round_robin' then redis.call('SET', KEYS[3], best) end
  redis.call('HINCRBY', KEYS[2], best, 1)
end

local function reason_for(best, n, reason_if_none)
  if best then return '' end
  if n > 0 then return 'all members at WIP limit' end
  return reason_if_none
end

local function place(request_id, score, best, reason)
  if best then
    redis.call('ZADD', KEYS[6], score, request_id)
    redis.call('ZREM', KEYS[4], request_id)
    redis.call('HDEL', KEYS[5], request_id)
    redis.call('HSET', KEYS[1], 'assignee', best, 'queue_reason', '')
    if (redis.call('HGET', KEYS[1], 'owner') or '') == '' then
      redis.call('HSET', KEYS[1], 'owner', best)
    end
    return
  end
  redis.call('ZADD', KEYS[4], score, request_id)
  redis.call('HSET', KEYS[5], request_id, reason)
  redis.call('HSET', KEYS[1], 'assignee', '', 'queue_reason', reason)
end

local function release(request_id)
  local prev = redis.call('HGET', KEYS[1], 'assignee') or ''
  if prev ~= '' then
    if redis.call('HINCRBY', KEYS[2], prev, -1) < 0 then redis.call('HSET', KEYS[2], prev, 0) end
    redis.call('ZREM', KEYS[6], request_id)
  else
    redis.call('ZREM', KEYS[4], request_id)
    redis.call('HDEL', KEYS[5], request_id)
  end
  return prev
end
)lua";

// KEYS[7]: the request's remembered cancel. ARGV: request_id, score,
// reason_if_none, strategy, nf, nf field/value pairs, candidates. Returns
// {created 1 | exists 0 | cancelled before routing 2, assignee, queue_reason}.
// Keeps the first routing (plan, request, assignment) in the first_* fields,
// for a redelivery to republish exactly what the first routing published.
constexpr char kCreateBody[] = R"lua(
if redis.call('EXISTS', KEYS[1]) == 1 then
  local v = redis.call('HMGET', KEYS[1], 'assignee', 'queue_reason')
  return {0, v[1] or '', v[2] or ''}
end
if redis.call('EXISTS', KEYS[7]) == 1 then return {2, '', ''} end
local nf = tonumber(ARGV[5])
redis.call('HSET', KEYS[1], 'revision', '1', unpack(ARGV, 6, 5 + 2 * nf))
local best, n = choose(ARGV[4], 6 + 2 * nf, nil)
take(ARGV[4], best)
local reason = reason_for(best, n, ARGV[3])
place(ARGV[1], ARGV[2], best, reason)
local first = redis.call('HMGET', KEYS[1], 'wf', 'request')
redis.call('HSET', KEYS[1], 'first_wf', first[1], 'first_request', first[2],
           'first_assignee', best or '', 'first_reason', reason)
return {1, best or '', reason}
)lua";

// The changes that cause events (Advance, AssignQueued) run twice: a dry
// run that only says who would get the task, so the caller can build the
// events the change causes; then the change itself with those events
// (RedisOutbox's arguments last), made only if the pick is still the same.
// Replies: {1 done | 0 dry run | -1 stale revision | -2 pick changed |
// -3 outbox pending | -4 not queued, assignee, queue_reason, previous
// assignee}.
//
// ARGV: request_id, score, reason_if_none, strategy, expected_revision,
// completed 0|1, mode dry|commit, expected assignee, nf, nf field/value
// pairs, candidates, then the outbox's.
constexpr char kAdvanceBody[] = R"lua(
local rev = tonumber(redis.call('HGET', KEYS[1], 'revision') or '-1')
if rev ~= tonumber(ARGV[5]) then return {-1, '', '', ''} end
local prev = redis.call('HGET', KEYS[1], 'assignee') or ''
local nf = tonumber(ARGV[9])
local best, reason = nil, ''
if ARGV[6] ~= '1' then
  local n
  best, n = choose(ARGV[4], 10 + 2 * nf, prev)
  reason = reason_for(best, n, ARGV[3])
end
if ARGV[7] == 'dry' then return {0, best or '', reason, prev} end
if (best or '') ~= ARGV[8] then return {-2, best or '', reason, prev} end
if flywheel_outbox_busy(ARGV[1]) then return {-3, '', '', ''} end
release(ARGV[1])
redis.call('HSET', KEYS[1], 'revision', tostring(rev + 1), unpack(ARGV, 10, 9 + 2 * nf))
if ARGV[6] == '1' then
  redis.call('HSET', KEYS[1], 'assignee', '', 'queue_reason', '')
else
  take(ARGV[4], best)
  place(ARGV[1], ARGV[2], best, reason)
end
flywheel_outbox_put()
return {1, best or '', reason, prev}
)lua";

// ARGV: request_id, reason_if_none, strategy, expected_revision, mode,
// expected assignee, candidates, then the outbox's. Replies as Advance's;
// a commit that finds nobody below their limit updates the reason only.
constexpr char kAssignQueuedBody[] = R"lua(
local score = redis.call('ZSCORE', KEYS[4], ARGV[1])
if not score or (redis.call('HGET', KEYS[1], 'assignee') or '') ~= '' then
  return {-4, '', '', ''}
end
local rev = tonumber(redis.call('HGET', KEYS[1], 'revision') or '-1')
if rev ~= tonumber(ARGV[4]) then return {-1, '', '', ''} end
local best, n = choose(ARGV[3], 7, nil)
local reason = reason_for(best, n, ARGV[2])
if ARGV[5] == 'dry' then return {0, best or '', reason, ''} end
if (best or '') ~= ARGV[6] then return {-2, best or '', reason, ''} end
if not best then
  redis.call('HSET', KEYS[5], ARGV[1], reason)
  redis.call('HSET', KEYS[1], 'queue_reason', reason)
  return {1, '', reason, ''}
end
if flywheel_outbox_busy(ARGV[1]) then return {-3, '', '', ''} end
take(ARGV[3], best)
place(ARGV[1], score, best, '')
redis.call('HINCRBY', KEYS[1], 'revision', 1)
flywheel_outbox_put()
return {1, best, '', ''}
)lua";

// KEYS[1]: the team's members hash, then the outbox's. ARGV: member id,
// routing.v1.Member ("" for one who left), then the outbox's.
constexpr char kPutMemberBody[] = R"lua(
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
flywheel_outbox_put()
return 1
)lua";

// ARGV: request_id, reason, expected assignee. Returns 1 when the expected
// assignee was removed, 0 when the task is not open or is someone else's.
constexpr char kUnassignBody[] = R"lua(
local score = redis.call('ZSCORE', KEYS[6], ARGV[1])
if not score then return 0 end
if (redis.call('HGET', KEYS[1], 'assignee') or '') ~= ARGV[3] then return 0 end
release(ARGV[1])
redis.call('ZADD', KEYS[4], score, ARGV[1])
redis.call('HSET', KEYS[5], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[1], 'assignee', '', 'queue_reason', ARGV[2])
redis.call('HINCRBY', KEYS[1], 'revision', 1)
return 1
)lua";

// ARGV: request_id, score, expected_revision, nf, nf field/value pairs.
// Returns 1, or -1 when the revision is stale. Re-ranks the request where it
// stands: in the queue or among the open tasks.
constexpr char kRefreshScript[] = R"lua(
local rev = tonumber(redis.call('HGET', KEYS[1], 'revision') or '-1')
if rev ~= tonumber(ARGV[3]) then return -1 end
local nf = tonumber(ARGV[4])
redis.call('HSET', KEYS[1], 'revision', tostring(rev + 1), unpack(ARGV, 5, 4 + 2 * nf))
if redis.call('ZSCORE', KEYS[4], ARGV[1]) then redis.call('ZADD', KEYS[4], ARGV[2], ARGV[1]) end
if redis.call('ZSCORE', KEYS[6], ARGV[1]) then redis.call('ZADD', KEYS[6], ARGV[2], ARGV[1]) end
return 1
)lua";

std::string TeamOf(const std::string& team_id) {
  return team_id.empty() ? std::string(kUnroutedTeam) : team_id;
}

std::string Score(const routing::v1::WorkflowInstance& wf) { return std::to_string(QueueRank(wf)); }

// ZRANGE ... WITHSCORES: member, score pairs. A score may come back in
// exponent form, so it is read as a double (exact below 2^53).
absl::StatusOr<std::vector<QueueEntry>> Entries(const std::vector<redis::Reply>& pairs) {
  std::vector<QueueEntry> out;
  for (size_t i = 0; i + 1 < pairs.size(); i += 2) {
    double score = 0;
    if (!absl::SimpleAtod(pairs[i + 1].str(), &score)) {
      return absl::DataLossError("queue score of " + pairs[i].str() + " is not a number");
    }
    out.push_back({.request_id = pairs[i].str(), .rank = std::llround(score)});
  }
  return out;
}

// The stop index of a ZRANGE returning at most `limit` entries.
std::string StopFor(size_t limit) {
  constexpr size_t kUnbounded = static_cast<size_t>(std::numeric_limits<int64_t>::max());
  return limit >= kUnbounded ? "-1" : std::to_string(limit - 1);
}

// A workflow hash as a StoredWorkflow: as it stands now, or (`first`) as
// Create stored it.
absl::StatusOr<StoredWorkflow> Decode(std::map<std::string, std::string>& h,
                                      const std::string& request_id, bool first) {
  const char* wf_field = first ? "first_wf" : "wf";
  const char* request_field = first ? "first_request" : "request";
  StoredWorkflow out;
  if (!out.workflow.ParseFromString(h[wf_field]) ||
      !out.request.ParseFromString(h[request_field])) {
    return absl::DataLossError("workflow of " + request_id + " does not decode");
  }
  int64_t revision = 1;
  if (!first && !absl::SimpleAtoi(h["revision"], &revision)) {
    return absl::DataLossError("revision of " + request_id + " is not a number");
  }
  const std::string& assignee = h[first ? "first_assignee" : "assignee"];
  out.workflow.set_revision(revision);
  out.workflow.set_owner_id(first ? assignee : h["owner"]);
  for (auto& stage : *out.workflow.mutable_stages()) {
    if (stage.stage_id() == out.workflow.current_stage_id()) stage.set_assignee_id(assignee);
  }
  out.event_id = h["event_id"];
  out.queue_reason = h[first ? "first_reason" : "queue_reason"];
  if (!h["skills"].empty()) out.required_skills = absl::StrSplit(h["skills"], ',');
  out.region = h["region"];
  out.assignment_rule_id = h["arule"];
  out.tiering_rule_id = h["trule"];
  out.tiering_explanation = h["texpl"];
  if (!first && !h["appr_events"].empty()) {
    out.approval_event_ids = absl::StrSplit(h["appr_events"], '\n');
  }
  if (!first && !h["adv_request"].empty()) {
    out.last_advance_request = h["adv_request"];
    if (!out.last_advance_answer.ParseFromString(h["adv_answer"])) {
      return absl::DataLossError("last advance answer of " + request_id + " does not decode");
    }
  }
  return out;
}

void AppendCandidates(const AssignSpec& assign, std::vector<std::string>& args) {
  args.push_back(std::to_string(assign.candidates.size()));
  for (const Candidate& c : assign.candidates) {
    args.push_back(c.id);
    args.push_back(std::to_string(c.wip_limit));
  }
}

const char* StrategyName(Strategy s) {
  return s == Strategy::kRoundRobin ? "round_robin" : "least_loaded";
}

// Field/value pairs describing `wf`; the assignment fields are the script's.
std::vector<std::string> Fields(const StoredWorkflow& wf) {
  routing::v1::WorkflowInstance plan = wf.workflow;
  plan.clear_owner_id();
  return {"wf",
          plan.SerializeAsString(),
          "request",
          wf.request.SerializeAsString(),
          "event_id",
          wf.event_id,
          "skills",
          absl::StrJoin(wf.required_skills, ","),
          "region",
          wf.region,
          "arule",
          wf.assignment_rule_id,
          "trule",
          wf.tiering_rule_id,
          "texpl",
          wf.tiering_explanation,
          "team",
          TeamOf(wf.workflow.team_id()),
          "adv_request",
          wf.last_advance_request,
          "adv_answer",
          wf.last_advance_request.empty() ? "" : wf.last_advance_answer.SerializeAsString(),
          "appr_events",
          absl::StrJoin(wf.approval_event_ids, "\n")};
}

// How many times a change is tried while the team's load keeps moving
// between its dry run and its commit.
constexpr int kPickAttempts = 3;

// Reply codes of the two-step scripts (kAdvanceBody).
enum Reply : int64_t {
  kReplyDone = 1,
  kReplyDry = 0,
  kReplyStale = -1,
  kReplyPickChanged = -2,
  kReplyOutboxPending = -3,
  kReplyNotQueued = -4,
};

absl::StatusOr<std::vector<redis::Reply>> Array(absl::StatusOr<redis::Reply> reply) {
  if (!reply.ok()) return reply.status();
  return reply->AsArray();
}

}  // namespace

RedisWorkflowStore::RedisWorkflowStore(redis::Pool& pool, std::string key_prefix,
                                       outbox::RedisOutbox& outbox)
    : pool_(pool), key_prefix_(std::move(key_prefix)), outbox_(outbox) {
  const std::string with_outbox = std::string(outbox::RedisOutbox::kLua) + kAssignLib;
  // Registration of fixed, valid scripts cannot fail.
  (void)scripts_.Register("create", std::string(kAssignLib) + kCreateBody);
  (void)scripts_.Register("advance", with_outbox + kAdvanceBody);
  (void)scripts_.Register("assign_queued", with_outbox + kAssignQueuedBody);
  (void)scripts_.Register("put_member", std::string(outbox::RedisOutbox::kLua) + kPutMemberBody);
  (void)scripts_.Register("unassign", std::string(kAssignLib) + kUnassignBody);
  (void)scripts_.Register("refresh", kRefreshScript);
}

std::string RedisWorkflowStore::WorkflowKey(const std::string& tenant_id,
                                            const std::string& request_id) const {
  return key_prefix_ + "routing:{" + tenant_id + "}:workflow:" + request_id;
}

std::string RedisWorkflowStore::TeamKey(const std::string& tenant_id, const std::string& team_id,
                                        const std::string& what) const {
  return key_prefix_ + "routing:{" + tenant_id + "}:team:" + TeamOf(team_id) + ":" + what;
}

std::string RedisWorkflowStore::CancelledKey(const std::string& tenant_id,
                                             const std::string& request_id) const {
  return key_prefix_ + "routing:{" + tenant_id + "}:cancelled:" + request_id;
}

std::string RedisWorkflowStore::TenantsKey() const { return key_prefix_ + "routing:tenants"; }

std::vector<std::string> RedisWorkflowStore::AssignKeys(const std::string& tenant_id,
                                                        const std::string& team_id,
                                                        const std::string& request_id) const {
  return {WorkflowKey(tenant_id, request_id),     TeamKey(tenant_id, team_id, "load"),
          TeamKey(tenant_id, team_id, "rr"),      TeamKey(tenant_id, team_id, "queue"),
          TeamKey(tenant_id, team_id, "reasons"), TeamKey(tenant_id, team_id, "open")};
}

absl::StatusOr<AssignResult> RedisWorkflowStore::Create(const StoredWorkflow& wf,
                                                        const AssignSpec& assign) {
  return std::move(CreateAll({CreateCall{.wf = wf, .assign = assign}})[0]);
}

std::vector<absl::StatusOr<AssignResult>> RedisWorkflowStore::CreateAll(
    const std::vector<CreateCall>& calls) {
  std::vector<absl::StatusOr<AssignResult>> out(calls.size(), absl::UnknownError("not run"));
  auto conn = pool_.Acquire(kAcquireTimeout);
  if (!conn.ok()) {
    std::fill(out.begin(), out.end(), conn.status());
    return out;
  }
  std::vector<redis::ScriptRegistry::Call> scripts;
  scripts.reserve(calls.size());
  for (const CreateCall& call : calls) {
    const auto& w = call.wf.workflow;
    std::vector<std::string> fields = Fields(call.wf);
    redis::ScriptRegistry::Call& script = scripts.emplace_back();
    script.args = {w.request_id(), Score(w), call.assign.reason_if_none,
                   StrategyName(call.assign.strategy), std::to_string(fields.size() / 2)};
    script.args.insert(script.args.end(), fields.begin(), fields.end());
    AppendCandidates(call.assign, script.args);
    script.keys = AssignKeys(w.tenant_id(), w.team_id(), w.request_id());
    script.keys.push_back(CancelledKey(w.tenant_id(), w.request_id()));
  }
  // Every tenant is in the set before any of its workflows exists.
  for (size_t i = 0; i < calls.size(); ++i) {
    if (absl::Status st = RegisterTenant(**conn, calls[i].wf.workflow.tenant_id()); !st.ok()) {
      std::fill(out.begin(), out.end(), st);
      return out;
    }
  }
  std::vector<absl::StatusOr<redis::Reply>> replies = scripts_.EvalMany(**conn, "create", scripts);
  for (size_t i = 0; i < calls.size(); ++i) {
    auto reply = Array(std::move(replies[i]));
    if (!reply.ok()) {
      out[i] = reply.status();
    } else if (reply->size() != 3) {
      out[i] = absl::InternalError("create script returned a bad reply");
    } else {
      out[i] = AssignResult{.changed = (*reply)[0].integer() == 1,
                            .assignee = (*reply)[1].str(),
                            .queue_reason = (*reply)[2].str(),
                            .cancelled = (*reply)[0].integer() == 2};
    }
  }
  return out;
}

// Before the workflow is created, so no tenant with a workflow is missing
// from the set; once per tenant and process. Its own command: the set is
// not in any one tenant's cluster slot.
absl::Status RedisWorkflowStore::RegisterTenant(redis::Connection& conn,
                                                const std::string& tenant_id) {
  {
    std::lock_guard<std::mutex> lock(tenants_mu_);
    if (registered_tenants_.contains(tenant_id)) return absl::OkStatus();
  }
  FLYWHEEL_RETURN_IF_ERROR(conn.Command({"SADD", TenantsKey(), tenant_id}).status());
  std::lock_guard<std::mutex> lock(tenants_mu_);
  registered_tenants_.insert(tenant_id);
  return absl::OkStatus();
}

absl::StatusOr<std::optional<StoredWorkflow>> RedisWorkflowStore::Find(
    const std::string& tenant_id, const std::string& request_id) {
  FLYWHEEL_ASSIGN_OR_RETURN(auto h, Hash(tenant_id, request_id));
  if (h.empty()) return std::nullopt;
  return Decode(h, request_id, /*first=*/false);
}

absl::StatusOr<std::optional<StoredWorkflow>> RedisWorkflowStore::FindFirst(
    const std::string& tenant_id, const std::string& request_id) {
  FLYWHEEL_ASSIGN_OR_RETURN(auto h, Hash(tenant_id, request_id));
  if (h.empty()) return std::nullopt;
  if (h.count("first_wf") == 0) {
    // Stored before first states were kept: the current state is the first
    // one only while nothing has changed it.
    if (h["revision"] != "1") return std::nullopt;
    return Decode(h, request_id, /*first=*/false);
  }
  FLYWHEEL_ASSIGN_OR_RETURN(StoredWorkflow first, Decode(h, request_id, /*first=*/true));
  return first;
}

absl::StatusOr<std::map<std::string, std::string>> RedisWorkflowStore::Hash(
    const std::string& tenant_id, const std::string& request_id) {
  FLYWHEEL_ASSIGN_OR_RETURN(auto conn, pool_.Acquire(kAcquireTimeout));
  FLYWHEEL_ASSIGN_OR_RETURN(auto items,
                            Array(conn->Command({"HGETALL", WorkflowKey(tenant_id, request_id)})));
  std::map<std::string, std::string> h;
  for (size_t i = 0; i + 1 < items.size(); i += 2) h[items[i].str()] = items[i + 1].str();
  return h;
}

absl::StatusOr<Committed> RedisWorkflowStore::TwoStep(const ChangeScript& change,
                                                      const EventsFor& events) {
  FLYWHEEL_ASSIGN_OR_RETURN(auto conn, pool_.Acquire(kAcquireTimeout));
  for (int attempt = 0; attempt < kPickAttempts; ++attempt) {
    FLYWHEEL_ASSIGN_OR_RETURN(auto dry, Array(scripts_.Eval(*conn, change.script, change.keys,
                                                            change.args("dry", "", nullptr))));
    if (dry.size() != 4) return absl::InternalError(change.script + " script returned a bad reply");
    if (dry[0].integer() == kReplyStale) return Committed{.outcome = Committed::Outcome::kStale};
    if (dry[0].integer() == kReplyNotQueued) return Committed{};
    Committed out{.result = {.changed = true,
                             .assignee = dry[1].str(),
                             .queue_reason = dry[2].str(),
                             .previous_assignee = dry[3].str()}};
    if (change.changes_only_with_pick && out.result.assignee.empty()) out.result.changed = false;
    if (out.result.changed) {
      out.after = change.after(out.result);
      out.events = events(out.after, out.result);
    }
    FLYWHEEL_ASSIGN_OR_RETURN(outbox::RedisOutbox::ScriptArgs staged,
                              outbox_.ForScript(change.tenant_id, out.events));
    std::vector<std::string> keys = change.keys;
    keys.insert(keys.end(), staged.keys.begin(), staged.keys.end());
    std::vector<std::string> args = change.args("commit", out.result.assignee, &out.after);
    args.insert(args.end(), staged.args.begin(), staged.args.end());
    FLYWHEEL_ASSIGN_OR_RETURN(auto reply, Array(scripts_.Eval(*conn, change.script, keys, args)));
    if (reply.size() != 4)
      return absl::InternalError(change.script + " script returned a bad reply");
    switch (reply[0].integer()) {
      case kReplyDone:
        return out;
      case kReplyPickChanged:
        continue;
      case kReplyStale:
        return Committed{.outcome = Committed::Outcome::kStale};
      case kReplyOutboxPending:
        return Committed{.outcome = Committed::Outcome::kOutboxPending};
      case kReplyNotQueued:
        return Committed{};
      default:
        return absl::InternalError(change.script + " script returned a bad reply");
    }
  }
  // The team's load kept moving: the caller reads the workflow again.
  return Committed{.outcome = Committed::Outcome::kStale};
}

absl::StatusOr<Committed> RedisWorkflowStore::Advance(const StoredWorkflow& next,
                                                      int64_t expected_revision,
                                                      const AssignSpec& assign,
                                                      const EventsFor& events) {
  const auto& w = next.workflow;
  const bool completed = w.status() != routing::v1::WORKFLOW_STATUS_ACTIVE;
  ChangeScript change{
      .script = "advance",
      .tenant_id = w.tenant_id(),
      .keys = AssignKeys(w.tenant_id(), w.team_id(), w.request_id()),
      .args =
          [&](const char* mode, const std::string& expected, const StoredWorkflow* after) {
            std::vector<std::string> fields =
                after == nullptr ? std::vector<std::string>{} : Fields(*after);
            std::vector<std::string> args = {w.request_id(),
                                             Score(w),
                                             assign.reason_if_none,
                                             StrategyName(assign.strategy),
                                             std::to_string(expected_revision),
                                             completed ? "1" : "0",
                                             mode,
                                             expected,
                                             std::to_string(fields.size() / 2)};
            args.insert(args.end(), fields.begin(), fields.end());
            AppendCandidates(assign, args);
            return args;
          },
      .after =
          [&](const AssignResult& result) {
            StoredWorkflow after = StoredAfterAssign(next, result, expected_revision + 1);
            if (!after.last_advance_request.empty()) after.last_advance_answer = after.workflow;
            return after;
          },
  };
  return TwoStep(change, events);
}

absl::Status RedisWorkflowStore::Refresh(const StoredWorkflow& next, int64_t expected_revision) {
  const auto& w = next.workflow;
  std::vector<std::string> fields = Fields(next);
  std::vector<std::string> args = {w.request_id(), Score(w), std::to_string(expected_revision),
                                   std::to_string(fields.size() / 2)};
  args.insert(args.end(), fields.begin(), fields.end());
  FLYWHEEL_ASSIGN_OR_RETURN(auto conn, pool_.Acquire(kAcquireTimeout));
  FLYWHEEL_ASSIGN_OR_RETURN(
      redis::Reply reply,
      scripts_.Eval(*conn, "refresh", AssignKeys(w.tenant_id(), w.team_id(), w.request_id()),
                    args));
  FLYWHEEL_ASSIGN_OR_RETURN(int64_t done, reply.AsInteger());
  if (done != 1) {
    return absl::AbortedError("workflow of " + w.request_id() + " changed meanwhile; retry");
  }
  return absl::OkStatus();
}

absl::Status RedisWorkflowStore::RememberCancel(const std::string& tenant_id,
                                                const std::string& request_id) {
  FLYWHEEL_ASSIGN_OR_RETURN(auto conn, pool_.Acquire(kAcquireTimeout));
  return conn
      ->Command({"SET", CancelledKey(tenant_id, request_id), "1", "EX",
                 std::to_string(absl::ToInt64Seconds(kRememberedCancelTtl))})
      .status();
}

absl::StatusOr<std::vector<std::string>> RedisWorkflowStore::Tenants() {
  FLYWHEEL_ASSIGN_OR_RETURN(auto conn, pool_.Acquire(kAcquireTimeout));
  FLYWHEEL_ASSIGN_OR_RETURN(auto items, Array(conn->Command({"SMEMBERS", TenantsKey()})));
  std::vector<std::string> out;
  for (const auto& item : items) out.push_back(item.str());
  return out;
}

absl::StatusOr<Committed> RedisWorkflowStore::AssignQueued(const StoredWorkflow& wf,
                                                           const AssignSpec& assign,
                                                           const EventsFor& events) {
  const auto& w = wf.workflow;
  ChangeScript change{
      .script = "assign_queued",
      .tenant_id = w.tenant_id(),
      .keys = AssignKeys(w.tenant_id(), w.team_id(), w.request_id()),
      .args =
          [&](const char* mode, const std::string& expected, const StoredWorkflow*) {
            std::vector<std::string> args = {w.request_id(),
                                             assign.reason_if_none,
                                             StrategyName(assign.strategy),
                                             std::to_string(w.revision()),
                                             mode,
                                             expected};
            AppendCandidates(assign, args);
            return args;
          },
      .after =
          [&](const AssignResult& result) {
            return StoredAfterAssign(wf, result, w.revision() + 1);
          },
      .changes_only_with_pick = true,
  };
  return TwoStep(change, events);
}

absl::StatusOr<bool> RedisWorkflowStore::Unassign(const std::string& tenant_id,
                                                  const std::string& team_id,
                                                  const std::string& request_id,
                                                  const std::string& expected_assignee,
                                                  const std::string& reason) {
  FLYWHEEL_ASSIGN_OR_RETURN(auto conn, pool_.Acquire(kAcquireTimeout));
  FLYWHEEL_ASSIGN_OR_RETURN(
      redis::Reply reply,
      scripts_.Eval(*conn, "unassign", AssignKeys(tenant_id, team_id, request_id),
                    {request_id, reason, expected_assignee}));
  FLYWHEEL_ASSIGN_OR_RETURN(int64_t removed, reply.AsInteger());
  return removed == 1;
}

absl::StatusOr<std::vector<QueueEntry>> RedisWorkflowStore::Queue(const std::string& tenant_id,
                                                                  const std::string& team_id,
                                                                  size_t limit) {
  if (limit == 0) return std::vector<QueueEntry>{};
  FLYWHEEL_ASSIGN_OR_RETURN(auto conn, pool_.Acquire(kAcquireTimeout));
  FLYWHEEL_ASSIGN_OR_RETURN(
      auto pairs, Array(conn->Command({"ZRANGE", TeamKey(tenant_id, team_id, "queue"), "0",
                                       StopFor(limit), "WITHSCORES"})));
  FLYWHEEL_ASSIGN_OR_RETURN(std::vector<QueueEntry> out, Entries(pairs));
  if (out.empty()) return out;
  std::vector<std::string> hmget = {"HMGET", TeamKey(tenant_id, team_id, "reasons")};
  for (const QueueEntry& e : out) hmget.push_back(e.request_id);
  FLYWHEEL_ASSIGN_OR_RETURN(auto reasons, Array(conn->Command(hmget)));
  for (size_t i = 0; i < out.size() && i < reasons.size(); ++i) out[i].reason = reasons[i].str();
  return out;
}

absl::StatusOr<size_t> RedisWorkflowStore::QueueSize(const std::string& tenant_id,
                                                     const std::string& team_id) {
  FLYWHEEL_ASSIGN_OR_RETURN(auto conn, pool_.Acquire(kAcquireTimeout));
  FLYWHEEL_ASSIGN_OR_RETURN(auto reply,
                            conn->Command({"ZCARD", TeamKey(tenant_id, team_id, "queue")}));
  FLYWHEEL_ASSIGN_OR_RETURN(int64_t n, reply.AsInteger());
  return static_cast<size_t>(n);
}

absl::StatusOr<std::vector<QueueEntry>> RedisWorkflowStore::OpenRequests(
    const std::string& tenant_id, const std::string& team_id) {
  FLYWHEEL_ASSIGN_OR_RETURN(auto conn, pool_.Acquire(kAcquireTimeout));
  FLYWHEEL_ASSIGN_OR_RETURN(
      auto pairs, Array(conn->Command(
                      {"ZRANGE", TeamKey(tenant_id, team_id, "open"), "0", "-1", "WITHSCORES"})));
  return Entries(pairs);
}

absl::StatusOr<std::map<std::string, int>> RedisWorkflowStore::Loads(const std::string& tenant_id,
                                                                     const std::string& team_id) {
  FLYWHEEL_ASSIGN_OR_RETURN(auto conn, pool_.Acquire(kAcquireTimeout));
  FLYWHEEL_ASSIGN_OR_RETURN(auto items,
                            Array(conn->Command({"HGETALL", TeamKey(tenant_id, team_id, "load")})));
  std::map<std::string, int> out;
  for (size_t i = 0; i + 1 < items.size(); i += 2) {
    int n = 0;
    if (absl::SimpleAtoi(items[i + 1].str(), &n)) out[items[i].str()] = n;
  }
  return out;
}

absl::StatusOr<std::map<std::string, std::optional<MemberSpec>>>
RedisWorkflowStore::MemberOverrides(const std::string& tenant_id, const std::string& team_id) {
  FLYWHEEL_ASSIGN_OR_RETURN(auto conn, pool_.Acquire(kAcquireTimeout));
  FLYWHEEL_ASSIGN_OR_RETURN(
      auto items, Array(conn->Command({"HGETALL", TeamKey(tenant_id, team_id, "members")})));
  std::map<std::string, std::optional<MemberSpec>> out;
  for (size_t i = 0; i + 1 < items.size(); i += 2) {
    const std::string& id = items[i].str();
    if (items[i + 1].str().empty()) {
      out[id] = std::nullopt;
      continue;
    }
    routing::v1::Member m;
    if (!m.ParseFromString(items[i + 1].str())) {
      return absl::DataLossError("member " + id + " of team " + team_id + " does not decode");
    }
    out[id] = MemberSpec{.id = id,
                         .skills = {m.skills().begin(), m.skills().end()},
                         .region = m.regions().empty() ? "" : m.regions(0),
                         .wip_limit = static_cast<int>(m.wip_limit()),
                         .on_leave = !m.available()};
  }
  return out;
}

absl::Status RedisWorkflowStore::PutMember(const std::string& tenant_id, const std::string& team_id,
                                           const MemberSpec& member,
                                           std::vector<kafka::OutgoingEvent>& events) {
  routing::v1::Member m;
  m.set_user_id(member.id);
  for (const auto& s : member.skills) m.add_skills(s);
  if (!member.region.empty()) m.add_regions(member.region);
  m.set_wip_limit(static_cast<uint32_t>(member.wip_limit));
  m.set_available(!member.on_leave);
  return SetMember(tenant_id, team_id, member.id, m.SerializeAsString(), events);
}

absl::Status RedisWorkflowStore::RemoveMember(const std::string& tenant_id,
                                              const std::string& team_id,
                                              const std::string& member_id,
                                              std::vector<kafka::OutgoingEvent>& events) {
  return SetMember(tenant_id, team_id, member_id, "", events);
}

absl::Status RedisWorkflowStore::SetMember(const std::string& tenant_id, const std::string& team_id,
                                           const std::string& member_id, const std::string& value,
                                           std::vector<kafka::OutgoingEvent>& events) {
  FLYWHEEL_ASSIGN_OR_RETURN(outbox::RedisOutbox::ScriptArgs staged,
                            outbox_.ForScript(tenant_id, events));
  std::vector<std::string> keys = {TeamKey(tenant_id, team_id, "members")};
  keys.insert(keys.end(), staged.keys.begin(), staged.keys.end());
  std::vector<std::string> args = {member_id, value};
  args.insert(args.end(), staged.args.begin(), staged.args.end());
  FLYWHEEL_ASSIGN_OR_RETURN(auto conn, pool_.Acquire(kAcquireTimeout));
  return scripts_.Eval(*conn, "put_member", keys, args).status();
}

}  // namespace flywheel::routing
