#include "redis_workflow_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "flywheel/redis/testing/redis_test_env.h"

namespace flywheel::routing {
namespace {

class RedisWorkflowStoreTest : public redis::RedisTestEnv {
 protected:
  void SetUp() override {
    RedisTestEnv::SetUp();
    if (HasFatalFailure()) return;
    auto pool = redis::Pool::Create({.connection = options(), .capacity = 4});
    ASSERT_TRUE(pool.ok()) << pool.status();
    pool_ = *std::move(pool);
    store_ = std::make_unique<RedisWorkflowStore>(*pool_, prefix());
  }

  static StoredWorkflow Wf(const std::string& request_id) {
    StoredWorkflow wf;
    wf.workflow.set_tenant_id("acme");
    wf.workflow.set_request_id(request_id);
    wf.workflow.set_team_id("social");
    wf.workflow.set_status(routing::v1::WORKFLOW_STATUS_ACTIVE);
    wf.workflow.set_priority(common::v1::PRIORITY_P2);
    wf.workflow.set_current_stage_id("creation");
    wf.workflow.add_stages()->set_stage_id("creation");
    wf.workflow.add_stages()->set_stage_id("launch");
    wf.request.mutable_spec()->set_title("Title \"quoted\" \xe2\x9c\x93");
    wf.event_id = "evt_" + request_id;
    wf.required_skills = {"social", "video"};
    wf.region = "emea";
    wf.assignment_rule_id = "r1";
    return wf;
  }

  std::unique_ptr<redis::Pool> pool_;
  std::unique_ptr<RedisWorkflowStore> store_;
};

const AssignSpec kAnaAndBen{.strategy = Strategy::kLeastLoaded,
                            .candidates = {{"ana", 3}, {"ben", 2}}};

TEST_F(RedisWorkflowStoreTest, CreateAssignsAndFindRoundTrips) {
  auto r = store_->Create(Wf("req_1"), kAnaAndBen);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->changed);
  EXPECT_EQ(r->assignee, "ana");
  auto found = store_->Find("acme", "req_1");
  ASSERT_TRUE(found.ok() && found->has_value()) << found.status();
  EXPECT_EQ((*found)->workflow.owner_id(), "ana");
  EXPECT_EQ((*found)->workflow.stages(0).assignee_id(), "ana");
  EXPECT_EQ((*found)->workflow.revision(), 1);
  EXPECT_EQ((*found)->request.spec().title(), Wf("req_1").request.spec().title());
  EXPECT_EQ((*found)->required_skills, Wf("req_1").required_skills);
  EXPECT_EQ((*found)->region, "emea");
  EXPECT_EQ((*found)->event_id, "evt_req_1");
  EXPECT_FALSE((*store_->Find("acme", "req_missing")).has_value());
}

TEST_F(RedisWorkflowStoreTest, StoredAfterCreateMatchesWhatFindReadsBack) {
  // ana and ben take five between them (WIP 3 + 2); the sixth is queued.
  int queued = 0;
  for (int i = 0; i < 6; ++i) {
    const StoredWorkflow wf = Wf("req_" + std::to_string(i));
    auto r = store_->Create(wf, kAnaAndBen);
    ASSERT_TRUE(r.ok()) << r.status();
    auto found = store_->Find("acme", wf.workflow.request_id());
    ASSERT_TRUE(found.ok() && found->has_value());
    const StoredWorkflow local = StoredAfterCreate(wf, *r);
    EXPECT_EQ(local.workflow.SerializeAsString(), (*found)->workflow.SerializeAsString())
        << local.workflow.ShortDebugString() << "\nvs\n"
        << (*found)->workflow.ShortDebugString();
    EXPECT_EQ(local.request.SerializeAsString(), (*found)->request.SerializeAsString());
    EXPECT_EQ(local.queue_reason, (*found)->queue_reason);
    EXPECT_EQ(local.event_id, (*found)->event_id);
    EXPECT_EQ(local.required_skills, (*found)->required_skills);
    EXPECT_EQ(local.assignment_rule_id, (*found)->assignment_rule_id);
    if (r->assignee.empty()) ++queued;
  }
  EXPECT_EQ(queued, 1);
}

TEST_F(RedisWorkflowStoreTest, RecreatingChangesNothing) {
  ASSERT_TRUE(store_->Create(Wf("req_1"), kAnaAndBen).ok());
  auto again = store_->Create(Wf("req_1"), kAnaAndBen);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->changed);
  EXPECT_EQ(again->assignee, "ana");
  EXPECT_EQ((*store_->Loads("acme", "social"))["ana"], 1);
  EXPECT_EQ((*store_->Loads("acme", "social")).count("ben"), 0u);
}

