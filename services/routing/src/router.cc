#include "router.h"

#include <google/protobuf/util/time_util.h>

#include <iterator>
#include <mutex>
#include <set>

#include "decode.h"
#include "flywheel/common/v1/common.pb.h"
#include "flywheel/core/proto_enums.h"
#include "flywheel/core/status.h"
#include "flywheel/events/catalog.h"
#include "flywheel/log/log.h"
#include "templates.h"
#include "tiering.h"

namespace flywheel::routing {
namespace {

// Intake may be newer than this build: an enum value it does not know is
// read as unspecified (proto/README.md), so no rule, queue order or metric
// acts on the bare number.
void ClearUndefined(intake::v1::Request& request) {
  for (const FieldViolation& v : ClearUndefinedEnums(request)) {
    log::Warn("undefined enum value read as unspecified",
              {{"request_id", request.request_id()}, {"field", v.field}, {"reason", v.reason}});
  }
}

// Whether the update's changed paths name the request field `key`.
bool FieldChanged(const google::protobuf::FieldMask& changed, const std::string& key) {
  for (const std::string& path : changed.paths()) {
    if (path == "fields" || path == "fields." + key) return true;
  }
  return false;
}

}  // namespace

Router::Router(PolicyHolder& policy, Assigner& assigner, const Clock& clock)
    : policy_(policy), assigner_(assigner), clock_(clock) {}

absl::Status Router::Handle(const kafka::ConsumedEvent& consumed) {
  const std::string& type = consumed.event.type;
  if (type == events::kRequestSubmitted) {
    intake::v1::RequestSubmitted submitted;
    FLYWHEEL_RETURN_IF_ERROR(DecodeAddressed(consumed, "request.submitted", submitted));
    return Route(submitted, consumed.event.id);
  }
  if (type == events::kRequestCancelled) {
    intake::v1::RequestCancelled cancelled;
    FLYWHEEL_RETURN_IF_ERROR(DecodeAddressed(consumed, "request.cancelled", cancelled));
    return Cancel(cancelled, consumed.event.id);
  }
  if (type == events::kRequestUpdated) {
    intake::v1::RequestUpdated updated;
    FLYWHEEL_RETURN_IF_ERROR(DecodeAddressed(consumed, "request.updated", updated));
    return Refresh(updated, consumed.event.id);
  }
  return absl::OkStatus();
}

absl::Status Router::Route(const intake::v1::RequestSubmitted& submitted,
                           const std::string& event_id) {
  std::vector<absl::Status> statuses(1);
  RoutedRun routed = RouteAll({{.submitted = submitted, .event_id = event_id}}, statuses);
  FLYWHEEL_RETURN_IF_ERROR(statuses[0]);
  // One round trip for all of them; ids derive from the cause, so a retry
  // after a partial failure republishes the same events.
  return assigner_.publisher().PublishAll(routed.events).status();
}

namespace {

// A batch's statuses, handed to the consumer once the handler and every
// publish it started are through.
class BatchCompletion {
 public:
  BatchCompletion(size_t size, kafka::BatchDone done) : statuses_(size), done_(std::move(done)) {}

  void Set(size_t index, absl::Status status) {
    std::lock_guard lock(mu_);
    statuses_[index] = std::move(status);
  }
  // The events of `indexes` wait on a publish that failed.
  void Fail(const std::vector<size_t>& indexes, const absl::Status& status) {
    std::lock_guard lock(mu_);
    for (size_t i : indexes) {
      if (statuses_[i].ok()) statuses_[i] = status;
    }
  }
  void Hold() {
    std::lock_guard lock(mu_);
    ++holds_;
  }
  void Release() {
    kafka::BatchDone done;
    std::vector<absl::Status> statuses;
    {
      std::lock_guard lock(mu_);
      if (--holds_ > 0) return;
      done = std::move(done_);
      statuses = std::move(statuses_);
    }
    done(std::move(statuses));
  }

