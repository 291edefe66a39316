#pragma once

#include <functional>
#include <mutex>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "flywheel/outbox/outbox.h"
#include "flywheel/redis/pool.h"
#include "flywheel/redis/script_registry.h"
#include "workflow_store.h"

namespace flywheel::routing {

/// Workflows and team state in Redis, every key under
/// `<prefix>routing:{<tenant>}:` so one tenant's keys share a Redis Cluster
/// slot and one Lua script can update a workflow, its team's load counters
/// and queue together:
///   workflow:<request id>     hash: plan (protobuf), request, assignee, owner,
///                             queue_reason, revision, event_id,
///                             appr_events (approval event ids, one a
///                             line), ...; and
///                             first_wf, first_request, first_assignee,
///                             first_reason: the first routing, kept for
///                             redeliveries (FindFirst)
///   cancelled:<request id>    string: a cancel seen before routing (TTL)
///   team:<team>:load          hash: member -> open tasks
///   team:<team>:rr            string: last member given work (round robin)
///   team:<team>:queue         sorted set: queued request ids by urgency
///   team:<team>:reasons       hash: queued request id -> reason
///   team:<team>:open          sorted set: request ids with an assigned task
///   team:<team>:members       hash: member -> routing.v1.Member ("" = left)
/// and, outside every tenant's slot, `<prefix>routing:tenants` (set: every
/// tenant with a workflow). The events of Advance, AssignQueued and the
/// member changes go to the tenant's outbox in the script that makes the
/// change. Thread-safe.
class RedisWorkflowStore final : public WorkflowStore {
 public:
  RedisWorkflowStore(redis::Pool& pool, std::string key_prefix, outbox::RedisOutbox& outbox);

  absl::StatusOr<AssignResult> Create(const StoredWorkflow& wf, const AssignSpec& assign) override;
  std::vector<absl::StatusOr<AssignResult>> CreateAll(
      const std::vector<CreateCall>& calls) override;
  absl::StatusOr<std::optional<StoredWorkflow>> Find(const std::string& tenant_id,
                                                     const std::string& request_id) override;
  absl::StatusOr<std::optional<StoredWorkflow>> FindFirst(const std::string& tenant_id,
                                                          const std::string& request_id) override;
  absl::StatusOr<Committed> Advance(const StoredWorkflow& next, int64_t expected_revision,
                                    const AssignSpec& assign, const EventsFor& events) override;
  absl::Status Refresh(const StoredWorkflow& next, int64_t expected_revision) override;
  absl::Status RememberCancel(const std::string& tenant_id, const std::string& request_id) override;
  absl::StatusOr<std::vector<std::string>> Tenants() override;
  absl::StatusOr<Committed> AssignQueued(const StoredWorkflow& wf, const AssignSpec& assign,
                                         const EventsFor& events) override;
  absl::StatusOr<bool> Unassign(const std::string& tenant_id, const std::string& team_id,
                                const std::string& request_id, const std::string& expected_assignee,
                                const std::string& reason) override;
  absl::StatusOr<std::vector<QueueEntry>> Queue(const std::string& tenant_id,
                                                const std::string& team_id, size_t limit) override;
  absl::StatusOr<size_t> QueueSize(const std::string& tenant_id,
                                   const std::string& team_id) override;
  absl::StatusOr<std::vector<QueueEntry>> OpenRequests(const std::string& tenant_id,
                                                       const std::string& team_id) override;
  absl::StatusOr<std::map<std::string, int>> Loads(const std::string& tenant_id,
                                                   const std::string& team_id) override;
  absl::StatusOr<std::map<std::string, std::optional<MemberSpec>>> MemberOverrides(
      const std::string& tenant_id, const std::string& team_id) override;
  absl::Status PutMember(const std::string& tenant_id, const std::string& team_id,
                         const MemberSpec& member,
                         std::vector<kafka::OutgoingEvent>& events) override;
  absl::Status RemoveMember(const std::string& tenant_id, const std::string& team_id,
                            const std::string& member_id,
                            std::vector<kafka::OutgoingEvent>& events) override;

  /// The key of a request's workflow (for operators and tests).
  std::string WorkflowKey(const std::string& tenant_id, const std::string& request_id) const;
  /// The key `what` (load, queue, ...) of a team.
  std::string TeamKey(const std::string& tenant_id, const std::string& team_id,
                      const std::string& what) const;

 private:
  // A change that causes events, run in two steps (see kAdvanceBody).
  struct ChangeScript {
    std::string script;
    std::string tenant_id;
    std::vector<std::string> keys;
    // The script's ARGV for a mode ("dry" or "commit"), the pick the commit
    // expects, and the workflow it stores (null for the dry run).
    std::function<std::vector<std::string>(const char* mode, const std::string& expected,
                                           const StoredWorkflow* after)>
        args;
    // The workflow as the change leaves it.
    std::function<StoredWorkflow(const AssignResult&)> after;
    // AssignQueued: finding nobody free changes nothing (but the reason).
    bool changes_only_with_pick = false;
  };
  absl::StatusOr<Committed> TwoStep(const ChangeScript& change, const EventsFor& events);
  absl::Status SetMember(const std::string& tenant_id, const std::string& team_id,
                         const std::string& member_id, const std::string& value,
                         std::vector<kafka::OutgoingEvent>& events);
  std::string CancelledKey(const std::string& tenant_id, const std::string& request_id) const;
  std::string TenantsKey() const;
  absl::Status RegisterTenant(redis::Connection& conn, const std::string& tenant_id);
  absl::StatusOr<std::map<std::string, std::string>> Hash(const std::string& tenant_id,
                                                          const std::string& request_id);
  std::vector<std::string> AssignKeys(const std::string& tenant_id, const std::string& team_id,
                                      const std::string& request_id) const;

  redis::Pool& pool_;
  std::string key_prefix_;
  outbox::RedisOutbox& outbox_;
  redis::ScriptRegistry scripts_;
  std::mutex tenants_mu_;
  absl::flat_hash_set<std::string> registered_tenants_;  // guarded by tenants_mu_
};

}  // namespace flywheel::routing
