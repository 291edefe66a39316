#include "approval_events.h"

#include "absl/strings/str_cat.h"
#include "flywheel/approval/v1/events.pb.h"
#include "flywheel/core/proto_time.h"
#include "flywheel/events/catalog.h"
#include "flywheel/scheduler/v1/events.pb.h"

namespace flywheel::approval {
namespace {

// The workflow stage every step timer belongs to.
constexpr char kApprovalStage[] = "approval";

const v1::ApprovalStep* FindStep(const v1::ApprovalChain& chain, const std::string& step_id) {
  for (const v1::ApprovalStep& step : chain.steps()) {
    if (step.step_id() == step_id) return &step;
  }
  return nullptr;
}

bool HasSla(const v1::ApprovalStep* step) {
  return step != nullptr && (step->sla().seconds() > 0 || step->sla().nanos() > 0);
}

// Builds the events of one operation, numbering their ids.
class Builder {
 public:
  Builder(const v1::ApprovalChain& chain, const ApprovalTopics& topics, std::string id_prefix,
          absl::Time now)
      : chain_(chain), topics_(topics), id_prefix_(std::move(id_prefix)), now_(now) {}

  void Add(const std::string& topic, const char* type, const google::protobuf::Message& payload) {
    events_.push_back({.topic = topic,
                       .type = type,
                       .key = chain_.request_id(),
                       .data = payload.SerializeAsString(),
                       .subject = chain_.request_id(),
                       .extensions = {{"tenant", chain_.tenant_id()}},
                       .id = absl::StrCat(id_prefix_, ".", events_.size() + 1),
                       .time = now_});
  }

  void operator()(const StepStarted& f) {
    const v1::ApprovalStep* step = FindStep(chain_, f.step_id);
    v1::StepStarted e;
    Identify(e);
    if (step != nullptr) *e.mutable_step() = *step;
    for (const std::string& id : f.approver_ids) e.add_approver_ids(id);
    e.set_version(f.version);
    e.set_round(f.round);
    e.set_tier(chain_.tier());
    if (f.due) *e.mutable_due_time() = ToProtoTime(*f.due);
    Add(topics_.approvals, events::kApprovalStepStarted, e);
    if (!HasSla(step)) return;
    scheduler::v1::TimerRequested timer = Timer(f.step_id, f.round);
    timer.set_action(scheduler::v1::TIMER_ACTION_START);
    timer.set_kind(common::v1::TIMER_KIND_APPROVAL_STEP);
    *timer.mutable_duration() = step->sla();
    timer.set_reason("approval step started");
    Add(topics_.timer_requests, events::kTimerRequested, timer);
  }

  void operator()(const StepDecided& f) {
    v1::StepDecided e;
    Identify(e);
    e.set_step_id(f.step_id);
    e.set_approver_id(f.approver_id);
    e.set_decided_by(f.decided_by);
    e.set_decision(f.decision);
    e.set_comment(f.comment);
    e.set_version(f.version);
    e.set_round(f.round);
    e.set_step_status(f.step_status);
    Add(topics_.approvals, events::kApprovalDecided, e);
  }

  void operator()(const StepStopped& f) {
    if (!HasSla(FindStep(chain_, f.step_id))) return;
    scheduler::v1::TimerRequested timer = Timer(f.step_id, f.round);
    timer.set_action(scheduler::v1::TIMER_ACTION_CANCEL);
    timer.set_reason(absl::StrCat("approval step ", v1::StepStatus_Name(f.status)));
    Add(topics_.timer_requests, events::kTimerRequested, timer);
  }

  void operator()(const ChangesRequested& f) {
    v1::ChangesRequested e;
    Identify(e);
    e.set_step_id(f.step_id);
    e.set_approver_id(f.approver_id);
    e.set_decided_by(f.decided_by);
    e.set_comment(f.comment);
    e.set_version(f.version);
    e.set_round(f.round);
    Add(topics_.approvals, events::kApprovalChangesRequested, e);
  }

  void operator()(const ChainCompleted& f) {
    v1::ApprovalCompleted e;
    Identify(e);
    e.set_outcome(f.status);
    e.set_version(f.version);
    e.set_tier(chain_.tier());
    e.set_step_id(f.step_id);
    e.set_approver_id(f.approver_id);
    e.set_reason(f.reason);
    e.set_auto_approved(f.auto_approved);
    e.set_rounds(chain_.round());
    *e.mutable_create_time() = chain_.create_time();
    Add(topics_.approvals, events::kApprovalCompleted, e);
  }

  void operator()(const Escalated& f) {
    v1::StepEscalated e;
    Identify(e);
    e.set_step_id(f.step_id);
    for (const std::string& id : f.owner_ids) e.add_owner_ids(id);
    e.set_round(f.round);
    Add(topics_.approvals, events::kApprovalStepEscalated, e);
  }

  void operator()(const Delegated&) {}

  std::vector<kafka::OutgoingEvent> Take() { return std::move(events_); }

 private:
  template <typename Event>
  void Identify(Event& e) const {
    e.set_tenant_id(chain_.tenant_id());
    e.set_request_id(chain_.request_id());
  }

  scheduler::v1::TimerRequested Timer(const std::string& step_id, uint32_t round) const {
    scheduler::v1::TimerRequested timer;
    Identify(timer);
    timer.set_timer_id(StepTimerId(chain_.request_id(), step_id, round));
    timer.set_stage_id(kApprovalStage);
    return timer;
  }

  const v1::ApprovalChain& chain_;
  const ApprovalTopics& topics_;
  const std::string id_prefix_;
  const absl::Time now_;
  std::vector<kafka::OutgoingEvent> events_;
};

}  // namespace

std::string StepTimerId(const std::string& request_id, const std::string& step_id, uint32_t round) {
  return absl::StrCat(request_id, "/approval/", step_id, "/", round);
}

std::vector<kafka::OutgoingEvent> EventsFor(const v1::ApprovalChain& chain, const Facts& facts,
                                            const ApprovalTopics& topics,
                                            const std::string& id_prefix, absl::Time now) {
  Builder builder(chain, topics, id_prefix, now);
  for (const Fact& fact : facts) std::visit(builder, fact);
  return builder.Take();
}

kafka::OutgoingEvent VersionSubmittedEvent(const v1::AssetVersion& version, uint32_t round,
                                           const ApprovalTopics& topics, std::string id,
                                           absl::Time now) {
  v1::VersionSubmitted e;
  e.set_tenant_id(version.tenant_id());
  e.set_request_id(version.request_id());
  *e.mutable_version() = version;
  e.set_round(round);
  return {.topic = topics.approvals,
          .type = events::kApprovalVersionSubmitted,
          .key = version.request_id(),
          .data = e.SerializeAsString(),
          .subject = version.request_id(),
          .extensions = {{"tenant", version.tenant_id()}},
          .id = std::move(id),
          .time = now};
}

}  // namespace flywheel::approval