TEST_F(RedisWorkflowStoreTest, ConcurrentRoutingNeverExceedsWipLimits) {
  constexpr int kPerThread = 10;
  std::vector<std::thread> threads;
  std::atomic<int> assigned{0};
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto r =
            store_->Create(Wf("req_" + std::to_string(t) + "_" + std::to_string(i)), kAnaAndBen);
        if (r.ok() && !r->assignee.empty()) ++assigned;
      }
    });
  }
  for (auto& th : threads) th.join();
  auto loads = store_->Loads("acme", "social");
  ASSERT_TRUE(loads.ok());
  EXPECT_EQ((*loads)["ana"], 3);
  EXPECT_EQ((*loads)["ben"], 2);
  EXPECT_EQ(assigned.load(), 5);
  EXPECT_EQ(*store_->QueueSize("acme", "social"), 3u * kPerThread - 5);
  auto queue = store_->Queue("acme", "social", 1);
  ASSERT_TRUE(queue.ok());
  ASSERT_EQ(queue->size(), 1u);
  EXPECT_EQ((*queue)[0].reason, "all members at WIP limit");
}

TEST_F(RedisWorkflowStoreTest, AdvanceFreesTheSlotAndStaleRevisionIsAborted) {
  ASSERT_TRUE(store_->Create(Wf("req_1"), {.candidates = {{"ana", 1}}}).ok());
  ASSERT_TRUE(store_->Create(Wf("req_2"), {.candidates = {{"ana", 1}}}).ok());
  StoredWorkflow next = **store_->Find("acme", "req_1");
  next.workflow.set_status(routing::v1::WORKFLOW_STATUS_COMPLETED);
  next.workflow.clear_current_stage_id();
  EXPECT_EQ(store_->Advance(next, 7, {}).status().code(), absl::StatusCode::kAborted);
  auto r = store_->Advance(next, 1, {});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->previous_assignee, "ana");
  EXPECT_EQ((*store_->Loads("acme", "social"))["ana"], 0);
  auto queued = store_->AssignQueued("acme", "social", "req_2", {.candidates = {{"ana", 1}}});
  ASSERT_TRUE(queued.ok()) << queued.status();
  EXPECT_TRUE(queued->changed);
  EXPECT_EQ((**store_->Find("acme", "req_2")).workflow.owner_id(), "ana");
  EXPECT_EQ(*store_->QueueSize("acme", "social"), 0u);
}

TEST_F(RedisWorkflowStoreTest, UnassignTakesTheTaskOnlyFromTheExpectedAssignee) {
  ASSERT_TRUE(store_->Create(Wf("req_1"), kAnaAndBen).ok());
  // The task moved on to someone else meanwhile: ben leaving must not strip it.
  auto not_bens = store_->Unassign("acme", "social", "req_1", "ben", "assignee left the team");
  ASSERT_TRUE(not_bens.ok()) << not_bens.status();
  EXPECT_FALSE(*not_bens);
  EXPECT_EQ((*store_->Find("acme", "req_1"))->workflow.stages(0).assignee_id(), "ana");
  EXPECT_EQ((*store_->Loads("acme", "social"))["ana"], 1);

  auto anas = store_->Unassign("acme", "social", "req_1", "ana", "assignee left the team");
  ASSERT_TRUE(anas.ok()) << anas.status();
  EXPECT_TRUE(*anas);
  EXPECT_EQ((*store_->Find("acme", "req_1"))->workflow.stages(0).assignee_id(), "");
  EXPECT_EQ((*store_->Loads("acme", "social"))["ana"], 0);
  auto queue = store_->Queue("acme", "social", 10);
  ASSERT_TRUE(queue.ok());
  ASSERT_EQ(queue->size(), 1u);
}

