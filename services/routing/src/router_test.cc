#include "router.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fake_workflow_store.h"
#include "flywheel/core/field_errors.h"
#include "flywheel/events/catalog.h"
#include "flywheel/routing/v1/events.pb.h"
#include "policy_parser.h"
#include "workflow_ops.h"

namespace flywheel::routing {
namespace {

using ::testing::HasSubstr;

constexpr char kPolicy[] = R"yaml(
templates:
  t:
    stages:
      - {stage: creation, owner_role: creator, sla: 2h}
      - stage: scheduling_qa
        owner_role: ops
        exit: [{id: links, utm_tagging: {links_field: asset_links}}]
default_template: t
teams:
  - id: social
    members: [{id: ana, wip_limit: 1}]
  - id: away
    members: [{id: zed, on_leave: true}]
assignment_rules:
  - {id: social-rule, request_types: [social_post], team: social}
  - {id: away-rule, request_types: [memo], team: away}
tiering:
  default_tier: 1
  default_approval_policy: p1
  rules:
    - {id: health, keywords: [health], tier: 3, approval_policy: p3}
)yaml";

class RecordingPublisher final : public kafka::EventPublisher {
 public:
  absl::StatusOr<std::string> Publish(const kafka::OutgoingEvent& event) override {
    if (!fail_with.ok()) return fail_with;
    events.push_back(event);
    return event.id;
  }
  std::vector<kafka::OutgoingEvent> OfType(const std::string& type) const {
    std::vector<kafka::OutgoingEvent> out;
    for (const auto& e : events) {
      if (e.type == type) out.push_back(e);
    }
    return out;
  }
  std::vector<kafka::OutgoingEvent> events;
  absl::Status fail_with;
};

kafka::ConsumedEvent Submitted(const std::string& request_id, const std::string& type,
                               const std::string& title = "Launch post") {
  intake::v1::RequestSubmitted payload;
  payload.set_tenant_id("acme");
  payload.set_request_id(request_id);
  payload.mutable_request()->mutable_spec()->set_request_type_id(type);
  payload.mutable_request()->mutable_spec()->set_title(title);
  payload.mutable_request()->set_priority(common::v1::PRIORITY_P2);
  kafka::ConsumedEvent consumed;
  consumed.event.id = "evt_" + request_id;
  consumed.event.type = events::kRequestSubmitted;
  consumed.event.data = payload.SerializeAsString();
  return consumed;
}

class RouterTest : public ::testing::Test {
 protected:
  static std::shared_ptr<const Policy> TestPolicy() {
    auto p = ParsePolicy(kPolicy);
    EXPECT_TRUE(p.ok()) << p.status();
    return std::make_shared<const Policy>(*std::move(p));
  }

  StoredWorkflow Stored(const std::string& id) {
    auto found = store_.Find("acme", id);
    EXPECT_TRUE(found.ok() && found->has_value()) << id;
    return found.ok() && found->has_value() ? **found : StoredWorkflow{};
  }

