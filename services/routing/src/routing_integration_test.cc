// Routing through the real broker and Redis, wired as main() wires it:
// request.submitted events in, workflows, assignments and events out, the
// RoutingService over gRPC, and the policy file reloaded.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "flywheel/approval/v1/events.pb.h"
#include "flywheel/core/id.h"
#include "flywheel/core/testing/wait_for.h"
#include "flywheel/events/catalog.h"
#include "flywheel/intake/v1/events.pb.h"
#include "flywheel/kafka/cloud_event.h"
#include "flywheel/kafka/consumer.h"
#include "flywheel/routing/v1/events.pb.h"
#include "flywheel/routing/v1/routing_service.grpc.pb.h"
#include "flywheel/runtime/testing/service_fixture.h"
#include "flywheel/scheduler/v1/events.pb.h"
#include "routing_app.h"

namespace flywheel::routing {
namespace {

using ::flywheel::testing::WaitFor;
using ::testing::HasSubstr;

constexpr char kPolicy[] = R"yaml(
templates:
  t:
    stages:
      - {stage: creation, owner_role: creator, sla: 2h}
      - stage: scheduling_qa
        owner_role: ops
        sla: 1h
        exit:
          - id: links_tagged
            utm_tagging: {links_field: asset_links, campaign_pattern: "[a-z0-9]+(-[a-z0-9]+)*-20[0-9]{2}"}
  with_approval:
    stages:
      - {stage: creation, owner_role: creator, sla: 2h}
      - {stage: approval, owner_role: approver, sla: 3h}
      - {stage: launch, owner_role: ops, sla: 1h}
      - {stage: measurement, owner_role: ops, sla: 14d}
request_types:
  landing_page: with_approval
default_template: t
teams:
  - id: social
    members: [{id: ana, wip_limit: 1}]
  - id: growth
    members: [{id: finn}, {id: gia}]
assignment_rules:
  - {id: social-posts, request_types: [social_post], team: social}
default_team: growth
tiering:
  default_tier: 1
  default_approval_policy: tier1
  rules:
    - {id: health-claims, keywords: [health], tier: 3, approval_policy: tier3}
    - {id: pricing-claims, keywords: [pricing], tier: 2, approval_policy: tier2}
)yaml";

class RoutingIntegrationTest : public runtime::testing::ServiceFixture {
 protected:
  RoutingIntegrationTest() : ServiceFixture(StartRouting) {
    // Intake owns the requests topic, approval the approvals topic, the
    // scheduler the publish results; this test stands in for all three.
    CreateTopicsBeforeStart(
        {{.name = events::kRequestsTopic, .partitions = events::kStreamPartitions},
         {.name = events::kApprovalsTopic, .partitions = events::kStreamPartitions},
         {.name = events::kPublishResultsTopic, .partitions = events::kStreamPartitions}});
  }

  void SetUp() override {
    policy_path_ = ::testing::TempDir() + "routing_policy_" + NewRandomId() + ".yaml";
    WritePolicy(kPolicy);
    SetConfigYaml("routing:\n  policy_file: " + policy_path_ + "\n");
    ServiceFixture::SetUp();
    if (HasFatalFailure()) return;
    stub_ = v1::RoutingService::NewStub(channel());
  }

  void TearDown() override {
    ServiceFixture::TearDown();
    std::remove(policy_path_.c_str());
  }

  RoutingApp& routing() { return static_cast<RoutingApp&>(app()); }

  void WritePolicy(const std::string& text) {
    std::ofstream out(policy_path_, std::ios::trunc);
    out << text;
  }

  void Submit(const std::string& request_id, const std::string& type, const std::string& title) {
    intake::v1::RequestSubmitted payload;
    payload.set_tenant_id("acme");
    payload.set_request_id(request_id);
    auto* req = payload.mutable_request();
    req->set_tenant_id("acme");
    req->set_request_id(request_id);
    req->set_priority(common::v1::PRIORITY_P2);
    req->mutable_spec()->set_request_type_id(type);
    req->mutable_spec()->set_title(title);
    PublishRequestEvent(events::kRequestSubmitted, request_id, "evt_" + request_id,
                        payload.SerializeAsString());
  }

  // What intake publishes when a request is cancelled.
  void CancelRequest(const std::string& request_id) {
    intake::v1::RequestCancelled payload;
    payload.set_tenant_id("acme");
    payload.set_request_id(request_id);
    payload.set_reason("campaign dropped");
    PublishRequestEvent(events::kRequestCancelled, request_id, "evt_cancel_" + request_id,
                        payload.SerializeAsString());
  }