TEST_F(RedisWorkflowStoreTest, RoundRobinTakesTurns) {
  AssignSpec rr{.strategy = Strategy::kRoundRobin, .candidates = {{"ana", 9}, {"ben", 9}}};
  std::vector<std::string> order;
  for (int i = 0; i < 4; ++i) {
    order.push_back(store_->Create(Wf("req_" + std::to_string(i)), rr)->assignee);
  }
  EXPECT_EQ(order, (std::vector<std::string>{"ana", "ben", "ana", "ben"}));
}

TEST_F(RedisWorkflowStoreTest, MemberOverridesRoundTrip) {
  ASSERT_TRUE(store_
                  ->PutMember("acme", "social",
                              {.id = "bob",
                               .skills = {"video"},
                               .region = "emea",
                               .wip_limit = 2,
                               .on_leave = true})
                  .ok());
  ASSERT_TRUE(store_->RemoveMember("acme", "social", "ana").ok());
  auto overrides = store_->MemberOverrides("acme", "social");
  ASSERT_TRUE(overrides.ok());
  EXPECT_FALSE((*overrides)["ana"].has_value());
  ASSERT_TRUE((*overrides)["bob"].has_value());
  EXPECT_EQ((*overrides)["bob"]->wip_limit, 2);
  EXPECT_TRUE((*overrides)["bob"]->on_leave);
  EXPECT_EQ((*overrides)["bob"]->region, "emea");
}

TEST_F(RedisWorkflowStoreTest, FindFirstKeepsTheFirstRoutingWhateverHappensLater) {
  const StoredWorkflow wf = Wf("req_1");
  auto created = store_->Create(wf, kAnaAndBen);
  ASSERT_TRUE(created.ok()) << created.status();
  const StoredWorkflow expected = StoredAfterCreate(wf, *created);

  // The stage advances to ben, then the request is renamed and made urgent.
  StoredWorkflow next = **store_->Find("acme", "req_1");
  next.workflow.mutable_stages(0)->set_status(routing::v1::STAGE_STATUS_DONE);
  next.workflow.set_current_stage_id("launch");
  ASSERT_TRUE(store_->Advance(next, 1, {.candidates = {{"ben", 2}}}).ok());
  StoredWorkflow renamed = **store_->Find("acme", "req_1");
  renamed.request.mutable_spec()->set_title("Renamed");
  renamed.workflow.set_priority(common::v1::PRIORITY_P1);
  ASSERT_TRUE(store_->Refresh(renamed, 2).ok());
  ASSERT_EQ((*store_->Find("acme", "req_1"))->workflow.revision(), 3);

  auto first = store_->FindFirst("acme", "req_1");
  ASSERT_TRUE(first.ok() && first->has_value()) << first.status();
  EXPECT_EQ((*first)->workflow.SerializeAsString(), expected.workflow.SerializeAsString())
      << (*first)->workflow.ShortDebugString();
  EXPECT_EQ((*first)->workflow.stages(0).assignee_id(), "ana");
  EXPECT_EQ((*first)->request.spec().title(), wf.request.spec().title());
  EXPECT_EQ((*first)->event_id, "evt_req_1");
  EXPECT_EQ((*first)->assignment_rule_id, "r1");
  EXPECT_FALSE((*store_->FindFirst("acme", "req_missing")).has_value());
}

