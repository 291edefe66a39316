#include "approval_tracker.h"

#include <algorithm>

#include "decode.h"
#include "flywheel/core/proto_enums.h"
#include "flywheel/core/proto_time.h"
#include "flywheel/core/status.h"
#include "flywheel/events/catalog.h"
#include "flywheel/log/log.h"
#include "stage_moves.h"
#include "templates.h"

namespace flywheel::routing {
namespace {

// How often a change is planned again when the workflow moved under it.
constexpr int kAttempts = 3;

const WorkflowTemplate* TemplateOf(const Policy& policy, const routing::v1::WorkflowInstance& w) {
  auto it = policy.templates.find(w.template_id());
  return it == policy.templates.end() ? nullptr : &it->second;
}

// Index of the first stage of `category` at or after `from`, or -1.
int FirstOf(const routing::v1::WorkflowInstance& w, common::v1::Stage category, int from = 0) {
  for (int i = from; i < w.stages_size(); ++i) {
    if (w.stages(i).stage() == category) return i;
  }
  return -1;
}

// A change made on approval's word is nobody's AdvanceStage: a retry of the
// last call must not be answered with the state this change leaves.
void ForgetLastAdvance(StoredWorkflow& wf) {
  wf.last_advance_request.clear();
  wf.last_advance_answer.Clear();
}

}  // namespace

ApprovalTracker::ApprovalTracker(PolicyHolder& policy, Assigner& assigner, const Clock& clock)
    : policy_(policy), assigner_(assigner), clock_(clock) {}

absl::Status ApprovalTracker::Handle(const kafka::ConsumedEvent& consumed) {
  const std::string& type = consumed.event.type;
  if (type == events::kApprovalCompleted) {
    approval::v1::ApprovalCompleted completed;
    FLYWHEEL_RETURN_IF_ERROR(DecodeAddressed(consumed, "approval.completed", completed));
    return Completed(completed, consumed.event.id, consumed.event.time.value_or(clock_.Now()));
  }
  if (type == events::kApprovalChangesRequested) {
    approval::v1::ChangesRequested requested;
    FLYWHEEL_RETURN_IF_ERROR(DecodeAddressed(consumed, "approval.changes-requested", requested));
    return ChangesRequested(requested, consumed.event.id);
  }
  if (type == events::kPublishDone) {
    scheduler::v1::PublishDone done;
    FLYWHEEL_RETURN_IF_ERROR(DecodeAddressed(consumed, "publish.done", done));
    return Published(done, consumed.event.id);
  }
  return absl::OkStatus();
}

absl::Status ApprovalTracker::Completed(const approval::v1::ApprovalCompleted& completed,
                                        const std::string& event_id, absl::Time time) {
  // Approval may be newer than this build: an outcome it does not know is
  // read as unspecified, and unspecified moves nothing.
  approval::v1::ApprovalCompleted read = completed;
  ClearUndefinedEnums(read);
  const approval::v1::ChainStatus outcome = read.outcome();
  if (outcome != approval::v1::CHAIN_STATUS_APPROVED &&
      outcome != approval::v1::CHAIN_STATUS_REJECTED) {
    return absl::OkStatus();
  }
  return Apply(read.tenant_id(), read.request_id(), event_id, "approval.completed",
               [&](const Policy& policy, StoredWorkflow wf) -> absl::StatusOr<Change> {
                 const absl::Time now = clock_.Now();
                 Change change{.kind = Change::Kind::kRecord, .result = "recorded"};
                 StoredWorkflow& next = change.next;
                 next = std::move(wf);
                 routing::v1::ApprovalRecord& record = *next.workflow.mutable_approval();
                 record.set_outcome(outcome);
                 record.set_version(read.version());
                 *record.mutable_complete_time() = ToProtoTime(time);
                 record.set_auto_approved(read.auto_approved());
                 record.set_rounds(read.rounds());
                 next.approval_event_ids.push_back(event_id);
                 ForgetLastAdvance(next);
                 const RoutingTopics& topics = assigner_.topics();

                 if (outcome == approval::v1::CHAIN_STATUS_REJECTED) {
                   ApplyEnd(next.workflow, routing::v1::WORKFLOW_STATUS_REJECTED, now);
                   next.queue_reason.clear();
                   change.kind = Change::Kind::kMove;
                   change.result = "rejected";
                   change.events = [&topics](const StoredWorkflow& after, const AssignResult&) {
                     return EndEvents(topics, after);
                   };
                   return change;
                 }
                 const int active = ActiveStage(next.workflow);
                 if (active < 0 || !AwaitsApproval(next.workflow, next.workflow.stages(active))) {
                   return change;  // passed through when the workflow gets there
                 }
                 FLYWHEEL_RETURN_IF_ERROR(MoveOn(policy, change, "advanced",
                                                 "approval recorded; the approval stage waits "
                                                 "for a person",
                                                 event_id, now));
                 return change;
               });
}

absl::Status ApprovalTracker::ChangesRequested(const approval::v1::ChangesRequested& requested,
                                               const std::string& event_id) {
  return Apply(
      requested.tenant_id(), requested.request_id(), event_id, "approval.changes-requested",
      [&](const Policy& policy, StoredWorkflow wf) -> absl::StatusOr<Change> {
        const auto& w = wf.workflow;
        int creation = FirstOf(w, common::v1::STAGE_CREATION);
        if (creation < 0) creation = 0;
        int last = FirstOf(w, common::v1::STAGE_APPROVAL, creation + 1);
        if (last < 0) last = w.stages_size() - 1;
        const int active = ActiveStage(w);
        if (active <= creation || active > last) {
          log::Info("changes requested while the work is not past creation; nothing moves",
                    {{"request_id", w.request_id()},
                     {"stage_id", w.current_stage_id()},
                     {"event_id", event_id}});
          return Change{};
        }
        const WorkflowTemplate* tmpl = TemplateOf(policy, w);
        const StageTemplate* target = FindStage(tmpl, w.stages(creation).stage_id());
        const auto& from = w.stages(active);
        StageMove move{.hops = {{.from_id = from.stage_id(),
                                 .from_stage = from.stage(),
                                 .from_enter = from.enter_time(),
                                 .to = creation}},
                       .sla = target == nullptr ? absl::ZeroDuration() : target->sla,
                       .reason = routing::v1::ASSIGNMENT_REASON_CHANGES_REQUESTED};
        const std::string creator = w.stages(creation).assignee_id();
        const std::string current = from.assignee_id();
        const std::string id = w.request_id() + "/advance/" + std::to_string(w.revision());

        Change change{.kind = Change::Kind::kMove, .result = "returned"};
        StoredWorkflow& next = change.next;
        next = std::move(wf);
        ApplyReturn(next.workflow, creation, clock_.Now(), move.sla);
        next.workflow.clear_approval();
        next.approval_event_ids.push_back(event_id);
        next.queue_reason.clear();
        ForgetLastAdvance(next);
        FLYWHEEL_ASSIGN_OR_RETURN(AssignSpec spec, assigner_.SpecFor(policy, next));
        FLYWHEEL_ASSIGN_OR_RETURN(change.spec, Prefer(std::move(spec), next, creator, current));
        const RoutingTopics& topics = assigner_.topics();
        change.events = [&topics, move, id](const StoredWorkflow& after,
                                            const AssignResult& result) {
          return MoveEvents(topics, after, move, result, id);
        };
        return change;
      });
}

absl::Status ApprovalTracker::Published(const scheduler::v1::PublishDone& done,
                                        const std::string& event_id) {
  return Apply(
      done.tenant_id(), done.request_id(), event_id, "publish.done",
      [&](const Policy& policy, StoredWorkflow wf) -> absl::StatusOr<Change> {
        const int active = ActiveStage(wf.workflow);
        if (active < 0 || wf.workflow.stages(active).stage() != common::v1::STAGE_LAUNCH) {
          log::Info("published while the workflow is not at launch; nothing moves",
                    {{"request_id", wf.workflow.request_id()},
                     {"stage_id", wf.workflow.current_stage_id()},
                     {"event_id", event_id}});
          return Change{};
        }
        Change change;
        change.next = std::move(wf);
        change.next.approval_event_ids.push_back(event_id);
        ForgetLastAdvance(change.next);
        FLYWHEEL_RETURN_IF_ERROR(MoveOn(policy, change, "launched",
                                        "published; the launch stage waits for a person", event_id,
                                        clock_.Now()));
        return change;
      },
      &RoutingMetrics::CountPublishEvent);
}

absl::Status ApprovalTracker::MoveOn(const Policy& policy, Change& change, const char* result,
                                     const char* waiting, const std::string& event_id,
                                     absl::Time now) {
  StoredWorkflow& next = change.next;
  const std::string id =
      next.workflow.request_id() + "/advance/" + std::to_string(next.workflow.revision());
  const WorkflowTemplate* tmpl = TemplateOf(policy, next.workflow);
  FLYWHEEL_ASSIGN_OR_RETURN(Transition t, PlanAdvance(next.workflow, "", ""));
  if (absl::Status check = CheckMove(tmpl, next, t, {}); !check.ok()) {
    log::Info(waiting, {{"request_id", next.workflow.request_id()},
                        {"unmet", std::string(check.message())},
                        {"event_id", event_id}});
    return absl::OkStatus();
  }
  const StageMove move = MoveForward(next, tmpl, t, "", now);
  if (move.entered() >= 0) {
    FLYWHEEL_ASSIGN_OR_RETURN(change.spec, assigner_.SpecFor(policy, next));
  }
  change.kind = Change::Kind::kMove;
  change.result = result;
  const RoutingTopics& topics = assigner_.topics();
  change.events = [&topics, move, id](const StoredWorkflow& after, const AssignResult& r) {
    return MoveEvents(topics, after, move, r, id);
  };
  return absl::OkStatus();
}

absl::StatusOr<AssignSpec> ApprovalTracker::Prefer(AssignSpec spec, const StoredWorkflow& wf,
                                                   const std::string& preferred,
                                                   const std::string& current) {
  auto it = std::find_if(spec.candidates.begin(), spec.candidates.end(),
                         [&](const Candidate& c) { return c.id == preferred; });
  if (preferred.empty() || it == spec.candidates.end()) return spec;
  FLYWHEEL_ASSIGN_OR_RETURN(
      auto loads, assigner_.store().Loads(wf.workflow.tenant_id(), wf.workflow.team_id()));
  int load = loads.count(preferred) ? loads.at(preferred) : 0;
  // The change frees the slot of the stage left.
  if (preferred == current && load > 0) --load;
  // Read before the change: if their load rises meanwhile the store keeps the
  // WIP limit and queues the task, and queued work goes to whoever is free.
  if (load < it->wip_limit) spec.candidates = {*it};
  return spec;
}

absl::Status ApprovalTracker::Apply(const std::string& tenant_id, const std::string& request_id,
                                    const std::string& event_id, const char* what,
                                    const Planner& plan, Counter count) {
  WorkflowStore& store = assigner_.store();
  RoutingMetrics& metrics = assigner_.metrics();
  for (int attempt = 1; attempt <= kAttempts; ++attempt) {
    FLYWHEEL_ASSIGN_OR_RETURN(auto found, store.Find(tenant_id, request_id));
    if (!found.has_value()) {
      return absl::InvalidArgumentError(std::string(what) + " for request " + request_id +
                                        ", which routing has no workflow for");
    }
    const std::vector<std::string>& seen = found->approval_event_ids;
    if (std::find(seen.begin(), seen.end(), event_id) != seen.end()) {
      (metrics.*count)("duplicate");
      return absl::OkStatus();
    }
    if (found->workflow.status() != routing::v1::WORKFLOW_STATUS_ACTIVE) {
      log::Info("approval event for a workflow that has ended; nothing changes",
                {{"request_id", request_id},
                 {"type", what},
                 {"status", routing::v1::WorkflowStatus_Name(found->workflow.status())},
                 {"event_id", event_id}});
      (metrics.*count)("ignored");
      return absl::OkStatus();
    }
    const int64_t revision = found->workflow.revision();
    FLYWHEEL_ASSIGN_OR_RETURN(Change change, plan(*policy_.Get(), *std::move(found)));
    switch (change.kind) {
      case Change::Kind::kNone:
        (metrics.*count)(change.result);
        return absl::OkStatus();
      case Change::Kind::kRecord: {
        absl::Status st = store.Refresh(change.next, revision);
        if (absl::IsAborted(st)) continue;
        FLYWHEEL_RETURN_IF_ERROR(st);
        break;
      }
      case Change::Kind::kMove: {
        FLYWHEEL_ASSIGN_OR_RETURN(Committed committed,
                                  store.Advance(change.next, revision, change.spec, change.events));
        if (committed.outcome == Committed::Outcome::kOutboxPending) {
          FLYWHEEL_RETURN_IF_ERROR(assigner_.outbox().Drain(tenant_id));
          continue;
        }
        if (committed.outcome == Committed::Outcome::kStale) continue;
        if (absl::Status st = assigner_.outbox().Publish(tenant_id, committed.events); !st.ok()) {
          log::Warn("approval event handled; its events are left for the outbox relay",
                    {{"request_id", request_id}, {"error", st.ToString()}});
        }
        // The slot of the stage left goes to queued work, as when work moves.
        const std::string& team = committed.after.workflow.team_id();
        if (absl::Status st = assigner_.Drain(*policy_.Get(), tenant_id, team); !st.ok()) {
          log::Warn("queue not drained after an approval event",
                    {{"team_id", team}, {"error", st.ToString()}});
        }
        break;
      }
    }
    (metrics.*count)(change.result);
    log::Info("approval event handled", {{"request_id", request_id},
                                         {"tenant_id", tenant_id},
                                         {"type", what},
                                         {"result", change.result},
                                         {"stage_id", change.next.workflow.current_stage_id()},
                                         {"event_id", event_id}});
    return absl::OkStatus();
  }
  return absl::AbortedError("workflow of " + request_id + " keeps changing; retry");
}

}  // namespace flywheel::routing