  void PublishRequestEvent(const char* type, const std::string& request_id,
                           const std::string& event_id, std::string data) {
    PublishOn(events::kRequestsTopic, type, request_id, event_id, std::move(data));
  }

  // Publishes an event about `request_id` as its producer would.
  void PublishOn(const char* topic, const char* type, const std::string& request_id,
                 const std::string& event_id, std::string data) {
    Publish(topic, {.id = event_id,
                    .source = "//tests",
                    .type = type,
                    .data_content_type = kafka::kProtobufContentType,
                    .key = request_id,
                    .data = std::move(data)});
  }

  // What approval publishes when a chain ends.
  void CompleteApproval(const std::string& request_id, approval::v1::ChainStatus outcome,
                        const std::string& event_id) {
    approval::v1::ApprovalCompleted payload;
    payload.set_tenant_id("acme");
    payload.set_request_id(request_id);
    payload.set_outcome(outcome);
    payload.set_version(1);
    PublishOn(events::kApprovalsTopic, events::kApprovalCompleted, request_id, event_id,
              payload.SerializeAsString());
  }

  // What approval publishes when an approver asks for changes.
  void RequestChanges(const std::string& request_id, const std::string& event_id) {
    approval::v1::ChangesRequested payload;
    payload.set_tenant_id("acme");
    payload.set_request_id(request_id);
    payload.set_comment("make the offer clearer");
    payload.set_version(1);
    PublishOn(events::kApprovalsTopic, events::kApprovalChangesRequested, request_id, event_id,
              payload.SerializeAsString());
  }

  // What a connector publishes once the work is live.
  void PublishDone(const std::string& request_id, const std::string& event_id) {
    scheduler::v1::PublishDone payload;
    payload.set_tenant_id("acme");
    payload.set_request_id(request_id);
    payload.set_slot_id("slot_1");
    payload.set_slot_revision(2);
    payload.set_url("https://blog.example/spring-offer");
    PublishOn(events::kPublishResultsTopic, events::kPublishDone, request_id, event_id,
              payload.SerializeAsString());
  }

  // Whether the publish results consumer has counted `count` as `result`.
  bool PublishEventsCounted(const std::string& result, int count) {
    return Counted("flywheel_routing_publish_events_total", result, count);
  }

  // Routes a landing page and advances it by hand to its approval stage.
  void RouteToApproval(const std::string& request_id) {
    Submit(request_id, "landing_page", "Spring offer");
    WaitForWorkflow(request_id);
    v1::AdvanceStageResponse response;
    ::grpc::Status st = Advance(request_id, "creation", "", &response);
    ASSERT_TRUE(st.ok()) << st.error_message();
    ASSERT_EQ(response.workflow().current_stage_id(), "approval");
  }

  // The stage.advanced events of `request_id` from `from` to `to`, once
  // `at_least` are on the workflows topic.
  std::vector<v1::StageAdvanced> Advanced(const std::string& request_id, const std::string& from,
                                          const std::string& to, size_t at_least) {
    std::vector<v1::StageAdvanced> out;
    WaitFor(
        [&] {
          out.clear();
          for (const auto& a : WorkflowEvents<v1::StageAdvanced>(events::kStageAdvanced, 0)) {
            if (a.request_id() == request_id && a.from_stage_id() == from &&
                a.to_stage_id() == to) {
              out.push_back(a);
            }
          }
          return out.size() >= at_least;
        },
        absl::Seconds(40));
    return out;
  }

  // Whether the counter `metric` has reached `count` for `result`.
  bool Counted(const std::string& metric, const std::string& result, int count) {
    return WaitFor([&] {
      return metrics().Render().find(metric + "{result=\"" + result + "\"} " +
                                     std::to_string(count)) != std::string::npos;
    });
  }

  // Whether the approvals consumer has counted `count` events as `result`.
  bool ApprovalEventsCounted(const std::string& result, int count) {
    return Counted("flywheel_routing_approval_events_total", result, count);
  }

  // The timer commands routing has published, decoded, once `at_least` are in.
  std::vector<scheduler::v1::TimerRequested> TimerRequests(size_t at_least) {
    std::vector<scheduler::v1::TimerRequested> out;
    for (const kafka::Record& r : RecordsOn(events::kTimerRequestsTopic, at_least)) {
      scheduler::v1::TimerRequested t;
      if (t.ParseFromString(r.value)) out.push_back(t);
    }
    return out;
  }