TEST_F(RedisWorkflowStoreTest, FindFirstOfAQueuedRequestKeepsItsQueueReason) {
  const AssignSpec ana_alone{.candidates = {{"ana", 1}}};
  ASSERT_TRUE(store_->Create(Wf("req_1"), ana_alone).ok());
  ASSERT_TRUE(store_->Create(Wf("req_2"), ana_alone).ok());
  StoredWorkflow done = **store_->Find("acme", "req_1");
  done.workflow.set_status(routing::v1::WORKFLOW_STATUS_COMPLETED);
  done.workflow.clear_current_stage_id();
  ASSERT_TRUE(store_->Advance(done, 1, {}).ok());
  ASSERT_TRUE(store_->AssignQueued("acme", "social", "req_2", ana_alone)->changed);

  auto first = store_->FindFirst("acme", "req_2");
  ASSERT_TRUE(first.ok() && first->has_value()) << first.status();
  EXPECT_EQ((*first)->workflow.owner_id(), "");
  EXPECT_EQ((*first)->workflow.revision(), 1);
  EXPECT_EQ((*first)->queue_reason, "all members at WIP limit");
  EXPECT_EQ((*store_->Find("acme", "req_2"))->workflow.owner_id(), "ana");
}

TEST_F(RedisWorkflowStoreTest, WorkflowsStoredWithoutAFirstStateFallBackWhileUnchanged) {
  ASSERT_TRUE(store_->Create(Wf("req_1"), kAnaAndBen).ok());
  auto conn = pool_->Acquire(absl::Seconds(2));
  ASSERT_TRUE(conn.ok());
  ASSERT_TRUE((*conn)
                  ->Command({"HDEL", store_->WorkflowKey("acme", "req_1"), "first_wf",
                             "first_request", "first_assignee", "first_reason"})
                  .ok());
  auto unchanged = store_->FindFirst("acme", "req_1");
  ASSERT_TRUE(unchanged.ok() && unchanged->has_value());
  EXPECT_EQ((*unchanged)->workflow.owner_id(), "ana");
  StoredWorkflow next = **store_->Find("acme", "req_1");
  next.request.mutable_spec()->set_title("Renamed");
  ASSERT_TRUE(store_->Refresh(next, 1).ok());
  auto changed = store_->FindFirst("acme", "req_1");
  ASSERT_TRUE(changed.ok());
  EXPECT_FALSE(changed->has_value()) << "a later state must not pass for the first";
}

TEST_F(RedisWorkflowStoreTest, RememberedCancelKeepsTheRequestFromBeingCreated) {
  ASSERT_TRUE(store_->RememberCancel("acme", "req_1").ok());
  auto r = store_->Create(Wf("req_1"), kAnaAndBen);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->cancelled);
  EXPECT_FALSE(r->changed);
  EXPECT_FALSE((*store_->Find("acme", "req_1")).has_value());
  EXPECT_TRUE((*store_->Loads("acme", "social")).empty());
  EXPECT_EQ(*store_->QueueSize("acme", "social"), 0u);
  auto conn = pool_->Acquire(absl::Seconds(2));
  ASSERT_TRUE(conn.ok());
  auto ttl = (*conn)->Command({"TTL", prefix() + "routing:{acme}:cancelled:req_1"});
  ASSERT_TRUE(ttl.ok());
  EXPECT_GT(ttl->integer(), 29 * 24 * 3600);
  // Another request is not affected.
  EXPECT_TRUE(store_->Create(Wf("req_2"), kAnaAndBen)->changed);
}

TEST_F(RedisWorkflowStoreTest, CancellingThroughAdvanceFreesTheSlotOrTheQueuePlace) {
  const AssignSpec ana_alone{.candidates = {{"ana", 1}}};
  ASSERT_TRUE(store_->Create(Wf("req_1"), ana_alone).ok());
  ASSERT_TRUE(store_->Create(Wf("req_2"), ana_alone).ok());
  for (const char* id : {"req_2", "req_1"}) {
    StoredWorkflow cancelled = **store_->Find("acme", id);
    cancelled.workflow.set_status(routing::v1::WORKFLOW_STATUS_CANCELLED);
    cancelled.workflow.clear_current_stage_id();
    auto r = store_->Advance(cancelled, 1, {});
    ASSERT_TRUE(r.ok()) << r.status();
  }
  EXPECT_EQ((*store_->Loads("acme", "social"))["ana"], 0);
  EXPECT_EQ(*store_->QueueSize("acme", "social"), 0u);
  EXPECT_TRUE((*store_->OpenRequests("acme", "social")).empty());
  EXPECT_EQ((*store_->Find("acme", "req_1"))->workflow.status(),
            routing::v1::WORKFLOW_STATUS_CANCELLED);
}

