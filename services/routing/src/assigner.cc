#include "assigner.h"

#include "flywheel/core/status.h"
#include "flywheel/log/log.h"
#include "templates.h"

namespace flywheel::routing {
namespace {

constexpr size_t kDrainBatch = 50;

}  // namespace

Assigner::Assigner(WorkflowStore& store, kafka::EventPublisher& publisher, outbox::Outbox& outbox,
                   RoutingMetrics& metrics, RoutingTopics topics)
    : store_(store),
      publisher_(publisher),
      outbox_(outbox),
      metrics_(metrics),
      topics_(std::move(topics)) {}

absl::StatusOr<std::vector<MemberSpec>> Assigner::Roster(const Policy& policy,
                                                         const std::string& tenant_id,
                                                         const std::string& team_id) {
  const TeamSpec* team = policy.FindTeam(team_id);
  if (team == nullptr) return absl::NotFoundError("team " + team_id + " is not in the policy");
  FLYWHEEL_ASSIGN_OR_RETURN(auto overrides, store_.MemberOverrides(tenant_id, team_id));
  return EffectiveRoster(*team, overrides);
}

absl::StatusOr<AssignSpec> Assigner::SpecFor(const Policy& policy, const StoredWorkflow& wf,
                                             Rosters* rosters) {
  const std::string& team_id = wf.workflow.team_id();
  if (team_id.empty()) return AssignSpec{.reason_if_none = kNoTeamMatches};
  const TeamSpec* team = policy.FindTeam(team_id);
  if (team == nullptr) {
    return AssignSpec{.reason_if_none = "team " + team_id + " is no longer in the policy"};
  }
  const std::pair<std::string, std::string> key{wf.workflow.tenant_id(), team_id};
  std::vector<MemberSpec> roster;
  if (auto it = rosters == nullptr ? Rosters::iterator{} : rosters->find(key);
      rosters != nullptr && it != rosters->end()) {
    roster = it->second;
  } else {
    FLYWHEEL_ASSIGN_OR_RETURN(roster, Roster(policy, wf.workflow.tenant_id(), team_id));
    if (rosters != nullptr) (*rosters)[key] = roster;
  }
  std::vector<std::string> skills = wf.required_skills;
  auto tmpl = policy.templates.find(wf.workflow.template_id());
  if (const StageTemplate* stage =
          FindStage(tmpl == policy.templates.end() ? nullptr : &tmpl->second,
                    wf.workflow.current_stage_id())) {
    skills.insert(skills.end(), stage->required_skills.begin(), stage->required_skills.end());
  }
  Eligibility eligible = EligibleMembers(roster, skills, wf.region);
  return AssignSpec{.strategy = team->strategy,
                    .candidates = std::move(eligible.candidates),
                    .reason_if_none = std::move(eligible.reason)};
}

absl::Status Assigner::Drain(const Policy& policy, const std::string& tenant_id,
                             const std::string& team_id) {
  bool full = false;
  return DrainBatch(policy, tenant_id, team_id, full).status();
}

void Assigner::AssignQueuedAfterReload(const Policy& policy) {
  auto tenants = store_.Tenants();
  if (!tenants.ok()) {
    log::Warn("queued work not reassigned after the policy reload",
              {{"error", tenants.status().ToString()}});
    return;
  }
  size_t assigned = 0;
  for (const std::string& tenant : *tenants) {
    for (const auto& [team_id, team] : policy.teams) {
      for (;;) {
        bool full = false;
        auto n = DrainBatch(policy, tenant, team_id, full);
        if (!n.ok()) {
          log::Warn(
              "queued work not reassigned after the policy reload",
              {{"tenant_id", tenant}, {"team_id", team_id}, {"error", n.status().ToString()}});
          break;
        }
        assigned += *n;
        if (*n == 0 || !full) break;
      }
    }
  }
  log::Info("queued work reassigned after the policy reload",
            {{"assigned", assigned}, {"tenants", tenants->size()}});
}

absl::StatusOr<size_t> Assigner::DrainBatch(const Policy& policy, const std::string& tenant_id,
                                            const std::string& team_id, bool& full) {
  FLYWHEEL_ASSIGN_OR_RETURN(std::vector<QueueEntry> queue,
                            store_.Queue(tenant_id, team_id, kDrainBatch));
  full = queue.size() == kDrainBatch;
  size_t assigned_now = 0;
  absl::Status first_error;
  const EventsFor assigned = [this](const StoredWorkflow& after, const AssignResult&) {
    const auto& w = after.workflow;
    const bool first_stage = !w.stages().empty() && ActiveStage(w) >= 0 &&
                             w.stages(0).stage_id() == w.current_stage_id();
    return std::vector<kafka::OutgoingEvent>{TaskAssignedEvent(
        topics_, after,
        first_stage ? routing::v1::ASSIGNMENT_REASON_ROUTED
                    : routing::v1::ASSIGNMENT_REASON_STAGE_ENTERED,
        "",
        w.request_id() + "/" + w.current_stage_id() + "/assigned/" + std::to_string(w.revision()))};
  };
  for (const QueueEntry& entry : queue) {
    auto wf = store_.Find(tenant_id, entry.request_id);
    if (!wf.ok() || !wf->has_value()) continue;
    auto spec = SpecFor(policy, **wf);
    if (!spec.ok() || spec->candidates.empty()) continue;
    auto committed = store_.AssignQueued(**wf, *spec, assigned);
    if (committed.ok() && committed->outcome == Committed::Outcome::kOutboxPending) {
      // The request's earlier events go out first, then it is tried again.
      if (absl::Status drained = outbox_.Drain(tenant_id); !drained.ok()) {
        first_error.Update(drained);
        break;
      }
      committed = store_.AssignQueued(**wf, *spec, assigned);
    }
    if (!committed.ok()) {
      first_error.Update(committed.status());
      break;
    }
    // Stale: it moved since it was read (the next drain sees it again).
    if (committed->outcome != Committed::Outcome::kDone || !committed->result.changed) continue;
    ++assigned_now;
    metrics_.CountAssignment("assigned");
    if (absl::Status st = outbox_.Publish(tenant_id, committed->events); !st.ok()) {
      log::Warn("task.assigned left for the outbox relay",
                {{"request_id", entry.request_id}, {"error", st.ToString()}});
    }
    log::Info("queued request assigned", {{"request_id", entry.request_id},
                                          {"team_id", team_id},
                                          {"assignee_id", committed->result.assignee}});
  }
  RefreshGauge(tenant_id, team_id);
  if (!first_error.ok()) return first_error;
  return assigned_now;
}

void Assigner::RefreshGauge(const std::string& tenant_id, const std::string& team_id) {
  auto n = store_.QueueSize(tenant_id, team_id);
  if (n.ok()) metrics_.SetQueued(tenant_id, team_id.empty() ? kUnroutedTeam : team_id, *n);
}

}  // namespace flywheel::routing
