#pragma once

#include <map>
#include <mutex>
#include <set>

#include "flywheel/outbox/testing/in_memory_outbox.h"
#include "workflow_store.h"

namespace flywheel::routing {

/// An in-memory WorkflowStore for unit tests: the same semantics as the
/// Redis one (picks by `PickMember`), one mutex for atomicity, events stored
/// in `outbox` with their change. `fail_with` makes every call return that
/// status.
class FakeWorkflowStore final : public WorkflowStore {
 public:
  explicit FakeWorkflowStore(outbox::testing::InMemoryOutbox& outbox) : outbox_(outbox) {}

  absl::StatusOr<AssignResult> Create(const StoredWorkflow& wf, const AssignSpec& assign) override;
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

  absl::Status fail_with;

 private:
  struct Team {
    std::map<std::string, int> load;
    std::string last;
    std::vector<std::string> queue;  // in arrival order
    std::map<std::string, std::string> reasons;
    std::set<std::string> open;
    std::map<std::string, std::optional<MemberSpec>> members;
  };
  struct Entry {
    StoredWorkflow wf;
    std::string assignee;
    std::string owner;
    int64_t revision = 1;
    /// As Create left it.
    StoredWorkflow first;
  };
  Team& TeamOf(const std::string& tenant, const std::string& team) {
    return teams_[tenant + "/" + (team.empty() ? kUnroutedTeam : team)];
  }
  // What Find returns for `e`.
  static StoredWorkflow View(const Entry& e);
  // The end of a change of `e` that assigned as `result`: its events, stored.
  Committed Done(Entry& e, const AssignResult& result, const EventsFor& events);
  // Picks and places; returns the result for `e`.
  AssignResult Place(Entry& e, Team& team, const AssignSpec& assign);
  // `ids` of the tenant's workflows as entries, by rank then id.
  template <typename Ids>
  std::vector<QueueEntry> Ranked(const std::string& tenant, const Ids& ids);

  outbox::testing::InMemoryOutbox& outbox_;
  std::mutex mu_;
  std::map<std::string, Entry> workflows_;
  std::map<std::string, Team> teams_;
  std::set<std::string> cancelled_;  // tenant/request
  std::set<std::string> tenants_;
};

}  // namespace flywheel::routing
