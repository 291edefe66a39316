#include "router.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>

#include "flywheel/core/field_errors.h"
#include "flywheel/events/catalog.h"
#include "flywheel/routing/v1/events.pb.h"
#include "flywheel/scheduler/v1/events.pb.h"
#include "policy_parser.h"
#include "routing_fixture.h"
#include "workflow_ops.h"

namespace flywheel::routing {
namespace {

// Marketing ops' tooling: may advance any stage, for any actor.
const auth::Principal kOps{.tenant = "acme",
                           .user_id = "ops-console",
                           .roles = {auth::Role::kOpsAdmin, auth::Role::kService}};

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

kafka::ConsumedEvent Cancelled(const std::string& request_id) {
  intake::v1::RequestCancelled payload;
  payload.set_tenant_id("acme");
  payload.set_request_id(request_id);
  payload.set_reason("no longer needed");
  kafka::ConsumedEvent consumed;
  consumed.event.id = "evt_cancel_" + request_id;
  consumed.event.type = events::kRequestCancelled;
  consumed.event.data = payload.SerializeAsString();
  return consumed;
}

// request.updated as intake sends it: the whole request after the change.
kafka::ConsumedEvent Updated(const std::string& request_id, int64_t revision,
                             const std::string& title, common::v1::Priority priority,
                             std::vector<std::string> changed = {"title"}) {
  intake::v1::RequestUpdated payload;
  payload.set_tenant_id("acme");
  payload.set_request_id(request_id);
  auto* request = payload.mutable_request();
  request->set_tenant_id("acme");
  request->set_request_id(request_id);
  request->set_revision(revision);
  request->set_priority(priority);
  request->mutable_spec()->set_request_type_id("social_post");
  request->mutable_spec()->set_title(title);
  request->mutable_spec()->mutable_due_time()->set_seconds(1'800'000'000);
  for (const std::string& path : changed) payload.mutable_changed_paths()->add_paths(path);
  kafka::ConsumedEvent consumed;
  consumed.event.id = "evt_update_" + request_id + "_" + std::to_string(revision);
  consumed.event.type = events::kRequestUpdated;
  consumed.event.data = payload.SerializeAsString();
  return consumed;
}

// AdvanceStage of acme's `request_id`, from `expected_stage` when given.
routing::v1::AdvanceStageRequest AdvanceOf(const std::string& request_id,
                                           const std::string& expected_stage = "") {
  routing::v1::AdvanceStageRequest advance;
  advance.set_tenant_id("acme");
  advance.set_request_id(request_id);
  advance.set_expected_stage_id(expected_stage);
  return advance;
}

template <typename Payload>
Payload Decoded(const kafka::OutgoingEvent& event) {
  Payload p;
  EXPECT_TRUE(p.ParseFromString(event.data)) << event.type;
  return p;
}

class RouterTest : public testing::RoutingFixture {
 protected:
  RouterTest() : RoutingFixture(kPolicy) {}

  routing::v1::ListQueueResponse Queue(const std::string& team, bool unassigned_only = false,
                                       int page_size = 0, const std::string& token = "") {
    routing::v1::ListQueueRequest r;
    r.set_tenant_id("acme");
    r.set_team_id(team);
    r.set_unassigned_only(unassigned_only);
    r.set_page_size(page_size);
    r.set_page_token(token);
    auto page = ops_.ListQueue(r);
    EXPECT_TRUE(page.ok()) << page.status();
    return page.ok() ? *page : routing::v1::ListQueueResponse{};
  }
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
  scheduler::v1::TimerRequested timer;
  ASSERT_TRUE(timer.ParseFromString(timers[0].data));
  EXPECT_EQ(timer.action(), scheduler::v1::TIMER_ACTION_START);
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
  routing::v1::AdvanceStageRequest advance = AdvanceOf("req_1", "creation");
  ASSERT_TRUE(ops_.AdvanceStage(kOps, advance).ok());
  advance.set_expected_stage_id("scheduling_qa");
  (*advance.mutable_fields())["asset_links"] = "https://x.test/?utm_source=a&utm_medium=b";
  absl::StatusOr<routing::v1::WorkflowInstance> refused = ops_.AdvanceStage(kOps, advance);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(refused.status().message(),
            "exit criterion of scheduling_qa: link https://x.test/?utm_source=a&utm_medium=b "
            "lacks utm_campaign");
  EXPECT_EQ(Stored("req_1").workflow.current_stage_id(), "scheduling_qa");
}

TEST_F(RouterTest, OnlyTheAssigneeOrTheOwnerOrOpsAdvanceAStage) {
  ASSERT_TRUE(router_.Handle(Submitted("req_1", "social_post")).ok());
  routing::v1::AdvanceStageRequest advance = AdvanceOf("req_1");
  const auth::Principal li{.tenant = "acme", .user_id = "li", .roles = {auth::Role::kCreator}};
  auto refused = ops_.AdvanceStage(li, advance);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kPermissionDenied) << refused.status();
  // Nor may li claim to be ana.
  advance.set_actor_id("ana");
  EXPECT_EQ(ops_.AdvanceStage(li, advance).status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Stored("req_1").workflow.current_stage_id(), "creation");
  // A service may act for ana, who is the assignee.
  const auth::Principal cms{.tenant = "acme", .user_id = "cms", .roles = {auth::Role::kService}};
  auto moved = ops_.AdvanceStage(cms, advance);
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_EQ(moved->current_stage_id(), "scheduling_qa");
  // And ana herself, without naming anyone.
  advance.clear_actor_id();
  advance.set_expected_stage_id("scheduling_qa");
  (*advance.mutable_fields())["asset_links"] =
      "https://x.test/?utm_source=a&utm_medium=b&utm_campaign=c";
  const auth::Principal ana{.tenant = "acme", .user_id = "ana", .roles = {auth::Role::kCreator}};
  EXPECT_TRUE(ops_.AdvanceStage(ana, advance).ok());
}

TEST_F(RouterTest, FinishingWorkAssignsTheQueuedRequest) {
  ASSERT_TRUE(router_.Handle(Submitted("req_1", "social_post")).ok());
  ASSERT_TRUE(router_.Handle(Submitted("req_2", "social_post")).ok());
  routing::v1::AdvanceStageRequest advance = AdvanceOf("req_1");
  ASSERT_TRUE(ops_.AdvanceStage(kOps, advance).ok());
  // Work in progress keeps the slot: req_1 moves on, req_2 still waits.
  EXPECT_EQ(Stored("req_1").workflow.stages(1).assignee_id(), "ana");
  EXPECT_EQ(Stored("req_2").workflow.owner_id(), "");
  (*advance.mutable_fields())["asset_links"] =
      "https://x.test/?utm_source=a&utm_medium=b&utm_campaign=c";
  auto done = ops_.AdvanceStage(kOps, advance);
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(done->status(), routing::v1::WORKFLOW_STATUS_COMPLETED);
  EXPECT_EQ(Stored("req_2").workflow.owner_id(), "ana");
  EXPECT_EQ(publisher_.OfType(events::kWorkflowCompleted).size(), 1u);
  EXPECT_THAT(metrics_.Render(), HasSubstr(R"(flywheel_routing_queued_requests{team="social"} 0)"));
}

TEST_F(RouterTest, ARetriedAdvanceGetsTheFirstAnswerAndChangesNothing) {
  ASSERT_TRUE(router_.Handle(Submitted("req_1", "social_post")).ok());
  routing::v1::AdvanceStageRequest advance = AdvanceOf("req_1", "creation");
  advance.set_actor_id("ana");
  auto first = ops_.AdvanceStage(kOps, advance);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->current_stage_id(), "scheduling_qa");
  publisher_.Clear();
  clock_.Advance(absl::Minutes(1));