TEST_F(RedisWorkflowStoreTest, RefreshReranksQueuedAndOpenRequestsAndRefusesStaleRevisions) {
  const AssignSpec ana_alone{.candidates = {{"ana", 1}}};
  for (int i = 0; i < 3; ++i) {
    StoredWorkflow wf = Wf("req_" + std::to_string(i));
    wf.workflow.mutable_create_time()->set_seconds(1'700'000'000 + i);
    ASSERT_TRUE(store_->Create(wf, ana_alone).ok());
  }
  auto ids = [](const std::vector<QueueEntry>& entries) {
    std::vector<std::string> out;
    for (const QueueEntry& e : entries) out.push_back(e.request_id);
    return out;
  };
  EXPECT_EQ(ids(*store_->Queue("acme", "social", 10)),
            (std::vector<std::string>{"req_1", "req_2"}));

  StoredWorkflow urgent = **store_->Find("acme", "req_2");
  urgent.workflow.set_priority(common::v1::PRIORITY_P1);
  EXPECT_EQ(store_->Refresh(urgent, 7).code(), absl::StatusCode::kAborted);
  ASSERT_TRUE(store_->Refresh(urgent, 1).ok());
  auto queue = store_->Queue("acme", "social", 10);
  ASSERT_TRUE(queue.ok()) << queue.status();
  EXPECT_EQ(ids(*queue), (std::vector<std::string>{"req_2", "req_1"}));
  EXPECT_EQ((*queue)[0].rank, QueueRank(urgent.workflow));
  EXPECT_EQ((*queue)[0].reason, "all members at WIP limit");
  EXPECT_EQ((*store_->Find("acme", "req_2"))->workflow.priority(), common::v1::PRIORITY_P1);
  EXPECT_EQ((*store_->Find("acme", "req_2"))->workflow.owner_id(), "");

  StoredWorkflow open = **store_->Find("acme", "req_0");
  open.workflow.set_priority(common::v1::PRIORITY_P4);
  ASSERT_TRUE(store_->Refresh(open, 1).ok());
  auto opened = store_->OpenRequests("acme", "social");
  ASSERT_TRUE(opened.ok()) << opened.status();
  ASSERT_EQ(opened->size(), 1u);
  EXPECT_EQ((*opened)[0].rank, QueueRank(open.workflow));
  EXPECT_EQ((*store_->Loads("acme", "social"))["ana"], 1);
  EXPECT_EQ((*store_->Find("acme", "req_0"))->workflow.owner_id(), "ana");
}

TEST_F(RedisWorkflowStoreTest, TenantsListsEveryTenantWithAWorkflow) {
  ASSERT_TRUE(store_->Create(Wf("req_1"), kAnaAndBen).ok());
  StoredWorkflow other = Wf("req_2");
  other.workflow.set_tenant_id("globex");
  ASSERT_TRUE(store_->Create(other, kAnaAndBen).ok());
  auto tenants = store_->Tenants();
  ASSERT_TRUE(tenants.ok()) << tenants.status();
  EXPECT_THAT(*tenants, ::testing::UnorderedElementsAre("acme", "globex"));
  // A second store (another process) sees them too.
  RedisWorkflowStore again(*pool_, prefix());
  EXPECT_THAT(*again.Tenants(), ::testing::UnorderedElementsAre("acme", "globex"));
}

TEST_F(RedisWorkflowStoreTest, KeysShareTheTenantsHashTag) {
  EXPECT_EQ(store_->WorkflowKey("acme", "req_1"), prefix() + "routing:{acme}:workflow:req_1");
  EXPECT_EQ(store_->TeamKey("acme", "social", "load"),
            prefix() + "routing:{acme}:team:social:load");
}

}  // namespace
}  // namespace flywheel::routing