  ::grpc::Status GetWorkflow(const std::string& request_id, v1::WorkflowInstance* out) {
    v1::GetWorkflowRequest request;
    request.set_tenant_id("acme");
    request.set_request_id(request_id);
    v1::GetWorkflowResponse response;
    ::grpc::Status status = stub_->GetWorkflow(auth().CallAs().get(), request, &response);
    *out = response.workflow();
    return status;
  }

  // Waits until the request's workflow exists and `condition` holds for it.
  v1::WorkflowInstance WaitForWorkflow(
      const std::string& request_id, std::function<bool(const v1::WorkflowInstance&)> condition =
                                         [](const v1::WorkflowInstance&) { return true; }) {
    v1::WorkflowInstance wf;
    bool ok = WaitFor([&] { return GetWorkflow(request_id, &wf).ok() && condition(wf); });
    EXPECT_TRUE(ok) << "workflow of " << request_id
                    << " never reached the expected state: " << wf.ShortDebugString();
    return wf;
  }

  ::grpc::Status TeamCapacity(const std::string& team_id, v1::GetTeamCapacityResponse* out) {
    v1::GetTeamCapacityRequest request;
    request.set_tenant_id("acme");
    request.set_team_id(team_id);
    return stub_->GetTeamCapacity(auth().CallAs().get(), request, out);
  }

  // Submits two social posts: ana (WIP limit 1) takes one, the other waits
  // for her. Their keys differ, so they may sit on different partitions and
  // be routed in either order: returns {owned, queued}.
  std::pair<std::string, std::string> RouteTwoForAna() {
    Submit("req_1", "social_post", "First");
    Submit("req_2", "social_post", "Second");
    const bool first_is_1 = !WaitForWorkflow("req_1").owner_id().empty();
    const bool first_is_2 = !WaitForWorkflow("req_2").owner_id().empty();
    EXPECT_NE(first_is_1, first_is_2) << "exactly one may be ana's under a WIP limit of 1";
    return first_is_1 ? std::pair<std::string, std::string>{"req_1", "req_2"}
                      : std::pair<std::string, std::string>{"req_2", "req_1"};
  }

  ::grpc::Status Advance(const std::string& request_id, const std::string& expected_stage,
                         const std::string& asset_links, v1::AdvanceStageResponse* response) {
    v1::AdvanceStageRequest request;
    request.set_tenant_id("acme");
    request.set_request_id(request_id);
    request.set_expected_stage_id(expected_stage);
    if (!asset_links.empty()) (*request.mutable_fields())["asset_links"] = asset_links;
    return stub_->AdvanceStage(auth().CallAs().get(), request, response);
  }

  // The events of `type` on the workflows topic, decoded.
  template <typename Payload>
  std::vector<Payload> WorkflowEvents(const std::string& type, size_t at_least) {
    std::vector<Payload> out;
    WaitFor(
        [&] {
          out.clear();
          for (const kafka::Record& r : RecordsOn(events::kWorkflowsTopic)) {
            if (r.header("ce_type") != type) continue;
            Payload p;
            if (p.ParseFromString(r.value)) out.push_back(p);
          }
          return out.size() >= at_least;
        },
        absl::Seconds(40));
    return out;
  }