  FakeClock clock_;
  metrics::Metrics metrics_;
  RoutingMetrics routing_metrics_{metrics_};
  FakeWorkflowStore store_;
  RecordingPublisher publisher_;
  PolicyHolder policy_{TestPolicy()};
  Assigner assigner_{store_, publisher_, routing_metrics_, {"wf", "timers", "capacity"}};
  Router router_{policy_, assigner_, clock_};
  WorkflowOps ops_{policy_, assigner_, clock_};
};

TEST_F(RouterTest, RequestIsRoutedToTeamOwnerAndTier) {
  ASSERT_TRUE(router_.Handle(Submitted("req_1", "social_post", "Health week post")).ok());
  StoredWorkflow wf = Stored("req_1");
  EXPECT_EQ(wf.workflow.team_id(), "social");
  EXPECT_EQ(wf.workflow.owner_id(), "ana");
  EXPECT_EQ(wf.workflow.stages(0).assignee_id(), "ana");
  EXPECT_EQ(wf.workflow.approval_tier(), common::v1::APPROVAL_TIER_EXECUTIVE);

  auto routed_events = publisher_.OfType(events::kRequestRouted);
  ASSERT_EQ(routed_events.size(), 1u);
  EXPECT_EQ(routed_events[0].topic, "wf");
  EXPECT_EQ(routed_events[0].key, "req_1");
  routing::v1::RequestRouted routed;
  ASSERT_TRUE(routed.ParseFromString(routed_events[0].data));
  EXPECT_EQ(routed.team_id(), "social");
  EXPECT_EQ(routed.owner_id(), "ana");
  EXPECT_EQ(routed.approval_policy_id(), "p3");
  EXPECT_EQ(routed.assignment_rule().rule_id(), "social-rule");
  EXPECT_EQ(routed.tiering_rule().rule_id(), "health");
  EXPECT_EQ(routed.approval_steps_size(), 3);

  auto assigned = publisher_.OfType(events::kTaskAssigned);
  ASSERT_EQ(assigned.size(), 1u);
  routing::v1::TaskAssigned task;
  ASSERT_TRUE(task.ParseFromString(assigned[0].data));
  EXPECT_EQ(task.task().assignee_id(), "ana");
  EXPECT_EQ(task.task().stage_id(), "creation");

  auto timers = publisher_.OfType(events::kTimerRequested);
  ASSERT_EQ(timers.size(), 1u);
  EXPECT_EQ(timers[0].topic, "timers");
  routing::v1::TimerRequested timer;
  ASSERT_TRUE(timer.ParseFromString(timers[0].data));
  EXPECT_EQ(timer.action(), routing::v1::TIMER_ACTION_START);
  EXPECT_EQ(timer.duration().seconds(), 7200);
  EXPECT_EQ(timer.timer_id(), "req_1/stage/creation");
}

TEST_F(RouterTest, WipLimitQueuesTheSecondRequestWithReason) {
  ASSERT_TRUE(router_.Handle(Submitted("req_1", "social_post")).ok());
  ASSERT_TRUE(router_.Handle(Submitted("req_2", "social_post")).ok());
  StoredWorkflow second = Stored("req_2");
  EXPECT_EQ(second.workflow.owner_id(), "");
  EXPECT_EQ(second.queue_reason, "all members at WIP limit");
  EXPECT_EQ((*store_.Loads("acme", "social"))["ana"], 1);
  EXPECT_THAT(metrics_.Render(), HasSubstr(R"(flywheel_routing_queued_requests{team="social"} 1)"));
  auto queue = ops_.ListQueue([] {
    routing::v1::ListQueueRequest r;
    r.set_tenant_id("acme");
    r.set_team_id("social");
    r.set_unassigned_only(true);
    return r;
  }());
  ASSERT_TRUE(queue.ok()) << queue.status();
  ASSERT_EQ(queue->tasks_size(), 1);
  EXPECT_EQ(queue->tasks(0).request_id(), "req_2");
  EXPECT_EQ(queue->tasks(0).queue_reason(), "all members at WIP limit");
}

TEST_F(RouterTest, ListQueueRefusesUndefinedStagesAndSlaStates) {
  routing::v1::ListQueueRequest r;
  r.set_tenant_id("acme");
  r.set_team_id("social");
  r.add_stages(common::v1::STAGE_CREATION);
  r.add_stages(static_cast<common::v1::Stage>(99));
  r.add_sla_states(static_cast<common::v1::SlaState>(42));
  auto queue = ops_.ListQueue(r);
  EXPECT_EQ(queue.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(
      FieldViolationsOf(queue.status()),
      ::testing::ElementsAre(
          FieldViolation{"stages[1]", "99 is not a defined flywheel.common.v1.Stage"},
          FieldViolation{"sla_states[0]", "42 is not a defined flywheel.common.v1.SlaState"}));
}

// A newer intake may send values this build does not define: they are read
// as unspecified, never ranked by their number.
TEST_F(RouterTest, UndefinedEnumValuesFromIntakeAreReadAsUnspecified) {
  intake::v1::RequestSubmitted payload;
  ASSERT_TRUE(payload.ParseFromString(Submitted("req_1", "social_post").event.data));
  payload.mutable_request()->set_priority(static_cast<common::v1::Priority>(9));
  payload.mutable_request()->mutable_spec()->add_channels(common::v1::CHANNEL_EMAIL);
  payload.mutable_request()->mutable_spec()->add_channels(static_cast<common::v1::Channel>(42));
  ASSERT_TRUE(router_.Route(payload, "evt_req_1").ok());

  StoredWorkflow wf = Stored("req_1");
  EXPECT_EQ(wf.workflow.priority(), common::v1::PRIORITY_UNSPECIFIED);
  EXPECT_EQ(wf.request.priority(), common::v1::PRIORITY_UNSPECIFIED);
  EXPECT_THAT(wf.request.spec().channels(), ::testing::ElementsAre(common::v1::CHANNEL_EMAIL));
  auto assigned = publisher_.OfType(events::kTaskAssigned);
  ASSERT_EQ(assigned.size(), 1u);
  routing::v1::TaskAssigned task;
  ASSERT_TRUE(task.ParseFromString(assigned[0].data));
  EXPECT_EQ(task.task().priority(), common::v1::PRIORITY_UNSPECIFIED);
  EXPECT_THAT(
      metrics_.Render(),
      HasSubstr(R"(flywheel_routing_routed_requests_total{priority="PRIORITY_UNSPECIFIED"} 1)"));
}

TEST_F(RouterTest, RedeliveryDoesNotAssignOrCountTwice) {
  ASSERT_TRUE(router_.Handle(Submitted("req_1", "social_post")).ok());
  ASSERT_TRUE(router_.Handle(Submitted("req_1", "social_post")).ok());
  EXPECT_EQ((*store_.Loads("acme", "social"))["ana"], 1);
  EXPECT_THAT(metrics_.Render(),
              HasSubstr(R"(flywheel_routing_routed_requests_total{priority="PRIORITY_P2"} 1)"));
  // Re-published with the same ids, so downstream deduplicates.
  auto routed = publisher_.OfType(events::kRequestRouted);
  ASSERT_EQ(routed.size(), 2u);
  EXPECT_EQ(routed[0].id, routed[1].id);
}

TEST_F(RouterTest, NoEligibleOwnerReasons) {
  ASSERT_TRUE(router_.Handle(Submitted("req_m", "memo")).ok());
  EXPECT_EQ(Stored("req_m").queue_reason, "everyone on leave");
  ASSERT_TRUE(router_.Handle(Submitted("req_x", "unknown_type")).ok());
  EXPECT_EQ(Stored("req_x").queue_reason, "no team matches");
  EXPECT_EQ(Stored("req_x").workflow.team_id(), "");
}

TEST_F(RouterTest, AdvanceRefusalNamesTheMissingCriterion) {
  ASSERT_TRUE(router_.Handle(Submitted("req_1", "social_post")).ok());
  routing::v1::AdvanceStageRequest advance;
  advance.set_tenant_id("acme");
  advance.set_request_id("req_1");
  advance.set_expected_stage_id("creation");
  ASSERT_TRUE(ops_.AdvanceStage(advance).ok());
  advance.set_expected_stage_id("scheduling_qa");
  (*advance.mutable_fields())["asset_links"] = "https://x.test/?utm_source=a&utm_medium=b";
  absl::StatusOr<routing::v1::WorkflowInstance> refused = ops_.AdvanceStage(advance);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(refused.status().message(),
            "exit criterion of scheduling_qa: link https://x.test/?utm_source=a&utm_medium=b "
            "lacks utm_campaign");
  EXPECT_EQ(Stored("req_1").workflow.current_stage_id(), "scheduling_qa");
}

TEST_F(RouterTest, FinishingWorkAssignsTheQueuedRequest) {
  ASSERT_TRUE(router_.Handle(Submitted("req_1", "social_post")).ok());
  ASSERT_TRUE(router_.Handle(Submitted("req_2", "social_post")).ok());
  routing::v1::AdvanceStageRequest advance;
  advance.set_tenant_id("acme");
  advance.set_request_id("req_1");
  ASSERT_TRUE(ops_.AdvanceStage(advance).ok());
  // Work in progress keeps the slot: req_1 moves on, req_2 still waits.
  EXPECT_EQ(Stored("req_1").workflow.stages(1).assignee_id(), "ana");
  EXPECT_EQ(Stored("req_2").workflow.owner_id(), "");
  (*advance.mutable_fields())["asset_links"] =
      "https://x.test/?utm_source=a&utm_medium=b&utm_campaign=c";
  auto done = ops_.AdvanceStage(advance);
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(done->status(), routing::v1::WORKFLOW_STATUS_COMPLETED);
  EXPECT_EQ(Stored("req_2").workflow.owner_id(), "ana");
  EXPECT_EQ(publisher_.OfType(events::kWorkflowCompleted).size(), 1u);
  EXPECT_THAT(metrics_.Render(), HasSubstr(R"(flywheel_routing_queued_requests{team="social"} 0)"));
}

TEST_F(RouterTest, JoiningMemberTakesQueuedWork) {
  ASSERT_TRUE(router_.Handle(Submitted("req_1", "social_post")).ok());
  ASSERT_TRUE(router_.Handle(Submitted("req_2", "social_post")).ok());
  routing::v1::JoinTeamRequest join;
  join.set_tenant_id("acme");
  join.set_team_id("social");
  join.mutable_member()->set_user_id("bob");
  join.mutable_member()->set_available(true);
  auto team = ops_.JoinTeam(join);
  ASSERT_TRUE(team.ok()) << team.status();
  EXPECT_EQ(Stored("req_2").workflow.owner_id(), "bob");
  EXPECT_EQ(publisher_.OfType(events::kCapacityChanged).size(), 1u);
  EXPECT_EQ(publisher_.OfType(events::kTaskAssigned).size(), 3u);
  EXPECT_EQ(ops_.JoinTeam(join).status().code(), absl::StatusCode::kAlreadyExists);
}

TEST_F(RouterTest, ReturningFromLeaveTakesQueuedWork) {
  ASSERT_TRUE(router_.Handle(Submitted("req_m", "memo")).ok());
  routing::v1::UpdateMemberRequest update;
  update.set_tenant_id("acme");
  update.set_team_id("away");
  update.mutable_member()->set_user_id("zed");
  update.mutable_member()->set_available(true);
  update.mutable_update_mask()->add_paths("available");
  ASSERT_TRUE(ops_.UpdateMember(update).ok());
  EXPECT_EQ(Stored("req_m").workflow.owner_id(), "zed");
}

TEST_F(RouterTest, BadPayloadsAreInvalidAndOutagesRetryable) {
  kafka::ConsumedEvent garbage = Submitted("req_3", "social_post");
  garbage.event.data = "\xff\xff\xff";
  EXPECT_EQ(router_.Handle(garbage).code(), absl::StatusCode::kInvalidArgument);
  kafka::ConsumedEvent empty = Submitted("x", "social_post");
  empty.event.data = intake::v1::RequestSubmitted().SerializeAsString();
  EXPECT_EQ(router_.Handle(empty).code(), absl::StatusCode::kInvalidArgument);
  kafka::ConsumedEvent other = Submitted("req_4", "social_post");
  other.event.type = "dev.flywheel.request.cancelled.v1";
  EXPECT_TRUE(router_.Handle(other).ok());
  store_.fail_with = absl::UnavailableError("redis down");
  EXPECT_EQ(router_.Handle(Submitted("req_5", "social_post")).code(),
            absl::StatusCode::kUnavailable);
  EXPECT_TRUE(publisher_.events.empty());
}

}  // namespace
}  // namespace flywheel::routing
