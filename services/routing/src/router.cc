#include "router.h"

#include "flywheel/common/v1/common.pb.h"
#include "flywheel/core/proto_enums.h"
#include "flywheel/core/status.h"
#include "flywheel/events/catalog.h"
#include "flywheel/kafka/payload.h"
#include "flywheel/log/log.h"
#include "templates.h"
#include "tiering.h"

namespace flywheel::routing {

Router::Router(PolicyHolder& policy, Assigner& assigner, const Clock& clock)
    : policy_(policy), assigner_(assigner), clock_(clock) {}

absl::Status Router::Handle(const kafka::ConsumedEvent& consumed) {
  if (consumed.event.type != events::kRequestSubmitted) return absl::OkStatus();
  intake::v1::RequestSubmitted submitted;
  FLYWHEEL_RETURN_IF_ERROR(kafka::DecodeData(consumed.event, submitted));
  if (submitted.tenant_id().empty() || submitted.request_id().empty()) {
    return absl::InvalidArgumentError("request.submitted without tenant_id or request_id");
  }
  return Route(submitted, consumed.event.id);
}

absl::Status Router::Route(const intake::v1::RequestSubmitted& submitted,
                           const std::string& event_id) {
  const std::shared_ptr<const Policy> policy = policy_.Get();
  intake::v1::Request request = submitted.request();
  request.set_tenant_id(submitted.tenant_id());
  request.set_request_id(submitted.request_id());
  // Intake may be newer than this build: an enum value it does not know is
  // read as unspecified (proto/README.md), so no rule, queue order or
  // metric acts on the bare number.
  for (const FieldViolation& v : ClearUndefinedEnums(request)) {
    log::Warn("undefined enum value read as unspecified",
              {{"request_id", request.request_id()}, {"field", v.field}, {"reason", v.reason}});
  }

  const WorkflowTemplate* tmpl = policy->TemplateFor(request.spec().request_type_id());
  if (tmpl == nullptr) return absl::InternalError("policy has no default template");
  const TierDecision tier = AssessTier(*policy, request);
  const TeamChoice team = ChooseTeam(*policy, request);

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

  FLYWHEEL_ASSIGN_OR_RETURN(AssignSpec spec, assigner_.SpecFor(*policy, wf));
  FLYWHEEL_ASSIGN_OR_RETURN(AssignResult result, assigner_.store().Create(wf, spec));
  // Publish what is stored: on a redelivery that is the first routing's
  // result, read back; on a first routing it is known without a round trip.
  std::optional<StoredWorkflow> stored;
  if (result.changed) {
    stored = StoredAfterCreate(wf, result);
  } else {
    FLYWHEEL_ASSIGN_OR_RETURN(stored,
                              assigner_.store().Find(request.tenant_id(), request.request_id()));
    if (!stored.has_value()) return absl::UnavailableError("workflow vanished after it was stored");
  }

  const RoutingTopics& topics = assigner_.topics();
  kafka::EventPublisher& publisher = assigner_.publisher();
  std::vector<kafka::OutgoingEvent> events = {
      RoutedEvent(topics, *stored, event_id + "/routed"),
      TaskAssignedEvent(topics, *stored, routing::v1::ASSIGNMENT_REASON_ROUTED, "",
                        event_id + "/assigned")};
  auto stored_tmpl = policy->templates.find(stored->workflow.template_id());
  const StageTemplate* stage =
      FindStage(stored_tmpl == policy->templates.end() ? nullptr : &stored_tmpl->second,
                stored->workflow.current_stage_id());
  if (stage != nullptr && stage->sla > absl::ZeroDuration()) {
    events.push_back(TimerStartEvent(topics, *stored, stage->sla, event_id + "/timer"));
  }
  // One round trip for all of them; ids derive from the cause, so a retry
  // after a partial failure republishes the same events.
  FLYWHEEL_RETURN_IF_ERROR(publisher.PublishAll(events).status());

  if (result.changed) {
    assigner_.metrics().CountRouted(common::v1::Priority_Name(request.priority()));
    assigner_.metrics().CountAssignment(result.assignee.empty() ? "queued" : "assigned");
  }
  assigner_.RefreshGauge(request.tenant_id(), wf.workflow.team_id());
  log::Info("request routed", {{"request_id", request.request_id()},
                               {"tenant_id", request.tenant_id()},
                               {"team_id", wf.workflow.team_id()},
                               {"owner_id", result.assignee},
                               {"queue_reason", result.queue_reason},
                               {"approval_tier", tier.tier},
                               {"event_id", event_id}});
  return absl::OkStatus();
}

}  // namespace flywheel::routing