  std::string policy_path_;
  std::unique_ptr<v1::RoutingService::Stub> stub_;
};

TEST_F(RoutingIntegrationTest, RequestIsRoutedToTeamOwnerAndApprovalTier) {
  Submit("req_health", "social_post", "Health week: our pricing");
  v1::WorkflowInstance wf = WaitForWorkflow("req_health");
  EXPECT_EQ(wf.team_id(), "social");
  EXPECT_EQ(wf.owner_id(), "ana");
  EXPECT_EQ(wf.approval_tier(), common::v1::APPROVAL_TIER_EXECUTIVE);
  EXPECT_EQ(wf.current_stage_id(), "creation");

  auto routed = WorkflowEvents<v1::RequestRouted>(events::kRequestRouted, 1);
  ASSERT_EQ(routed.size(), 1u);
  EXPECT_EQ(routed[0].request_id(), "req_health");
  EXPECT_EQ(routed[0].team_id(), "social");
  EXPECT_EQ(routed[0].owner_id(), "ana");
  EXPECT_EQ(routed[0].approval_tier(), common::v1::APPROVAL_TIER_EXECUTIVE);
  EXPECT_EQ(routed[0].approval_policy_id(), "tier3");
  EXPECT_EQ(routed[0].assignment_rule().rule_id(), "social-posts");
  EXPECT_EQ(routed[0].tiering_rule().rule_id(), "health-claims");
  EXPECT_THAT(routed[0].approval_steps(), ::testing::ElementsAre("brand", "legal", "compliance"));

  auto timers = RecordsOn(events::kTimerRequestsTopic, 1);
  ASSERT_EQ(timers.size(), 1u);
  scheduler::v1::TimerRequested timer;
  ASSERT_TRUE(timer.ParseFromString(timers[0].value));
  EXPECT_EQ(timer.timer_id(), "req_health/stage/creation");
  EXPECT_EQ(timer.duration().seconds(), 7200);

  // A request no rule names goes to the default team, least loaded.
  Submit("req_blog", "blog_post", "Release notes");
  v1::WorkflowInstance blog = WaitForWorkflow("req_blog");
  EXPECT_EQ(blog.team_id(), "growth");
  EXPECT_EQ(blog.owner_id(), "finn");
  EXPECT_EQ(blog.approval_tier(), common::v1::APPROVAL_TIER_SINGLE_REVIEWER);
}

TEST_F(RoutingIntegrationTest, WipLimitQueuesAndJoiningMemberTakesTheWork) {
  Submit("req_1", "social_post", "First");
  Submit("req_2", "social_post", "Second");
  // The two requests have different keys, so they may sit on different
  // partitions and be routed in either order: whichever came second waits.
  v1::WorkflowInstance one = WaitForWorkflow("req_1");
  v1::WorkflowInstance two = WaitForWorkflow("req_2");
  ASSERT_NE(one.owner_id().empty(), two.owner_id().empty())
      << "exactly one of the two must be assigned under a WIP limit of 1";
  const std::string queued = one.owner_id().empty() ? "req_1" : "req_2";
  EXPECT_EQ((queued == "req_1" ? two : one).owner_id(), "ana");

  v1::ListQueueRequest list;
  list.set_tenant_id("acme");
  list.set_team_id("social");
  list.set_unassigned_only(true);
  v1::ListQueueResponse queue;
  ASSERT_TRUE(stub_->ListQueue(auth().CallAs().get(), list, &queue).ok());
  ASSERT_EQ(queue.tasks_size(), 1);
  EXPECT_EQ(queue.tasks(0).request_id(), queued);
  EXPECT_EQ(queue.tasks(0).queue_reason(), "all members at WIP limit");
  // The router sets the gauge once it has published, just after storing.
  EXPECT_TRUE(WaitFor([&] {
    return metrics().Render().find(R"(flywheel_routing_queued_requests{team="social"} 1)") !=
           std::string::npos;
  }));

  v1::GetTeamCapacityResponse load;
  ASSERT_TRUE(TeamCapacity("social", &load).ok());
  EXPECT_EQ(load.total_open_tasks(), 1u);
  EXPECT_EQ(load.total_wip_limit(), 1u);
  EXPECT_EQ(load.queued_tasks(), 1u);

  v1::JoinTeamRequest join;
  join.set_tenant_id("acme");
  join.set_team_id("social");
  join.mutable_member()->set_user_id("bob");
  join.mutable_member()->set_available(true);
  join.mutable_member()->set_wip_limit(1);
  v1::JoinTeamResponse joined;
  ::grpc::Status status = stub_->JoinTeam(auth().CallAs().get(), join, &joined);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(joined.team().members_size(), 2);

  EXPECT_EQ(
      WaitForWorkflow(queued, [](const v1::WorkflowInstance& wf) { return wf.owner_id() == "bob"; })
          .owner_id(),
      "bob");
  EXPECT_THAT(metrics().Render(),
              HasSubstr(R"(flywheel_routing_queued_requests{team="social"} 0)"));
  auto assigned = WorkflowEvents<v1::TaskAssigned>(events::kTaskAssigned, 3);
  bool bob_got_it = false;
  for (const auto& a : assigned) {
    bob_got_it |= a.request_id() == queued && a.task().assignee_id() == "bob";
  }
  EXPECT_TRUE(bob_got_it) << "no task.assigned for " << queued << " to bob";
  auto capacity_events = RecordsOn(events::kCapacityTopic, 1);
  ASSERT_EQ(capacity_events.size(), 1u);
  EXPECT_EQ(capacity_events[0].header("ce_type"), events::kCapacityChanged);
}

TEST_F(RoutingIntegrationTest, AdvanceChecksExitCriteriaAndFinishingFreesCapacity) {
  const auto [owned, queued] = RouteTwoForAna();
  ASSERT_FALSE(HasFailure());

  v1::AdvanceStageResponse response;
  ASSERT_TRUE(Advance(owned, "creation", "", &response).ok());
  EXPECT_EQ(response.workflow().current_stage_id(), "scheduling_qa");

  ::grpc::Status refused =
      Advance(owned, "scheduling_qa", "https://x.test/?utm_source=li&utm_medium=social", &response);
  EXPECT_EQ(refused.error_code(), ::grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(refused.error_message(),
            "exit criterion of scheduling_qa: link https://x.test/?utm_source=li&utm_medium=social "
            "lacks utm_campaign");
  refused =
      Advance(owned, "scheduling_qa",
              "https://x.test/?utm_source=li&utm_medium=social&utm_campaign=Spring", &response);
  EXPECT_THAT(refused.error_message(), HasSubstr("does not follow the naming convention"));
  // A double click repeats the call that moved the workflow: it gets that
  // call's answer and skips nothing. The same stage asked for anything else
  // is stale.
  v1::AdvanceStageResponse repeated;
  ASSERT_TRUE(Advance(owned, "creation", "", &repeated).ok());
  EXPECT_EQ(repeated.workflow().current_stage_id(), "scheduling_qa");
  EXPECT_EQ(Advance(owned, "creation", "https://x.test/", &response).error_code(),
            ::grpc::StatusCode::ABORTED);
  EXPECT_EQ(WaitForWorkflow(queued).owner_id(), "");

  ::grpc::Status done = Advance(
      owned, "scheduling_qa",
      "https://x.test/?utm_source=li&utm_medium=social&utm_campaign=spring-sale-2026", &response);
  ASSERT_TRUE(done.ok()) << done.error_message();
  EXPECT_EQ(response.workflow().status(), v1::WORKFLOW_STATUS_COMPLETED);
  // Finishing freed ana's slot: the queued request is hers now.
  EXPECT_EQ(
      WaitForWorkflow(queued, [](const v1::WorkflowInstance& wf) { return wf.owner_id() == "ana"; })
          .owner_id(),
      "ana");
  EXPECT_EQ(WorkflowEvents<v1::WorkflowCompleted>(events::kWorkflowCompleted, 1).size(), 1u);
}

TEST_F(RoutingIntegrationTest, CancelEndsTheWorkflowReleasesTheTaskAndCancelsItsTimer) {
  const auto [owned, queued] = RouteTwoForAna();
  ASSERT_FALSE(HasFailure());

  CancelRequest(owned);
  v1::WorkflowInstance cancelled = WaitForWorkflow(owned, [](const v1::WorkflowInstance& wf) {
    return wf.status() == v1::WORKFLOW_STATUS_CANCELLED;
  });
  EXPECT_EQ(cancelled.current_stage_id(), "");
  EXPECT_EQ(cancelled.stages(0).status(), v1::STAGE_STATUS_SKIPPED);
  // ana's slot is free again and went to the request that waited for her.
  EXPECT_EQ(
      WaitForWorkflow(queued, [](const v1::WorkflowInstance& wf) { return wf.owner_id() == "ana"; })
          .owner_id(),
      "ana");
  v1::GetTeamCapacityResponse load;
  ASSERT_TRUE(TeamCapacity("social", &load).ok());
  EXPECT_EQ(load.total_open_tasks(), 1u);
  EXPECT_EQ(load.queued_tasks(), 0u);

  // Two starts at routing, then the cancel of the cancelled one's stage timer.
  std::vector<scheduler::v1::TimerRequested> timers = TimerRequests(3);
  bool timer_cancelled = false;
  for (const auto& t : timers) {
    timer_cancelled |= t.action() == scheduler::v1::TIMER_ACTION_CANCEL &&
                       t.timer_id() == owned + "/stage/creation" && t.request_id() == owned;
  }
  EXPECT_TRUE(timer_cancelled) << "no timer CANCEL for " << owned << " among " << timers.size();
  auto completed = WorkflowEvents<v1::WorkflowCompleted>(events::kWorkflowCompleted, 1);
  ASSERT_EQ(completed.size(), 1u);
  EXPECT_EQ(completed[0].request_id(), owned);
  EXPECT_EQ(completed[0].outcome(), v1::WORKFLOW_STATUS_CANCELLED);
}

TEST_F(RoutingIntegrationTest, CancelArrivingBeforeTheSubmitKeepsTheRequestUnrouted) {
  // Same key, so same partition: routing handles them in this order.
  CancelRequest("req_late");
  Submit("req_late", "social_post", "Replayed from a dead letter");
  EXPECT_TRUE(WaitFor([&] {
    return metrics().Render().find(
               R"(flywheel_kafka_handled_events_total{handler="routing.requests",outcome="ok"} 2)") !=
           std::string::npos;
  })) << metrics().Render();
  v1::WorkflowInstance wf;
  EXPECT_EQ(GetWorkflow("req_late", &wf).error_code(), ::grpc::StatusCode::NOT_FOUND);
}

TEST_F(RoutingIntegrationTest, PolicyReloadHandsQueuedWorkToRaisedCapacity) {
  const std::string queued = RouteTwoForAna().second;
  ASSERT_FALSE(HasFailure());

  std::string raised = kPolicy;
  raised.replace(raised.find("{id: ana, wip_limit: 1}"), 23, "{id: ana, wip_limit: 2}");
  WritePolicy(raised);
  ASSERT_TRUE(routing().ReloadPolicyNow().ok());
  EXPECT_EQ(
      WaitForWorkflow(queued, [](const v1::WorkflowInstance& wf) { return wf.owner_id() == "ana"; })
          .owner_id(),
      "ana");
}

TEST_F(RoutingIntegrationTest, InvalidPolicyIsRefusedAndTheRunningOneStays) {
  std::string bad = kPolicy;
  bad.replace(bad.find("team: social}"), 13, "team: video}");
  WritePolicy(bad);
  absl::Status reload = routing().ReloadPolicyNow();
  EXPECT_EQ(reload.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(reload.message(), HasSubstr("assignment_rules[0].team: unknown team \"video\""));
  EXPECT_THAT(std::string(ValidatePolicyFile(policy_path_).message()),
              HasSubstr("assignment_rules[0].team"));

  Submit("req_after_bad", "social_post", "Still routed");
  EXPECT_EQ(WaitForWorkflow("req_after_bad").team_id(), "social");

  // A valid change is taken.
  std::string good = kPolicy;
  good.replace(good.find("team: social}"), 13, "team: growth}");
  WritePolicy(good);
  ASSERT_TRUE(routing().ReloadPolicyNow().ok());
  EXPECT_TRUE(ValidatePolicyFile(policy_path_).ok());
  Submit("req_after_good", "social_post", "Now growth");
  EXPECT_EQ(WaitForWorkflow("req_after_good").team_id(), "growth");
}

TEST_F(RoutingIntegrationTest, UndecodableEventIsDeadLettered) {
  ASSERT_NO_FATAL_FAILURE(PublishRequestEvent(events::kRequestSubmitted, "req_garbage",
                                              "evt_garbage", "\xff\xff not protobuf"));
  auto dead = RecordsOn(events::kRoutingDeadLetterTopic, 1);
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_THAT(std::string(dead[0].header(kafka::kDeadLetterReasonHeader).value_or("")),
              HasSubstr("not a flywheel.intake.v1.RequestSubmitted"));
  v1::WorkflowInstance wf;
  EXPECT_EQ(GetWorkflow("req_garbage", &wf).error_code(), ::grpc::StatusCode::NOT_FOUND);
}

TEST_F(RoutingIntegrationTest, AnApprovedChainMovesTheApprovalStageOnOnce) {
  ASSERT_NO_FATAL_FAILURE(RouteToApproval("req_ok"));

  CompleteApproval("req_ok", approval::v1::CHAIN_STATUS_APPROVED, "evt_approved");
  v1::WorkflowInstance wf = WaitForWorkflow(
      "req_ok", [](const v1::WorkflowInstance& w) { return w.current_stage_id() == "launch"; });
  EXPECT_EQ(wf.approval().outcome(), approval::v1::CHAIN_STATUS_APPROVED);
  std::vector<v1::StageAdvanced> moved = Advanced("req_ok", "approval", "launch", 1);
  ASSERT_EQ(moved.size(), 1u);
  EXPECT_EQ(moved[0].actor_id(), "");

  // Delivered again: acknowledged as a duplicate, nothing published again.
  CompleteApproval("req_ok", approval::v1::CHAIN_STATUS_APPROVED, "evt_approved");
  ASSERT_TRUE(ApprovalEventsCounted("duplicate", 1)) << metrics().Render();
  EXPECT_EQ(Advanced("req_ok", "approval", "launch", 1).size(), 1u);
  v1::WorkflowInstance after;
  ASSERT_TRUE(GetWorkflow("req_ok", &after).ok());
  EXPECT_EQ(after.revision(), wf.revision());
}

TEST_F(RoutingIntegrationTest, PublishDoneMovesTheWorkflowPastLaunchOnce) {
  ASSERT_NO_FATAL_FAILURE(RouteToApproval("req_live"));
  PublishDone("req_live", "evt_done_early");
  ASSERT_TRUE(PublishEventsCounted("ignored", 1)) << metrics().Render();
  v1::WorkflowInstance early;
  ASSERT_TRUE(GetWorkflow("req_live", &early).ok());
  EXPECT_EQ(early.current_stage_id(), "approval") << "not at launch: nothing moves";

  CompleteApproval("req_live", approval::v1::CHAIN_STATUS_APPROVED, "evt_approved_live");
  WaitForWorkflow("req_live",
                  [](const v1::WorkflowInstance& w) { return w.current_stage_id() == "launch"; });
  PublishDone("req_live", "evt_done_live");
  v1::WorkflowInstance wf = WaitForWorkflow("req_live", [](const v1::WorkflowInstance& w) {
    return w.current_stage_id() == "measurement";
  });
  EXPECT_EQ(wf.stages(2).status(), v1::STAGE_STATUS_DONE);
  std::vector<v1::StageAdvanced> moved = Advanced("req_live", "launch", "measurement", 1);
  ASSERT_EQ(moved.size(), 1u);
  EXPECT_EQ(moved[0].actor_id(), "") << "routing moved it, on the connector's word";

  // Delivered again: acknowledged as a duplicate, nothing published again.
  PublishDone("req_live", "evt_done_live");
  ASSERT_TRUE(PublishEventsCounted("duplicate", 1)) << metrics().Render();
  EXPECT_EQ(Advanced("req_live", "launch", "measurement", 1).size(), 1u);
  v1::WorkflowInstance after;
  ASSERT_TRUE(GetWorkflow("req_live", &after).ok());
  EXPECT_EQ(after.revision(), wf.revision());
}

TEST_F(RoutingIntegrationTest, ChangesRequestedSendTheWorkBackAndARejectionEndsIt) {
  ASSERT_NO_FATAL_FAILURE(RouteToApproval("req_back"));

  RequestChanges("req_back", "evt_changes");
  v1::WorkflowInstance back = WaitForWorkflow(
      "req_back", [](const v1::WorkflowInstance& w) { return w.current_stage_id() == "creation"; });
  EXPECT_EQ(back.stages(1).status(), v1::STAGE_STATUS_PENDING);
  EXPECT_EQ(Advanced("req_back", "approval", "creation", 1).size(), 1u);

  // A person cannot take it past approval until the chain approves.
  v1::AdvanceStageResponse response;
  ASSERT_TRUE(Advance("req_back", "creation", "", &response).ok());
  EXPECT_EQ(Advance("req_back", "approval", "", &response).error_code(),
            ::grpc::StatusCode::FAILED_PRECONDITION);

  CompleteApproval("req_back", approval::v1::CHAIN_STATUS_REJECTED, "evt_rejected");
  v1::WorkflowInstance rejected = WaitForWorkflow("req_back", [](const v1::WorkflowInstance& w) {
    return w.status() == v1::WORKFLOW_STATUS_REJECTED;
  });
  EXPECT_EQ(rejected.current_stage_id(), "");
  auto completed = WorkflowEvents<v1::WorkflowCompleted>(events::kWorkflowCompleted, 1);
  ASSERT_EQ(completed.size(), 1u);
  EXPECT_EQ(completed[0].request_id(), "req_back");
  EXPECT_EQ(completed[0].outcome(), v1::WORKFLOW_STATUS_REJECTED);
}

}  // namespace
}  // namespace flywheel::routing
