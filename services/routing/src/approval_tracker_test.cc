#include "approval_tracker.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "flywheel/events/catalog.h"
#include "flywheel/routing/v1/events.pb.h"
#include "flywheel/scheduler/v1/events.pb.h"
#include "routing_fixture.h"

namespace flywheel::routing {
namespace {

using ::testing::HasSubstr;

const auth::Principal kOps{.tenant = "acme",
                           .user_id = "ops-console",
                           .roles = {auth::Role::kOpsAdmin, auth::Role::kService}};

// Review and approval need legal skills only cleo has, so who does creation
// and who does the later stages differ.
constexpr char kPolicy[] = R"yaml(
templates:
  t:
    stages:
      - {stage: creation, owner_role: creator, sla: 2h}
      - {stage: review, owner_role: editor, sla: 1h, required_skills: [legal]}
      - {stage: approval, owner_role: approver, sla: 3h, required_skills: [legal]}
      - {stage: scheduling_qa, owner_role: ops, sla: 1h}
default_template: t
teams:
  - id: content
    default_wip_limit: 3
    members: [{id: ana}, {id: ben}, {id: cleo, skills: [legal]}]
default_team: content
tiering:
  default_tier: 1
  default_approval_policy: p1
  rules:
    - {id: memos, keywords: [memo], tier: 0, approval_policy: p0}
)yaml";

kafka::ConsumedEvent Submitted(const std::string& request_id, const std::string& title) {
  intake::v1::RequestSubmitted payload;
  payload.set_tenant_id("acme");
  payload.set_request_id(request_id);
  payload.mutable_request()->mutable_spec()->set_request_type_id("blog_post");
  payload.mutable_request()->mutable_spec()->set_title(title);
  kafka::ConsumedEvent consumed;
  consumed.event.id = "evt_" + request_id;
  consumed.event.type = events::kRequestSubmitted;
  consumed.event.data = payload.SerializeAsString();
  return consumed;
}

kafka::ConsumedEvent Completed(const std::string& request_id, approval::v1::ChainStatus outcome,
                               const std::string& event_id) {
  approval::v1::ApprovalCompleted payload;
  payload.set_tenant_id("acme");
  payload.set_request_id(request_id);
  payload.set_outcome(outcome);
  payload.set_version(2);
  payload.set_rounds(1);
  if (outcome == approval::v1::CHAIN_STATUS_REJECTED) payload.set_reason("off brand");
  kafka::ConsumedEvent consumed;
  consumed.event.id = event_id;
  consumed.event.type = events::kApprovalCompleted;
  consumed.event.time = absl::FromUnixSeconds(1'900'000'000);
  consumed.event.data = payload.SerializeAsString();
  return consumed;
}

kafka::ConsumedEvent ChangesRequested(const std::string& request_id, const std::string& event_id) {
  approval::v1::ChangesRequested payload;
  payload.set_tenant_id("acme");
  payload.set_request_id(request_id);
  payload.set_comment("the headline overpromises");
  payload.set_version(1);
  payload.set_round(1);
  kafka::ConsumedEvent consumed;
  consumed.event.id = event_id;
  consumed.event.type = events::kApprovalChangesRequested;
  consumed.event.data = payload.SerializeAsString();
  return consumed;
}

template <typename Payload>
std::vector<Payload> Decoded(const std::vector<kafka::OutgoingEvent>& events) {
  std::vector<Payload> out;
  for (const kafka::OutgoingEvent& e : events) {
    Payload p;
    EXPECT_TRUE(p.ParseFromString(e.data)) << e.type;
    out.push_back(p);
  }
  return out;
}

class ApprovalTrackerTest : public testing::RoutingFixture {
 protected:
  ApprovalTrackerTest() : RoutingFixture(kPolicy) {}

  routing::v1::WorkflowInstance Workflow(const std::string& id) { return Stored(id).workflow; }

  absl::StatusOr<routing::v1::WorkflowInstance> Advance(const std::string& id,
                                                        const std::string& from,
                                                        const std::string& to = "") {
    routing::v1::AdvanceStageRequest advance;
    advance.set_tenant_id("acme");
    advance.set_request_id(id);
    advance.set_expected_stage_id(from);
    advance.set_to_stage_id(to);
    return ops_.AdvanceStage(kOps, advance);
  }

  // Routes `id` and advances it by hand to its approval stage.
  void RouteToApproval(const std::string& id) {
    ASSERT_TRUE(router_.Handle(Submitted(id, "Spring launch")).ok());
    ASSERT_TRUE(Advance(id, "creation").ok());
    ASSERT_TRUE(Advance(id, "review").ok());
    ASSERT_EQ(Workflow(id).current_stage_id(), "approval");
  }

  int LoadOf(const std::string& member) { return RoutingFixture::LoadOf("content", member); }

  ApprovalTracker tracker_{policy_, assigner_, clock_};
};

TEST_F(ApprovalTrackerTest, ApprovalAtTheApprovalStageMovesTheWorkflowOnWithNobodyActing) {
  ASSERT_NO_FATAL_FAILURE(RouteToApproval("req_1"));
  EXPECT_EQ(LoadOf("cleo"), 1);
  publisher_.Clear();

  ASSERT_TRUE(
      tracker_.Handle(Completed("req_1", approval::v1::CHAIN_STATUS_APPROVED, "evt_ok")).ok());

  routing::v1::WorkflowInstance wf = Workflow("req_1");
  EXPECT_EQ(wf.current_stage_id(), "scheduling_qa");
  EXPECT_EQ(wf.stages(2).status(), routing::v1::STAGE_STATUS_DONE);
  EXPECT_EQ(wf.approval().outcome(), approval::v1::CHAIN_STATUS_APPROVED);
  EXPECT_EQ(wf.approval().version(), 2u);
  EXPECT_EQ(wf.approval().complete_time().seconds(), 1'900'000'000);
  EXPECT_EQ(LoadOf("cleo"), 0) << "the approval stage's task was released";

  auto advanced = Decoded<routing::v1::StageAdvanced>(publisher_.OfType(events::kStageAdvanced));
  ASSERT_EQ(advanced.size(), 1u);
  EXPECT_EQ(advanced[0].from_stage_id(), "approval");
  EXPECT_EQ(advanced[0].to_stage_id(), "scheduling_qa");
  EXPECT_EQ(advanced[0].actor_id(), "");
  auto timers = Decoded<scheduler::v1::TimerRequested>(publisher_.OfType(events::kTimerRequested));
  ASSERT_EQ(timers.size(), 2u);
  EXPECT_EQ(timers[0].action(), scheduler::v1::TIMER_ACTION_CANCEL);
  EXPECT_EQ(timers[0].timer_id(), "req_1/stage/approval");
  EXPECT_EQ(timers[1].action(), scheduler::v1::TIMER_ACTION_START);
  EXPECT_EQ(timers[1].timer_id(), "req_1/stage/scheduling_qa");
  auto assigned = Decoded<routing::v1::TaskAssigned>(publisher_.OfType(events::kTaskAssigned));
  ASSERT_EQ(assigned.size(), 1u);
  EXPECT_EQ(assigned[0].task().stage_id(), "scheduling_qa");
  EXPECT_EQ(assigned[0].previous_assignee_id(), "cleo");
}

TEST_F(ApprovalTrackerTest, ARedeliveredApprovalChangesAndPublishesNothing) {
  ASSERT_NO_FATAL_FAILURE(RouteToApproval("req_1"));
  const auto approved = Completed("req_1", approval::v1::CHAIN_STATUS_APPROVED, "evt_ok");
  ASSERT_TRUE(tracker_.Handle(approved).ok());
  const routing::v1::WorkflowInstance before = Workflow("req_1");
  const size_t published = publisher_.size();

  ASSERT_TRUE(tracker_.Handle(approved).ok());
  EXPECT_EQ(Workflow("req_1").revision(), before.revision());
  EXPECT_EQ(publisher_.size(), published);
}

TEST_F(ApprovalTrackerTest, AnEarlyApprovalLetsTheWorkflowPassThroughItsApprovalStage) {
  ASSERT_TRUE(router_.Handle(Submitted("req_1", "Spring launch")).ok());
  ASSERT_TRUE(
      tracker_.Handle(Completed("req_1", approval::v1::CHAIN_STATUS_APPROVED, "evt_ok")).ok());
  EXPECT_EQ(Workflow("req_1").current_stage_id(), "creation") << "recorded, nothing moves yet";
  EXPECT_TRUE(publisher_.OfType(events::kStageAdvanced).empty());

  ASSERT_TRUE(Advance("req_1", "creation").ok());
  publisher_.Clear();
  auto through = Advance("req_1", "review");
  ASSERT_TRUE(through.ok()) << through.status();
  EXPECT_EQ(through->current_stage_id(), "scheduling_qa");
  EXPECT_EQ(through->stages(2).status(), routing::v1::STAGE_STATUS_DONE);

  auto advanced = Decoded<routing::v1::StageAdvanced>(publisher_.OfType(events::kStageAdvanced));
  ASSERT_EQ(advanced.size(), 2u);
  EXPECT_EQ(advanced[0].from_stage_id(), "review");
  EXPECT_EQ(advanced[0].to_stage_id(), "approval");
  EXPECT_EQ(advanced[0].actor_id(), "ops-console");
  EXPECT_EQ(advanced[1].from_stage_id(), "approval");
  EXPECT_EQ(advanced[1].to_stage_id(), "scheduling_qa");
  EXPECT_EQ(advanced[1].actor_id(), "");
  // Only the stage that ran had a timer; the one passed through had none.
  for (const auto& t :
       Decoded<scheduler::v1::TimerRequested>(publisher_.OfType(events::kTimerRequested))) {
    EXPECT_NE(t.timer_id(), "req_1/stage/approval") << t.ShortDebugString();
  }
  auto assigned = Decoded<routing::v1::TaskAssigned>(publisher_.OfType(events::kTaskAssigned));
  ASSERT_EQ(assigned.size(), 1u);
  EXPECT_EQ(assigned[0].task().stage_id(), "scheduling_qa");
}

TEST_F(ApprovalTrackerTest, LeavingOrSkippingTheApprovalStageByHandNeedsAnApprovedChain) {
  ASSERT_NO_FATAL_FAILURE(RouteToApproval("req_1"));
  auto refused = Advance("req_1", "approval");
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(refused.status().message()),
              HasSubstr("exit criterion of approval: the approval chain is not approved"));

  ASSERT_TRUE(router_.Handle(Submitted("req_2", "Summer launch")).ok());
  ASSERT_TRUE(Advance("req_2", "creation").ok());
  auto skipped = Advance("req_2", "review", "scheduling_qa");
  EXPECT_EQ(skipped.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Workflow("req_2").current_stage_id(), "review");
}

TEST_F(ApprovalTrackerTest, TierZeroWorkSkipsTheApprovalStageAndAnApprovalOnlyRecords) {
  ASSERT_TRUE(router_.Handle(Submitted("req_1", "Team memo")).ok());
  ASSERT_TRUE(
      tracker_.Handle(Completed("req_1", approval::v1::CHAIN_STATUS_APPROVED, "evt_ok")).ok());
  ASSERT_TRUE(Advance("req_1", "creation").ok());
  auto next = Advance("req_1", "review");
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(next->current_stage_id(), "scheduling_qa");
  EXPECT_EQ(next->stages(2).status(), routing::v1::STAGE_STATUS_SKIPPED);
}

TEST_F(ApprovalTrackerTest, ARejectionEndsTheWorkflowAndReleasesItsTask) {
  ASSERT_NO_FATAL_FAILURE(RouteToApproval("req_1"));
  publisher_.Clear();
  ASSERT_TRUE(
      tracker_.Handle(Completed("req_1", approval::v1::CHAIN_STATUS_REJECTED, "evt_no")).ok());

  routing::v1::WorkflowInstance wf = Workflow("req_1");
  EXPECT_EQ(wf.status(), routing::v1::WORKFLOW_STATUS_REJECTED);
  EXPECT_EQ(wf.current_stage_id(), "");
  EXPECT_EQ(wf.stages(2).status(), routing::v1::STAGE_STATUS_SKIPPED);
  EXPECT_EQ(wf.approval().outcome(), approval::v1::CHAIN_STATUS_REJECTED);
  EXPECT_EQ(LoadOf("cleo"), 0);
  auto completed =
      Decoded<routing::v1::WorkflowCompleted>(publisher_.OfType(events::kWorkflowCompleted));
  ASSERT_EQ(completed.size(), 1u);
  EXPECT_EQ(completed[0].outcome(), routing::v1::WORKFLOW_STATUS_REJECTED);
  auto timers = Decoded<scheduler::v1::TimerRequested>(publisher_.OfType(events::kTimerRequested));
  ASSERT_EQ(timers.size(), 1u);
  EXPECT_EQ(timers[0].action(), scheduler::v1::TIMER_ACTION_CANCEL);
  EXPECT_EQ(timers[0].timer_id(), "req_1/stage/approval");

  // A later approval event for the ended workflow changes nothing.
  const size_t published = publisher_.size();
  ASSERT_TRUE(tracker_.Handle(ChangesRequested("req_1", "evt_late")).ok());
  EXPECT_EQ(publisher_.size(), published);
}

TEST_F(ApprovalTrackerTest, ChangesRequestedSendTheWorkBackToItsCreator) {
  ASSERT_TRUE(router_.Handle(Submitted("req_1", "Spring launch")).ok());
  ASSERT_EQ(Workflow("req_1").owner_id(), "ana");
  ASSERT_TRUE(Advance("req_1", "creation").ok());  // review: cleo
  // ana takes other work, so least-loaded assignment would now pick ben.
  ASSERT_TRUE(router_.Handle(Submitted("req_2", "Other work")).ok());
  ASSERT_EQ(Workflow("req_2").owner_id(), "ana");
  ASSERT_TRUE(Advance("req_1", "review").ok());
  publisher_.Clear();

  ASSERT_TRUE(tracker_.Handle(ChangesRequested("req_1", "evt_changes")).ok());

  routing::v1::WorkflowInstance wf = Workflow("req_1");
  EXPECT_EQ(wf.current_stage_id(), "creation");
  EXPECT_EQ(wf.stages(0).status(), routing::v1::STAGE_STATUS_ACTIVE);
  EXPECT_EQ(wf.stages(0).assignee_id(), "ana");
  EXPECT_EQ(wf.stages(1).status(), routing::v1::STAGE_STATUS_PENDING);
  EXPECT_EQ(wf.stages(2).status(), routing::v1::STAGE_STATUS_PENDING);
  EXPECT_FALSE(wf.has_approval());
  EXPECT_EQ(LoadOf("cleo"), 0);
  EXPECT_EQ(LoadOf("ana"), 2);

  auto advanced = Decoded<routing::v1::StageAdvanced>(publisher_.OfType(events::kStageAdvanced));
  ASSERT_EQ(advanced.size(), 1u);
  EXPECT_EQ(advanced[0].from_stage_id(), "approval");
  EXPECT_EQ(advanced[0].to_stage_id(), "creation");
  auto assigned = Decoded<routing::v1::TaskAssigned>(publisher_.OfType(events::kTaskAssigned));
  ASSERT_EQ(assigned.size(), 1u);
  EXPECT_EQ(assigned[0].task().assignee_id(), "ana");
  EXPECT_EQ(assigned[0].reason(), routing::v1::ASSIGNMENT_REASON_CHANGES_REQUESTED);
  auto timers = Decoded<scheduler::v1::TimerRequested>(publisher_.OfType(events::kTimerRequested));
  ASSERT_EQ(timers.size(), 2u);
  EXPECT_EQ(timers[0].timer_id(), "req_1/stage/approval");
  EXPECT_EQ(timers[0].action(), scheduler::v1::TIMER_ACTION_CANCEL);
  EXPECT_EQ(timers[1].timer_id(), "req_1/stage/creation");
  EXPECT_EQ(timers[1].action(), scheduler::v1::TIMER_ACTION_START);

  // Redelivered: nothing moves again.
  const size_t published = publisher_.size();
  ASSERT_TRUE(tracker_.Handle(ChangesRequested("req_1", "evt_changes")).ok());
  EXPECT_EQ(publisher_.size(), published);
  EXPECT_EQ(Workflow("req_1").revision(), wf.revision());
  // And the approval stage now waits for the new chain's outcome again.
  ASSERT_TRUE(Advance("req_1", "creation").ok());
  ASSERT_TRUE(Advance("req_1", "review").ok());
  EXPECT_EQ(Advance("req_1", "approval").status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(ApprovalTrackerTest, ChangesRequestedDuringCreationChangeNothing) {
  ASSERT_TRUE(router_.Handle(Submitted("req_1", "Spring launch")).ok());
  const routing::v1::WorkflowInstance before = Workflow("req_1");
  publisher_.Clear();
  ASSERT_TRUE(tracker_.Handle(ChangesRequested("req_1", "evt_changes")).ok());
  EXPECT_EQ(Workflow("req_1").revision(), before.revision());
  EXPECT_EQ(publisher_.size(), 0u);
}

TEST_F(ApprovalTrackerTest, CancelledChainsAndOtherTypesAreAcknowledgedUntouched) {
  ASSERT_NO_FATAL_FAILURE(RouteToApproval("req_1"));
  const routing::v1::WorkflowInstance before = Workflow("req_1");
  publisher_.Clear();
  ASSERT_TRUE(
      tracker_.Handle(Completed("req_1", approval::v1::CHAIN_STATUS_CANCELLED, "evt_c")).ok());
  kafka::ConsumedEvent started;
  started.event.id = "evt_started";
  started.event.type = events::kApprovalStepStarted;
  started.event.data = "not read";
  ASSERT_TRUE(tracker_.Handle(started).ok());
  EXPECT_EQ(Workflow("req_1").revision(), before.revision());
  EXPECT_EQ(publisher_.size(), 0u);
}

TEST_F(ApprovalTrackerTest, AnEventForAnUnroutedRequestIsDeadLetteredWithTheReason) {
  absl::Status st =
      tracker_.Handle(Completed("req_never", approval::v1::CHAIN_STATUS_APPROVED, "evt_x"));
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(st.message()), HasSubstr("routing has no workflow for"));
  kafka::ConsumedEvent garbage = ChangesRequested("req_1", "evt_g");
  garbage.event.data = "\xff\xff";
  EXPECT_EQ(tracker_.Handle(garbage).code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace flywheel::routing