 private:
  std::mutex mu_;
  std::vector<absl::Status> statuses_;
  int holds_ = 1;  // the handler's own, released when it returns
  kafka::BatchDone done_;
};

}  // namespace

void Router::HandleBatch(kafka::EventBatch batch, kafka::BatchDone done) {
  auto completion = std::make_shared<BatchCompletion>(batch.events.size(), std::move(done));
  std::vector<Submission> run;
  std::vector<size_t> run_index;  // the batch index of each of `run`
  // Routes the run so far; its events are produced now, in order, ahead of
  // anything handled after it, and their acknowledgement is awaited by the
  // completion rather than by this thread.
  auto flush = [&] {
    if (run.empty()) return;
    std::vector<absl::Status> statuses(run.size());
    RoutedRun routed = RouteAll(run, statuses);
    for (size_t k = 0; k < run.size(); ++k) completion->Set(run_index[k], statuses[k]);
    std::vector<size_t> waiting;
    for (size_t k : routed.waiting) waiting.push_back(run_index[k]);
    completion->Hold();
    assigner_.publisher().PublishAsync(
        std::move(routed.events),
        [completion, waiting = std::move(waiting)](absl::StatusOr<std::vector<std::string>> ids) {
          if (!ids.ok()) completion->Fail(waiting, ids.status());
          completion->Release();
        });
    run.clear();
    run_index.clear();
  };
  for (size_t i = 0; i < batch.events.size(); ++i) {
    const kafka::ConsumedEvent& consumed = batch.events[i];
    if (consumed.event.type != events::kRequestSubmitted) {
      flush();  // what came before it goes first
      completion->Set(i, Handle(consumed));
      continue;
    }
    Submission submission{.event_id = consumed.event.id};
    if (absl::Status st = DecodeAddressed(consumed, "request.submitted", submission.submitted);
        !st.ok()) {
      completion->Set(i, std::move(st));
      continue;
    }
    run.push_back(std::move(submission));
    run_index.push_back(i);
  }
  flush();
  completion->Release();
}

absl::StatusOr<StoredWorkflow> Router::Plan(const Policy& policy,
                                            const intake::v1::RequestSubmitted& submitted,
                                            const std::string& event_id) {
  intake::v1::Request request = submitted.request();
  request.set_tenant_id(submitted.tenant_id());
  request.set_request_id(submitted.request_id());
  ClearUndefined(request);

  const WorkflowTemplate* tmpl = policy.TemplateFor(request.spec().request_type_id());
  if (tmpl == nullptr) return absl::InternalError("policy has no default template");
  const TierDecision tier = AssessTier(policy, request);
  const TeamChoice team = ChooseTeam(policy, request);

  StoredWorkflow wf{.workflow = BuildWorkflow(*tmpl, request, tier.tier, clock_.Now()),
                    .request = request,
                    .event_id = event_id,
                    .required_skills = team.skills,
                    .region = team.region,
                    .assignment_rule_id = team.rule_id,
                    .tiering_rule_id = tier.rule_id,
                    .tiering_explanation = tier.explanation};
  wf.workflow.set_team_id(team.team_id);
  wf.workflow.set_approval_tier(TierEnum(tier.tier));
  wf.workflow.set_approval_policy_id(tier.approval_policy_id);
  return wf;
}

Router::RoutedRun Router::RouteAll(const std::vector<Submission>& run,
                                   std::vector<absl::Status>& statuses) {
  const std::shared_ptr<const Policy> policy = policy_.Get();
  WorkflowStore& store = assigner_.store();
  Assigner::Rosters rosters;
  std::vector<WorkflowStore::CreateCall> calls;
  std::vector<size_t> planned;  // the run index of each call
  for (size_t k = 0; k < run.size(); ++k) {
    absl::StatusOr<StoredWorkflow> wf = Plan(*policy, run[k].submitted, run[k].event_id);
    if (!wf.ok()) {
      statuses[k] = wf.status();
      continue;
    }
    absl::StatusOr<AssignSpec> spec = assigner_.SpecFor(*policy, *wf, &rosters);
    if (!spec.ok()) {
      statuses[k] = spec.status();
      continue;
    }
    calls.push_back({.wf = *std::move(wf), .assign = *std::move(spec)});
    planned.push_back(k);
  }
  std::vector<absl::StatusOr<AssignResult>> results = store.CreateAll(calls);

  RoutedRun out;
  std::set<std::pair<std::string, std::string>> teams;
  for (size_t c = 0; c < calls.size(); ++c) {
    const size_t k = planned[c];
    StoredWorkflow& wf = calls[c].wf;  // moved into `first` when routed now
    const auto& w = wf.workflow;
    if (!results[c].ok()) {
      statuses[k] = results[c].status();
      continue;
    }
    const AssignResult& result = *results[c];
    if (result.cancelled) {
      log::Info("request cancelled before it was routed; not routed",
                {{"request_id", w.request_id()},
                 {"tenant_id", w.tenant_id()},
                 {"event_id", run[k].event_id}});
      continue;
    }
    // Publish the first routing: known without a round trip when it
    // happened now; on a redelivery, read back as Create stored it, never a
    // later state (the workflow may have advanced since).
    StoredWorkflow first;
    if (result.changed) {
      assigner_.metrics().CountRouted(common::v1::Priority_Name(wf.request.priority()));
      assigner_.metrics().CountAssignment(result.assignee.empty() ? "queued" : "assigned");
      first = StoredAfterCreate(std::move(wf), result);
    } else {
      auto kept = store.FindFirst(w.tenant_id(), w.request_id());
      if (!kept.ok()) {
        statuses[k] = kept.status();
        continue;
      }
      if (!kept->has_value()) {
        log::Warn(
            "first routing not kept (stored by an older version and changed since); "
            "its events are not republished",
            {{"request_id", w.request_id()}, {"event_id", run[k].event_id}});
        continue;
      }
      first = **std::move(kept);
    }
    std::vector<kafka::OutgoingEvent> events = FirstRoutingEvents(assigner_.topics(), first);
    std::move(events.begin(), events.end(), std::back_inserter(out.events));
    out.waiting.push_back(k);
    const auto& routed = first.workflow;
    teams.emplace(routed.tenant_id(), routed.team_id());
    if (log::Enabled(log::Level::kDebug)) {
      log::Debug("request routed",
                 {{"request_id", routed.request_id()},
                  {"tenant_id", routed.tenant_id()},
                  {"team_id", routed.team_id()},
                  {"owner_id", routed.owner_id()},
                  {"queue_reason", first.queue_reason},
                  {"approval_tier", common::v1::ApprovalTier_Name(routed.approval_tier())},
                  {"event_id", run[k].event_id}});
    }
  }
  for (const auto& [tenant, team] : teams) assigner_.RefreshGauge(tenant, team);
  if (!out.waiting.empty()) {
    log::Info("requests routed", {{"count", out.waiting.size()}, {"teams", teams.size()}});
  }
  return out;
}

absl::Status Router::Cancel(const intake::v1::RequestCancelled& cancelled,
                            const std::string& event_id) {
  const std::string& tenant = cancelled.tenant_id();
  const std::string& request_id = cancelled.request_id();
  WorkflowStore& store = assigner_.store();
  FLYWHEEL_ASSIGN_OR_RETURN(auto found, store.Find(tenant, request_id));
  if (!found.has_value()) {
    // Intake publishes a request's submitted before its cancel on the same
    // partition, but a submitted may come later still: dead-lettered and
    // replayed, or offsets reset. Remembering the cancel keeps it unrouted.
    FLYWHEEL_RETURN_IF_ERROR(store.RememberCancel(tenant, request_id));
    log::Info("cancel of a request not routed yet; remembered, it will not be routed",
              {{"request_id", request_id}, {"tenant_id", tenant}, {"event_id", event_id}});
    return absl::OkStatus();
  }
  StoredWorkflow wf = *std::move(found);
  std::string released;
  switch (wf.workflow.status()) {
    case routing::v1::WORKFLOW_STATUS_ACTIVE: {
      const int64_t revision = wf.workflow.revision();
      ApplyEnd(wf.workflow, routing::v1::WORKFLOW_STATUS_CANCELLED, clock_.Now());
      wf.queue_reason.clear();
      // Advance to an ended workflow: frees the assignee's slot or takes the
      // request out of its queue, and assigns nothing. Its events are
      // stored with it.
      FLYWHEEL_ASSIGN_OR_RETURN(
          Committed committed,
          store.Advance(wf, revision, AssignSpec{},
                        [this](const StoredWorkflow& after, const AssignResult&) {
                          return EndEvents(assigner_.topics(), after);
                        }));
      if (committed.outcome == Committed::Outcome::kOutboxPending) {
        FLYWHEEL_RETURN_IF_ERROR(assigner_.outbox().Drain(tenant));
      }
      if (committed.outcome != Committed::Outcome::kDone) {
        return absl::AbortedError("workflow of " + request_id + " changed meanwhile; retry");
      }
      released = committed.result.previous_assignee;
      FLYWHEEL_RETURN_IF_ERROR(assigner_.outbox().Publish(tenant, committed.events));
      break;
    }
    case routing::v1::WORKFLOW_STATUS_CANCELLED:
      // A redelivery: republish what the cancel published.
      FLYWHEEL_RETURN_IF_ERROR(
          assigner_.publisher().PublishAll(EndEvents(assigner_.topics(), wf)).status());
      break;
    default:
      log::Info("cancel of a workflow that already ended; nothing changes",
                {{"request_id", request_id},
                 {"status", routing::v1::WorkflowStatus_Name(wf.workflow.status())},
                 {"event_id", event_id}});
      return absl::OkStatus();
  }
  // The freed slot goes to queued work, as when work finishes.
  const std::shared_ptr<const Policy> policy = policy_.Get();
  if (absl::Status st = assigner_.Drain(*policy, tenant, wf.workflow.team_id()); !st.ok()) {
    log::Warn("queue not drained after cancel",
              {{"team_id", wf.workflow.team_id()}, {"error", st.ToString()}});
  }
  log::Info("request cancelled", {{"request_id", request_id},
                                  {"tenant_id", tenant},
                                  {"team_id", wf.workflow.team_id()},
                                  {"released_assignee_id", released},
                                  {"event_id", event_id}});
  return absl::OkStatus();
}

absl::Status Router::Refresh(const intake::v1::RequestUpdated& updated,
                             const std::string& event_id) {
  intake::v1::Request request = updated.request();
  request.set_tenant_id(updated.tenant_id());
  request.set_request_id(updated.request_id());
  ClearUndefined(request);
  WorkflowStore& store = assigner_.store();
  FLYWHEEL_ASSIGN_OR_RETURN(auto found, store.Find(request.tenant_id(), request.request_id()));
  if (!found.has_value() || found->workflow.status() != routing::v1::WORKFLOW_STATUS_ACTIVE) {
    // Intake publishes submitted before updated; an update routing cannot
    // place belongs to a request it never routed or one already ended.
    log::Info("update of a request with no active workflow; skipped",
              {{"request_id", request.request_id()}, {"event_id", event_id}});
    return absl::OkStatus();
  }
  // Intake bumps the revision on every change: an update no newer than what
  // is kept is a redelivery (or older) and changes nothing.
  if (request.revision() > 0 && request.revision() <= found->request.revision()) {
    return absl::OkStatus();
  }
  StoredWorkflow next = *std::move(found);
  const int64_t revision = next.workflow.revision();
  const common::v1::Priority before = next.workflow.priority();
  // Fields supplied with AdvanceStage are routing's, unknown to intake: they
  // stay unless the update names them (or replaces the whole map).
  for (const auto& [key, value] : next.request.spec().fields()) {
    if (!request.spec().fields().contains(key) && !FieldChanged(updated.changed_paths(), key)) {
      (*request.mutable_spec()->mutable_fields())[key] = value;
    }
  }
  next.request = std::move(request);
  next.workflow.set_priority(next.request.priority());
  *next.workflow.mutable_update_time() =
      google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(clock_.Now()));
  FLYWHEEL_RETURN_IF_ERROR(store.Refresh(next, revision));

  const std::shared_ptr<const Policy> policy = policy_.Get();
  const TierDecision tier = AssessTier(*policy, next.request);
  if (static_cast<int>(TierEnum(tier.tier)) > static_cast<int>(next.workflow.approval_tier())) {
    log::Warn("updated request would now get a higher approval tier; routing keeps its tier",
              {{"request_id", next.request.request_id()},
               {"approval_tier", static_cast<int>(next.workflow.approval_tier()) - 1},
               {"would_be_tier", tier.tier},
               {"tiering_rule", tier.rule_id}});
  }
  log::Info("request refreshed", {{"request_id", next.request.request_id()},
                                  {"priority_before", common::v1::Priority_Name(before)},
                                  {"priority", common::v1::Priority_Name(next.workflow.priority())},
                                  {"event_id", event_id}});
  return absl::OkStatus();
}

}  // namespace flywheel::routing