  auto retried = ops_.AdvanceStage(kOps, advance);
  ASSERT_TRUE(retried.ok()) << retried.status();
  EXPECT_EQ(retried->SerializeAsString(), first->SerializeAsString());
  EXPECT_EQ(Stored("req_1").workflow.revision(), first->revision());
  EXPECT_EQ(publisher_.size(), 0u) << "a retry publishes nothing new";
  EXPECT_THAT(metrics_.Render(),
              HasSubstr(R"(flywheel_routing_stage_advances_total{result="replayed"} 1)"));

  // The same stage with anything else different is a new request: stale.
  advance.set_note("clicked again");
  EXPECT_EQ(ops_.AdvanceStage(kOps, advance).status().code(), absl::StatusCode::kAborted);
}

TEST_F(RouterTest, AnAdvanceWhileTheBrokerIsDownSucceedsAndItsEventsGoOutFirstLater) {
  ASSERT_TRUE(router_.Handle(Submitted("req_1", "social_post")).ok());
  publisher_.Clear();
  publisher_.FailWith(absl::UnavailableError("broker down"));
  routing::v1::AdvanceStageRequest advance = AdvanceOf("req_1");
  auto moved = ops_.AdvanceStage(kOps, advance);
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_EQ(moved->current_stage_id(), "scheduling_qa");
  const std::vector<kafka::OutgoingEvent> waiting = outbox_.Stored("acme");
  ASSERT_EQ(waiting.size(), 3u);  // stage.advanced, the timer's CANCEL, task.assigned
  EXPECT_EQ(waiting[0].type, events::kStageAdvanced);

  // The broker is back; the next advance of the request sends the waiting
  // events before its own, so they keep their order on the topic.
  publisher_.FailWith(absl::OkStatus());
  (*advance.mutable_fields())["asset_links"] =
      "https://x.test/?utm_source=a&utm_medium=b&utm_campaign=c";
  auto done = ops_.AdvanceStage(kOps, advance);
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(done->status(), routing::v1::WORKFLOW_STATUS_COMPLETED);
  std::vector<std::string> types;
  for (const auto& e : publisher_.published()) types.push_back(e.type);
  EXPECT_THAT(types, ::testing::ElementsAre(events::kStageAdvanced, events::kTimerRequested,
                                            events::kTaskAssigned, events::kStageAdvanced,
                                            events::kTimerRequested, events::kWorkflowCompleted));
  EXPECT_TRUE(outbox_.Stored("acme").empty());
}

std::vector<absl::Status> HandleBatch(Router& router, std::vector<kafka::ConsumedEvent> events) {
  std::optional<std::vector<absl::Status>> statuses;
  router.HandleBatch({.topic = "requests", .partition = 0, .events = std::move(events)},
                     [&](std::vector<absl::Status> s) {
                       EXPECT_FALSE(statuses.has_value()) << "completed twice";
                       statuses = std::move(s);
                     });
  EXPECT_TRUE(statuses.has_value()) << "the recording publisher completes at once";
  return statuses.value_or(std::vector<absl::Status>{});
}

TEST_F(RouterTest, ABatchRoutesItsSubmissionsTogetherAndKeepsEachRequestsOrder) {
  kafka::ConsumedEvent garbage = Submitted("req_bad", "social_post");
  garbage.event.data = "not a protobuf";
  const std::vector<absl::Status> statuses =
      HandleBatch(router_, {Submitted("req_1", "social_post"), Submitted("req_2", "social_post"),
                            Cancelled("req_1"), garbage, Submitted("req_3", "social_post")});
  ASSERT_EQ(statuses.size(), 5u);
  EXPECT_TRUE(statuses[0].ok()) << statuses[0];
  EXPECT_TRUE(statuses[1].ok()) << statuses[1];
  EXPECT_TRUE(statuses[2].ok()) << statuses[2];
  EXPECT_EQ(statuses[3].code(), absl::StatusCode::kInvalidArgument) << "dead-lettered alone";
  EXPECT_TRUE(statuses[4].ok()) << statuses[4];

  // req_1 was routed before its cancel came, and the cancel handed ana's
  // slot to req_2, queued behind it.
  EXPECT_EQ(Stored("req_1").workflow.status(), routing::v1::WORKFLOW_STATUS_CANCELLED);
  EXPECT_EQ(Stored("req_2").workflow.owner_id(), "ana");
  EXPECT_EQ(Stored("req_3").workflow.owner_id(), "");
  std::vector<std::string> req_1;
  for (const auto& e : publisher_.published()) {
    if (e.key == "req_1") req_1.push_back(e.type);
  }
  ASSERT_FALSE(req_1.empty());
  EXPECT_EQ(req_1.front(), events::kRequestRouted);
  EXPECT_EQ(req_1.back(), events::kWorkflowCompleted);
}

TEST_F(RouterTest, ABatchWhosePublishFailsIsRetriedAndRepublishesTheSameRouting) {
  publisher_.FailWith(absl::UnavailableError("broker down"));
  std::vector<absl::Status> statuses =
      HandleBatch(router_, {Submitted("req_1", "social_post"), Submitted("req_2", "social_post")});
  ASSERT_EQ(statuses.size(), 2u);
  EXPECT_EQ(statuses[0].code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(statuses[1].code(), absl::StatusCode::kUnavailable);
  const std::string owner = Stored("req_1").workflow.owner_id();

  // The consumer retries them: the stored routing is published as it was.
  publisher_.FailWith(absl::OkStatus());
  statuses =
      HandleBatch(router_, {Submitted("req_1", "social_post"), Submitted("req_2", "social_post")});
  EXPECT_TRUE(statuses[0].ok() && statuses[1].ok());
  EXPECT_EQ(publisher_.OfType(events::kRequestRouted).size(), 2u);
  EXPECT_EQ(Stored("req_1").workflow.owner_id(), owner);
  EXPECT_EQ(LoadOf("social", "ana"), 1) << "routed once";
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
  other.event.type = events::kRequestRejected;
  EXPECT_TRUE(router_.Handle(other).ok());
  for (kafka::ConsumedEvent bad :
       {Cancelled("req_4"), Updated("req_4", 2, "t", common::v1::PRIORITY_P1)}) {
    bad.event.data = "\xff\xff\xff";
    EXPECT_EQ(router_.Handle(bad).code(), absl::StatusCode::kInvalidArgument) << bad.event.type;
    bad.event.data = intake::v1::RequestCancelled().SerializeAsString();
    EXPECT_EQ(router_.Handle(bad).code(), absl::StatusCode::kInvalidArgument) << bad.event.type;
  }
  store_.fail_with = absl::UnavailableError("redis down");
  EXPECT_EQ(router_.Handle(Submitted("req_5", "social_post")).code(),
            absl::StatusCode::kUnavailable);
  EXPECT_TRUE((publisher_.size() == 0));
}

TEST_F(RouterTest, CancelEndsTheWorkflowReleasesTheTaskAndCancelsItsTimer) {
  ASSERT_TRUE(router_.Handle(Submitted("req_1", "social_post")).ok());
  ASSERT_TRUE(router_.Handle(Submitted("req_2", "social_post")).ok());
  ASSERT_EQ(Stored("req_2").workflow.owner_id(), "");
  publisher_.Clear();

  ASSERT_TRUE(router_.Handle(Cancelled("req_1")).ok());
  const StoredWorkflow cancelled = Stored("req_1");
  EXPECT_EQ(cancelled.workflow.status(), routing::v1::WORKFLOW_STATUS_CANCELLED);
  EXPECT_EQ(cancelled.workflow.current_stage_id(), "");
  EXPECT_EQ(cancelled.workflow.stages(0).status(), routing::v1::STAGE_STATUS_SKIPPED);
  EXPECT_TRUE(cancelled.workflow.stages(0).has_exit_time());
  EXPECT_EQ(cancelled.workflow.stages(1).status(), routing::v1::STAGE_STATUS_PENDING);

  auto timers = publisher_.OfType(events::kTimerRequested);
  ASSERT_EQ(timers.size(), 1u);
  EXPECT_EQ(timers[0].id, "req_1/cancelled/timer-cancel");
  const auto timer = Decoded<scheduler::v1::TimerRequested>(timers[0]);
  EXPECT_EQ(timer.action(), scheduler::v1::TIMER_ACTION_CANCEL);
  EXPECT_EQ(timer.timer_id(), "req_1/stage/creation");
  auto completed = publisher_.OfType(events::kWorkflowCompleted);
  ASSERT_EQ(completed.size(), 1u);
  EXPECT_EQ(Decoded<routing::v1::WorkflowCompleted>(completed[0]).outcome(),
            routing::v1::WORKFLOW_STATUS_CANCELLED);

  // ana's slot went to the request that waited for her.
  EXPECT_EQ(Stored("req_2").workflow.owner_id(), "ana");
  EXPECT_EQ(LoadOf("social", "ana"), 1);
  auto assigned = publisher_.OfType(events::kTaskAssigned);
  ASSERT_EQ(assigned.size(), 1u);
  EXPECT_EQ(Decoded<routing::v1::TaskAssigned>(assigned[0]).request_id(), "req_2");
  EXPECT_EQ(Queue("social").total_size(), 1);
  EXPECT_THAT(metrics_.Render(), HasSubstr(R"(flywheel_routing_queued_requests{team="social"} 0)"));
}

TEST_F(RouterTest, SecondCancelChangesNothingAndRepublishesTheSameEvents) {
  ASSERT_TRUE(router_.Handle(Submitted("req_1", "social_post")).ok());
  ASSERT_TRUE(router_.Handle(Cancelled("req_1")).ok());
  const StoredWorkflow once = Stored("req_1");
  std::vector<kafka::OutgoingEvent> first = publisher_.published();
  publisher_.Clear();
  clock_.Advance(absl::Minutes(5));

  kafka::ConsumedEvent again = Cancelled("req_1");
  again.event.id = "evt_other_cancel";  // a redelivery or a second cancel: the same result
  ASSERT_TRUE(router_.Handle(again).ok());
  EXPECT_EQ(Stored("req_1").workflow.SerializeAsString(), once.workflow.SerializeAsString());
  EXPECT_EQ(LoadOf("social", "ana"), 0);
  std::vector<kafka::OutgoingEvent> cancel_events;
  for (const auto& e : first) {
    if (e.id.rfind("req_1/cancelled/", 0) == 0) cancel_events.push_back(e);
  }
  ASSERT_EQ(cancel_events.size(), 2u);  // timer cancel, workflow.completed
  ASSERT_EQ(publisher_.size(), cancel_events.size());
  for (size_t i = 0; i < cancel_events.size(); ++i) {
    EXPECT_EQ(publisher_.published()[i].id, cancel_events[i].id);
    EXPECT_EQ(publisher_.published()[i].data, cancel_events[i].data);
  }
}

TEST_F(RouterTest, CancellingAQueuedRequestTakesItOutOfTheQueue) {
  ASSERT_TRUE(router_.Handle(Submitted("req_1", "social_post")).ok());
  ASSERT_TRUE(router_.Handle(Submitted("req_2", "social_post")).ok());
  ASSERT_TRUE(router_.Handle(Cancelled("req_2")).ok());
  EXPECT_EQ(*store_.QueueSize("acme", "social"), 0u);
  EXPECT_EQ(LoadOf("social", "ana"), 1);
  EXPECT_EQ(Stored("req_1").workflow.owner_id(), "ana");
  EXPECT_EQ(Stored("req_2").workflow.status(), routing::v1::WORKFLOW_STATUS_CANCELLED);
}

TEST_F(RouterTest, CancelBeforeRoutingIsRememberedAndTheLateSubmitIsNotRouted) {
  ASSERT_TRUE(router_.Handle(Cancelled("req_9")).ok());
  EXPECT_TRUE((publisher_.size() == 0));
  ASSERT_TRUE(router_.Handle(Submitted("req_9", "social_post")).ok());
  EXPECT_FALSE(store_.Find("acme", "req_9")->has_value());
  EXPECT_TRUE((publisher_.size() == 0));
  EXPECT_EQ(LoadOf("social", "ana"), 0);
}

TEST_F(RouterTest, CancelOfACompletedWorkflowChangesNothing) {
  ASSERT_TRUE(router_.Handle(Submitted("req_1", "social_post")).ok());
  routing::v1::AdvanceStageRequest advance = AdvanceOf("req_1");
  ASSERT_TRUE(ops_.AdvanceStage(kOps, advance).ok());
  (*advance.mutable_fields())["asset_links"] =
      "https://x.test/?utm_source=a&utm_medium=b&utm_campaign=c";
  ASSERT_TRUE(ops_.AdvanceStage(kOps, advance).ok());
  const StoredWorkflow done = Stored("req_1");
  publisher_.Clear();
  ASSERT_TRUE(router_.Handle(Cancelled("req_1")).ok());
  EXPECT_EQ(Stored("req_1").workflow.SerializeAsString(), done.workflow.SerializeAsString());
  EXPECT_TRUE((publisher_.size() == 0));
}

TEST_F(RouterTest, UpdateRefreshesTheTaskAndReranksTheQueueWithoutRerouting) {
  ASSERT_TRUE(router_.Handle(Submitted("req_1", "social_post")).ok());
  ASSERT_TRUE(router_.Handle(Submitted("req_2", "social_post")).ok());
  clock_.Advance(absl::Seconds(1));
  ASSERT_TRUE(router_.Handle(Submitted("req_3", "social_post")).ok());
  auto before = Queue("social", /*unassigned_only=*/true);
  ASSERT_EQ(before.tasks_size(), 2);
  EXPECT_EQ(before.tasks(0).request_id(), "req_2");
  publisher_.Clear();

  // req_3 becomes urgent and mentions health: it moves to the front of the
  // queue, but keeps its team, owner and tier.
  ASSERT_TRUE(router_
                  .Handle(Updated("req_3", 2, "Health: urgent fix", common::v1::PRIORITY_P1,
                                  {"title", "due_time"}))
                  .ok());
  auto after = Queue("social", /*unassigned_only=*/true);
  ASSERT_EQ(after.tasks_size(), 2);
  EXPECT_EQ(after.tasks(0).request_id(), "req_3");
  EXPECT_EQ(after.tasks(0).title(), "Health: urgent fix");
  EXPECT_EQ(after.tasks(0).priority(), common::v1::PRIORITY_P1);
  const StoredWorkflow wf = Stored("req_3");
  EXPECT_EQ(wf.workflow.team_id(), "social");
  EXPECT_EQ(wf.workflow.owner_id(), "");
  EXPECT_EQ(wf.workflow.approval_tier(), common::v1::APPROVAL_TIER_SINGLE_REVIEWER);
  EXPECT_EQ(wf.request.spec().due_time().seconds(), 1'800'000'000);
  EXPECT_EQ(wf.request.revision(), 2);
  EXPECT_TRUE((publisher_.size() == 0)) << "an update publishes nothing";

  // A redelivered (or older) update changes nothing.
  const int64_t revision = wf.workflow.revision();
  ASSERT_TRUE(router_.Handle(Updated("req_3", 2, "Stale title", common::v1::PRIORITY_P4)).ok());
  EXPECT_EQ(Stored("req_3").workflow.revision(), revision);
  EXPECT_EQ(Stored("req_3").request.spec().title(), "Health: urgent fix");
}

TEST_F(RouterTest, UpdateKeepsFieldsSuppliedWithAdvanceStage) {
  ASSERT_TRUE(router_.Handle(Submitted("req_1", "social_post")).ok());
  routing::v1::AdvanceStageRequest advance = AdvanceOf("req_1");
  (*advance.mutable_fields())["asset_links"] = "https://x.test/a";
  ASSERT_TRUE(ops_.AdvanceStage(kOps, advance).ok());
  ASSERT_TRUE(router_.Handle(Updated("req_1", 2, "New title", common::v1::PRIORITY_P2)).ok());
  const StoredWorkflow wf = Stored("req_1");
  EXPECT_EQ(wf.request.spec().title(), "New title");
  EXPECT_EQ(wf.request.spec().fields().at("asset_links"), "https://x.test/a");
  EXPECT_EQ(wf.workflow.current_stage_id(), "scheduling_qa");
  EXPECT_EQ(ActiveTask(wf).title(), "New title");
  // Unless the update names them.
  ASSERT_TRUE(
      router_
          .Handle(Updated("req_1", 3, "New title", common::v1::PRIORITY_P2, {"fields.asset_links"}))
          .ok());
  EXPECT_FALSE(Stored("req_1").request.spec().fields().contains("asset_links"));
}

TEST_F(RouterTest, UpdateOfAnUnknownOrEndedRequestIsSkipped) {
  ASSERT_TRUE(router_.Handle(Updated("req_unknown", 2, "t", common::v1::PRIORITY_P1)).ok());
  EXPECT_FALSE(store_.Find("acme", "req_unknown")->has_value());
  ASSERT_TRUE(router_.Handle(Submitted("req_1", "social_post")).ok());
  ASSERT_TRUE(router_.Handle(Cancelled("req_1")).ok());
  const StoredWorkflow cancelled = Stored("req_1");
  ASSERT_TRUE(router_.Handle(Updated("req_1", 3, "t", common::v1::PRIORITY_P1)).ok());
  EXPECT_EQ(Stored("req_1").workflow.SerializeAsString(), cancelled.workflow.SerializeAsString());
}

TEST_F(RouterTest, RedeliveryAfterAdvanceRepublishesTheFirstRoutingNotTheCurrentState) {
  ASSERT_TRUE(router_.Handle(Submitted("req_1", "social_post")).ok());
  const std::vector<kafka::OutgoingEvent> first = publisher_.published();
  ASSERT_EQ(first.size(), 3u);  // routed, assigned, timer start
  routing::v1::AdvanceStageRequest advance = AdvanceOf("req_1");
  ASSERT_TRUE(ops_.AdvanceStage(kOps, advance).ok());
  ASSERT_TRUE(router_.Handle(Updated("req_1", 2, "Renamed", common::v1::PRIORITY_P1)).ok());
  clock_.Advance(absl::Hours(1));
  publisher_.Clear();

  ASSERT_TRUE(router_.Handle(Submitted("req_1", "social_post")).ok());
  ASSERT_EQ(publisher_.size(), first.size());
  for (size_t i = 0; i < first.size(); ++i) {
    EXPECT_EQ(publisher_.published()[i].type, first[i].type);
    EXPECT_EQ(publisher_.published()[i].id, first[i].id);
    EXPECT_EQ(publisher_.published()[i].topic, first[i].topic);
    EXPECT_EQ(publisher_.published()[i].data, first[i].data) << first[i].type;
  }
  EXPECT_EQ(Decoded<routing::v1::TaskAssigned>(publisher_.OfType(events::kTaskAssigned)[0])
                .task()
                .stage_id(),
            "creation");
  EXPECT_EQ(Stored("req_1").workflow.current_stage_id(), "scheduling_qa");
}

TEST_F(RouterTest, PolicyReloadAssignsQueuedWork) {
  ASSERT_TRUE(router_.Handle(Submitted("req_1", "social_post")).ok());
  ASSERT_TRUE(router_.Handle(Submitted("req_2", "social_post")).ok());
  ASSERT_TRUE(router_.Handle(Submitted("req_3", "social_post")).ok());
  ASSERT_TRUE(router_.Handle(Submitted("req_m", "memo")).ok());
  ASSERT_EQ(*store_.QueueSize("acme", "social"), 2u);
  publisher_.Clear();

  // ana may hold two now, and zed is back from leave.
  std::string text = kPolicy;
  text.replace(text.find("wip_limit: 1"), 12, "wip_limit: 2");
  text.replace(text.find("on_leave: true"), 14, "on_leave: false");
  auto reloaded = ParsePolicy(text);
  ASSERT_TRUE(reloaded.ok()) << reloaded.status();
  policy_.Set(std::make_shared<const Policy>(*std::move(reloaded)));
  assigner_.AssignQueuedAfterReload(*policy_.Get());

  EXPECT_EQ(LoadOf("social", "ana"), 2);
  EXPECT_EQ(*store_.QueueSize("acme", "social"), 1u);
  EXPECT_EQ(Stored("req_2").workflow.owner_id(), "ana");
  EXPECT_EQ(Stored("req_3").workflow.owner_id(), "");
  EXPECT_EQ(Stored("req_m").workflow.owner_id(), "zed");
  EXPECT_EQ(publisher_.OfType(events::kTaskAssigned).size(), 2u);
}

TEST_F(RouterTest, ListQueuePagesWithATokenWithoutGapsOrRepeats) {
  // One assigned to ana, six queued behind her, created a second apart.
  for (int i = 0; i < 7; ++i) {
    ASSERT_TRUE(router_.Handle(Submitted("req_" + std::to_string(i), "social_post")).ok());
    clock_.Advance(absl::Seconds(1));
  }
  std::vector<std::string> ids;
  std::string token;
  int pages = 0;
  do {
    routing::v1::ListQueueResponse page = Queue("social", false, 3, token);
    EXPECT_EQ(page.total_size(), 7);
    for (const auto& t : page.tasks()) ids.push_back(t.request_id());
    token = page.next_page_token();
    ++pages;
  } while (!token.empty() && pages < 10);
  EXPECT_EQ(pages, 3);
  EXPECT_THAT(
      ids, ::testing::ElementsAre("req_1", "req_2", "req_3", "req_4", "req_5", "req_6", "req_0"));

  // A full last page has no token.
  EXPECT_EQ(Queue("social", false, 7).next_page_token(), "");
  // The default page holds all seven.
  EXPECT_EQ(Queue("social").tasks_size(), 7);
}

TEST_F(RouterTest, ListQueueResumesAfterTheLastTaskShownWhenTheQueueMoves) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(router_.Handle(Submitted("req_" + std::to_string(i), "social_post")).ok());
    clock_.Advance(absl::Seconds(1));
  }
  // Queued: req_1..req_4.
  routing::v1::ListQueueResponse first = Queue("social", true, 2);
  ASSERT_EQ(first.tasks_size(), 2);
  EXPECT_EQ(first.tasks(1).request_id(), "req_2");
  // The last task shown leaves the queue, one before it too.
  ASSERT_TRUE(router_.Handle(Cancelled("req_2")).ok());
  ASSERT_TRUE(router_.Handle(Cancelled("req_1")).ok());
  routing::v1::ListQueueResponse second = Queue("social", true, 2, first.next_page_token());
  ASSERT_EQ(second.tasks_size(), 2);
  EXPECT_EQ(second.tasks(0).request_id(), "req_3");
  EXPECT_EQ(second.tasks(1).request_id(), "req_4");
  EXPECT_EQ(second.next_page_token(), "");
}

TEST_F(RouterTest, ListQueueTokenIsBoundToTheFilters) {
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(router_.Handle(Submitted("req_" + std::to_string(i), "social_post")).ok());
  }
  const std::string token = Queue("social", false, 1).next_page_token();
  ASSERT_FALSE(token.empty());
  routing::v1::ListQueueRequest other;
  other.set_tenant_id("acme");
  other.set_team_id("social");
  other.set_unassigned_only(true);
  other.set_page_token(token);
  auto refused = ops_.ListQueue(other);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  ASSERT_EQ(FieldViolationsOf(refused.status()).size(), 1u);
  EXPECT_EQ(FieldViolationsOf(refused.status())[0].field, "page_token");
  other.set_unassigned_only(false);
  other.set_page_token("garbage!");
  EXPECT_EQ(ops_.ListQueue(other).status().code(), absl::StatusCode::kInvalidArgument);
  other.set_page_token("");
  other.set_page_size(-1);
  EXPECT_EQ(ops_.ListQueue(other).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(RouterTest, ListQueuePagesAPersonsQueueAndAStageFilter) {
  ASSERT_TRUE(router_.Handle(Submitted("req_0", "social_post")).ok());
  ASSERT_TRUE(router_.Handle(Submitted("req_1", "social_post")).ok());
  ASSERT_TRUE(router_.Handle(Submitted("req_2", "social_post")).ok());
  routing::v1::ListQueueRequest mine;
  mine.set_tenant_id("acme");
  mine.set_assignee_id("ana");
  auto page = ops_.ListQueue(mine);
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->tasks_size(), 1);
  EXPECT_EQ(page->total_size(), 1);
  EXPECT_EQ(page->next_page_token(), "");

  routing::v1::ListQueueRequest creation;
  creation.set_tenant_id("acme");
  creation.set_team_id("social");
  creation.add_stages(common::v1::STAGE_CREATION);
  creation.set_page_size(2);
  auto first = ops_.ListQueue(creation);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->tasks_size(), 2);
  EXPECT_EQ(first->total_size(), 3);
  ASSERT_FALSE(first->next_page_token().empty());
  creation.set_page_token(first->next_page_token());
  auto second = ops_.ListQueue(creation);
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_EQ(second->tasks_size(), 1);
  EXPECT_EQ(second->tasks(0).request_id(), "req_0");
  EXPECT_EQ(second->next_page_token(), "");
}

}  // namespace
}  // namespace flywheel::routing
