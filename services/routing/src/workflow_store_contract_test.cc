// The contract of WorkflowStore, run against both implementations: the Redis
// store (with the Redis outbox) on a real redis-server, and the in-memory
// fake (with the in-memory outbox) that routing's unit tests use. A case
// that passes for one and fails for the other is a fake that lies. What only
// the Redis store has (its keys, workflows stored by older versions, a pick
// that moves between its dry run and its commit) is tested at the end.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "fake_workflow_store.h"
#include "flywheel/kafka/testing/recording_publisher.h"
#include "flywheel/metrics/metrics.h"
#include "flywheel/outbox/outbox.h"
#include "flywheel/outbox/testing/in_memory_outbox.h"
#include "flywheel/redis/testing/redis_test_env.h"
#include "redis_workflow_store.h"

namespace flywheel::routing {
namespace {

using ::testing::ElementsAre;

StoredWorkflow Wf(const std::string& request_id) {
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

// One event naming the assignee the change chose, keyed by the request.
EventsFor AssignedEvent(std::atomic<int>* calls = nullptr) {
  return [calls](const StoredWorkflow& after, const AssignResult& result) {
    if (calls != nullptr) ++*calls;
    return std::vector<kafka::OutgoingEvent>{{.topic = "t.workflows",
                                              .type = "assigned",
                                              .key = after.workflow.request_id(),
                                              .data = "to " + result.assignee + " at revision " +
                                                      std::to_string(after.workflow.revision())}};
  };
}

EventsFor NoEvents() {
  return [](const StoredWorkflow&, const AssignResult&) {
    return std::vector<kafka::OutgoingEvent>{};
  };
}

// `wf` moved to its second stage.
StoredWorkflow ToLaunch(StoredWorkflow wf) {
  wf.workflow.mutable_stages(0)->set_status(routing::v1::STAGE_STATUS_DONE);
  wf.workflow.set_current_stage_id("launch");
  return wf;
}

StoredWorkflow Ended(StoredWorkflow wf, routing::v1::WorkflowStatus status) {
  wf.workflow.set_status(status);
  wf.workflow.clear_current_stage_id();
  return wf;
}

std::vector<std::string> Data(const std::vector<kafka::OutgoingEvent>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e.data);
  return out;
}

class StoreFixture : public redis::RedisTestEnv {
 protected:
  // The Redis store when `redis`, else the fake.
  void Build(bool redis) {
    if (redis) {
      auto pool = redis::Pool::Create({.connection = options(), .capacity = 4});
      ASSERT_TRUE(pool.ok()) << pool.status();
      pool_ = *std::move(pool);
      redis_outbox_ = std::make_unique<outbox::RedisOutbox>(
          *pool_, publisher_, outbox::RedisOutboxOptions{.key_prefix = prefix()}, metrics_);
      store_ = std::make_unique<RedisWorkflowStore>(*pool_, prefix(), *redis_outbox_);
      outbox_ = redis_outbox_.get();
    } else {
      fake_outbox_ = std::make_unique<outbox::testing::InMemoryOutbox>(publisher_);
      store_ = std::make_unique<FakeWorkflowStore>(*fake_outbox_);
      outbox_ = fake_outbox_.get();
    }
  }

  StoredWorkflow Found(const std::string& id) {
    auto found = store_->Find("acme", id);
    EXPECT_TRUE(found.ok() && found->has_value()) << found.status();
    return found.ok() && found->has_value() ? **found : StoredWorkflow{};
  }

  metrics::Metrics metrics_;
  kafka::testing::RecordingPublisher publisher_;
  std::unique_ptr<redis::Pool> pool_;
  std::unique_ptr<outbox::RedisOutbox> redis_outbox_;
  std::unique_ptr<outbox::testing::InMemoryOutbox> fake_outbox_;
  outbox::Outbox* outbox_ = nullptr;
  std::unique_ptr<WorkflowStore> store_;
};

// Param: true runs RedisWorkflowStore, false FakeWorkflowStore. Both need
// the Redis fixture, so the suite is one integration test.
class WorkflowStoreContractTest : public StoreFixture, public ::testing::WithParamInterface<bool> {
 protected:
  void SetUp() override {
    RedisTestEnv::SetUp();
    if (HasFatalFailure()) return;
    Build(GetParam());
  }
};

// What only the Redis store has.
class RedisWorkflowStoreTest : public StoreFixture {
 protected:
  void SetUp() override {
    RedisTestEnv::SetUp();
    if (HasFatalFailure()) return;
    Build(true);
  }
  RedisWorkflowStore& redis_store() { return static_cast<RedisWorkflowStore&>(*store_); }
};

const AssignSpec kAnaAndBen{.strategy = Strategy::kLeastLoaded,
                            .candidates = {{"ana", 3}, {"ben", 2}}};

TEST_P(WorkflowStoreContractTest, CreateAssignsAndFindRoundTrips) {
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

TEST_P(WorkflowStoreContractTest, StoredAfterCreateMatchesWhatFindReadsBack) {
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

TEST_P(WorkflowStoreContractTest, RecreatingChangesNothing) {
  ASSERT_TRUE(store_->Create(Wf("req_1"), kAnaAndBen).ok());
  auto again = store_->Create(Wf("req_1"), kAnaAndBen);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->changed);
  EXPECT_EQ(again->assignee, "ana");
  EXPECT_EQ((*store_->Loads("acme", "social"))["ana"], 1);
  EXPECT_EQ((*store_->Loads("acme", "social")).count("ben"), 0u);
}

TEST_P(WorkflowStoreContractTest, ConcurrentRoutingNeverExceedsWipLimits) {
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

TEST_P(WorkflowStoreContractTest, AdvanceFreesTheSlotAndAStaleRevisionChangesNothing) {
  ASSERT_TRUE(store_->Create(Wf("req_1"), {.candidates = {{"ana", 1}}}).ok());
  ASSERT_TRUE(store_->Create(Wf("req_2"), {.candidates = {{"ana", 1}}}).ok());
  const StoredWorkflow next = Ended(Found("req_1"), routing::v1::WORKFLOW_STATUS_COMPLETED);
  auto stale = store_->Advance(next, 7, {}, AssignedEvent());
  ASSERT_TRUE(stale.ok()) << stale.status();
  EXPECT_EQ(stale->outcome, Committed::Outcome::kStale);
  EXPECT_EQ(Found("req_1").workflow.revision(), 1);
  EXPECT_EQ((*store_->Loads("acme", "social"))["ana"], 1);
  auto r = store_->Advance(next, 1, {}, NoEvents());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->outcome, Committed::Outcome::kDone);
  EXPECT_EQ(r->result.previous_assignee, "ana");
  EXPECT_EQ((*store_->Loads("acme", "social"))["ana"], 0);
  auto queued = store_->AssignQueued(Found("req_2"), {.candidates = {{"ana", 1}}}, NoEvents());
  ASSERT_TRUE(queued.ok()) << queued.status();
  EXPECT_TRUE(queued->result.changed);
  EXPECT_EQ((**store_->Find("acme", "req_2")).workflow.owner_id(), "ana");
  EXPECT_EQ(*store_->QueueSize("acme", "social"), 0u);
}

TEST_P(WorkflowStoreContractTest, UnassignTakesTheTaskOnlyFromTheExpectedAssignee) {
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

TEST_P(WorkflowStoreContractTest, RoundRobinTakesTurns) {
  AssignSpec rr{.strategy = Strategy::kRoundRobin, .candidates = {{"ana", 9}, {"ben", 9}}};
  std::vector<std::string> order;
  for (int i = 0; i < 4; ++i) {
    order.push_back(store_->Create(Wf("req_" + std::to_string(i)), rr)->assignee);
  }
  EXPECT_EQ(order, (std::vector<std::string>{"ana", "ben", "ana", "ben"}));
}

TEST_P(WorkflowStoreContractTest, MemberOverridesRoundTripWithTheirEvents) {
  std::vector<kafka::OutgoingEvent> joined = {
      {.topic = "t.capacity", .key = "social", .data = "bob"}};
  std::vector<kafka::OutgoingEvent> left = {
      {.topic = "t.capacity", .key = "social", .data = "ana"}};
  ASSERT_TRUE(store_
                  ->PutMember("acme", "social",
                              {.id = "bob",
                               .skills = {"video"},
                               .region = "emea",
                               .wip_limit = 2,
                               .on_leave = true},
                              joined)
                  .ok());
  ASSERT_TRUE(store_->RemoveMember("acme", "social", "ana", left).ok());
  EXPECT_EQ(publisher_.size(), 0u);
  ASSERT_TRUE(outbox_->Drain("acme").ok());
  EXPECT_THAT(Data(publisher_.published()), ElementsAre("bob", "ana"));
  auto overrides = store_->MemberOverrides("acme", "social");
  ASSERT_TRUE(overrides.ok());
  EXPECT_FALSE((*overrides)["ana"].has_value());
  ASSERT_TRUE((*overrides)["bob"].has_value());
  EXPECT_EQ((*overrides)["bob"]->wip_limit, 2);
  EXPECT_TRUE((*overrides)["bob"]->on_leave);
  EXPECT_EQ((*overrides)["bob"]->region, "emea");
}

TEST_P(WorkflowStoreContractTest, FindFirstKeepsTheFirstRoutingWhateverHappensLater) {
  const StoredWorkflow wf = Wf("req_1");
  auto created = store_->Create(wf, kAnaAndBen);
  ASSERT_TRUE(created.ok()) << created.status();
  const StoredWorkflow expected = StoredAfterCreate(wf, *created);

  // The stage advances to ben, then the request is renamed and made urgent.
  StoredWorkflow next = **store_->Find("acme", "req_1");
  next.workflow.mutable_stages(0)->set_status(routing::v1::STAGE_STATUS_DONE);
  next.workflow.set_current_stage_id("launch");
  ASSERT_TRUE(store_->Advance(next, 1, {.candidates = {{"ben", 2}}}, NoEvents()).ok());
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

TEST_P(WorkflowStoreContractTest, FindFirstOfAQueuedRequestKeepsItsQueueReason) {
  const AssignSpec ana_alone{.candidates = {{"ana", 1}}};
  ASSERT_TRUE(store_->Create(Wf("req_1"), ana_alone).ok());
  ASSERT_TRUE(store_->Create(Wf("req_2"), ana_alone).ok());
  const StoredWorkflow done = Ended(Found("req_1"), routing::v1::WORKFLOW_STATUS_COMPLETED);
  ASSERT_TRUE(store_->Advance(done, 1, {}, NoEvents()).ok());
  ASSERT_TRUE(store_->AssignQueued(Found("req_2"), ana_alone, NoEvents())->result.changed);

  auto first = store_->FindFirst("acme", "req_2");
  ASSERT_TRUE(first.ok() && first->has_value()) << first.status();
  EXPECT_EQ((*first)->workflow.owner_id(), "");
  EXPECT_EQ((*first)->workflow.revision(), 1);
  EXPECT_EQ((*first)->queue_reason, "all members at WIP limit");
  EXPECT_EQ((*store_->Find("acme", "req_2"))->workflow.owner_id(), "ana");
}

TEST_P(WorkflowStoreContractTest, RememberedCancelKeepsTheRequestFromBeingCreated) {
  ASSERT_TRUE(store_->RememberCancel("acme", "req_1").ok());
  auto r = store_->Create(Wf("req_1"), kAnaAndBen);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->cancelled);
  EXPECT_FALSE(r->changed);
  EXPECT_FALSE((*store_->Find("acme", "req_1")).has_value());
  EXPECT_TRUE((*store_->Loads("acme", "social")).empty());
  EXPECT_EQ(*store_->QueueSize("acme", "social"), 0u);
  // Another request is not affected.
  EXPECT_TRUE(store_->Create(Wf("req_2"), kAnaAndBen)->changed);
}

TEST_P(WorkflowStoreContractTest, CancellingThroughAdvanceFreesTheSlotOrTheQueuePlace) {
  const AssignSpec ana_alone{.candidates = {{"ana", 1}}};
  ASSERT_TRUE(store_->Create(Wf("req_1"), ana_alone).ok());
  ASSERT_TRUE(store_->Create(Wf("req_2"), ana_alone).ok());
  for (const char* id : {"req_2", "req_1"}) {
    const StoredWorkflow cancelled = Ended(Found(id), routing::v1::WORKFLOW_STATUS_CANCELLED);
    auto r = store_->Advance(cancelled, 1, {}, NoEvents());
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->outcome, Committed::Outcome::kDone);
  }
  EXPECT_EQ((*store_->Loads("acme", "social"))["ana"], 0);
  EXPECT_EQ(*store_->QueueSize("acme", "social"), 0u);
  EXPECT_TRUE((*store_->OpenRequests("acme", "social")).empty());
  EXPECT_EQ((*store_->Find("acme", "req_1"))->workflow.status(),
            routing::v1::WORKFLOW_STATUS_CANCELLED);
}

TEST_P(WorkflowStoreContractTest, TheApprovalRecordAndItsEventIdsAreKeptWithTheWorkflow) {
  ASSERT_TRUE(store_->Create(Wf("req_1"), AssignSpec{.candidates = {{"ana", 1}}}).ok());
  StoredWorkflow next = **store_->Find("acme", "req_1");
  EXPECT_TRUE(next.approval_event_ids.empty());
  next.workflow.mutable_approval()->set_outcome(approval::v1::CHAIN_STATUS_APPROVED);
  next.approval_event_ids = {"evt_changes", "evt_approved"};
  ASSERT_TRUE(store_->Refresh(next, 1).ok());

  StoredWorkflow kept = **store_->Find("acme", "req_1");
  EXPECT_EQ(kept.workflow.approval().outcome(), approval::v1::CHAIN_STATUS_APPROVED);
  EXPECT_EQ(kept.approval_event_ids, (std::vector<std::string>{"evt_changes", "evt_approved"}));
  EXPECT_EQ(kept.workflow.stages(0).assignee_id(), "ana") << "recording leaves the assignment";
}

TEST_P(WorkflowStoreContractTest, RefreshReranksQueuedAndOpenRequestsAndRefusesStaleRevisions) {
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

TEST_P(WorkflowStoreContractTest, TenantsListsEveryTenantWithAWorkflow) {
  ASSERT_TRUE(store_->Create(Wf("req_1"), kAnaAndBen).ok());
  StoredWorkflow other = Wf("req_2");
  other.workflow.set_tenant_id("globex");
  ASSERT_TRUE(store_->Create(other, kAnaAndBen).ok());
  auto tenants = store_->Tenants();
  ASSERT_TRUE(tenants.ok()) << tenants.status();
  EXPECT_THAT(*tenants, ::testing::UnorderedElementsAre("acme", "globex"));
}

TEST_P(WorkflowStoreContractTest, AdvanceStoresItsEventsWithTheChangeUntilTheyArePublished) {
  ASSERT_TRUE(store_->Create(Wf("req_1"), kAnaAndBen).ok());
  std::atomic<int> built{0};
  auto r = store_->Advance(ToLaunch(Found("req_1")), 1, {.candidates = {{"ben", 2}}},
                           AssignedEvent(&built));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->outcome, Committed::Outcome::kDone);
  EXPECT_EQ(r->result.assignee, "ben");
  EXPECT_EQ(r->result.previous_assignee, "ana");
  EXPECT_THAT(Data(r->events), ElementsAre("to ben at revision 2"));
  EXPECT_FALSE(r->events[0].id.empty()) << "the id is fixed when the event is stored";
  // What the change left is what Find reads back.
  const StoredWorkflow found = Found("req_1");
  EXPECT_EQ(r->after.workflow.SerializeAsString(), found.workflow.SerializeAsString())
      << r->after.workflow.ShortDebugString() << "\nvs\n"
      << found.workflow.ShortDebugString();
  EXPECT_EQ(found.workflow.stages(1).assignee_id(), "ben");
  EXPECT_EQ(found.workflow.owner_id(), "ana") << "the owner stays who first took the request";

  // Nothing is published by the store; the events wait in the outbox.
  EXPECT_EQ(publisher_.size(), 0u);
  ASSERT_TRUE(outbox_->Drain("acme").ok());
  ASSERT_EQ(publisher_.size(), 1u);
  EXPECT_EQ(publisher_.published()[0].id, r->events[0].id);
  ASSERT_TRUE(outbox_->Drain("acme").ok());
  EXPECT_EQ(publisher_.size(), 1u) << "a published event leaves the outbox";
}

TEST_P(WorkflowStoreContractTest, AChangeWaitsWhileTheRequestsEarlierEventsAreInTheOutbox) {
  ASSERT_TRUE(store_->Create(Wf("req_1"), kAnaAndBen).ok());
  ASSERT_TRUE(store_->Create(Wf("req_2"), kAnaAndBen).ok());
  ASSERT_EQ(store_->Advance(ToLaunch(Found("req_1")), 1, kAnaAndBen, AssignedEvent())->outcome,
            Committed::Outcome::kDone);
  // req_1's events are not published yet: its next change must not overtake them.
  auto held = store_->Advance(Ended(Found("req_1"), routing::v1::WORKFLOW_STATUS_COMPLETED), 2, {},
                              AssignedEvent());
  ASSERT_TRUE(held.ok()) << held.status();
  EXPECT_EQ(held->outcome, Committed::Outcome::kOutboxPending);
  EXPECT_TRUE(held->events.empty());
  EXPECT_EQ(Found("req_1").workflow.revision(), 2);
  EXPECT_EQ(Found("req_1").workflow.status(), routing::v1::WORKFLOW_STATUS_ACTIVE);
  // Another request is not held back.
  EXPECT_EQ(store_->Advance(ToLaunch(Found("req_2")), 1, kAnaAndBen, AssignedEvent())->outcome,
            Committed::Outcome::kDone);

  ASSERT_TRUE(outbox_->Drain("acme").ok());
  auto done = store_->Advance(Ended(Found("req_1"), routing::v1::WORKFLOW_STATUS_COMPLETED), 2, {},
                              AssignedEvent());
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(done->outcome, Committed::Outcome::kDone);
  EXPECT_THAT(Data(done->events), ElementsAre("to  at revision 3"));
}

TEST_P(WorkflowStoreContractTest, AdvanceKeepsTheAnswerOfTheRequestThatMovedIt) {
  ASSERT_TRUE(store_->Create(Wf("req_1"), kAnaAndBen).ok());
  EXPECT_TRUE(Found("req_1").last_advance_request.empty());
  StoredWorkflow next = ToLaunch(Found("req_1"));
  next.last_advance_request = "the request's bytes";
  auto r = store_->Advance(next, 1, kAnaAndBen, NoEvents());
  ASSERT_TRUE(r.ok()) << r.status();
  const StoredWorkflow found = Found("req_1");
  EXPECT_EQ(found.last_advance_request, "the request's bytes");
  EXPECT_EQ(found.last_advance_answer.SerializeAsString(), r->after.workflow.SerializeAsString());
  EXPECT_EQ(found.last_advance_answer.stages(1).assignee_id(), r->result.assignee);
  EXPECT_EQ(found.last_advance_answer.revision(), 2);
}

TEST_P(WorkflowStoreContractTest, AssignQueuedHandsOutOnlyWhatIsStillQueuedAtTheRevisionRead) {
  const AssignSpec ana_alone{.candidates = {{"ana", 1}}};
  ASSERT_TRUE(store_->Create(Wf("req_1"), ana_alone).ok());
  ASSERT_TRUE(store_->Create(Wf("req_2"), ana_alone).ok());
  const StoredWorkflow read_before = Found("req_2");

  // Nobody is free: only the reason may change, nothing is stored to publish.
  auto nobody = store_->AssignQueued(read_before, ana_alone, AssignedEvent());
  ASSERT_TRUE(nobody.ok()) << nobody.status();
  EXPECT_EQ(nobody->outcome, Committed::Outcome::kDone);
  EXPECT_FALSE(nobody->result.changed);
  EXPECT_EQ(nobody->result.queue_reason, "all members at WIP limit");
  EXPECT_TRUE(nobody->events.empty());
  EXPECT_EQ(Found("req_2").workflow.revision(), 1);

  ASSERT_TRUE(store_
                  ->Advance(Ended(Found("req_1"), routing::v1::WORKFLOW_STATUS_COMPLETED), 1, {},
                            NoEvents())
                  .ok());
  StoredWorkflow urgent = Found("req_2");
  urgent.workflow.set_priority(common::v1::PRIORITY_P1);
  ASSERT_TRUE(store_->Refresh(urgent, 1).ok());
  auto stale = store_->AssignQueued(read_before, ana_alone, AssignedEvent());
  ASSERT_TRUE(stale.ok()) << stale.status();
  EXPECT_EQ(stale->outcome, Committed::Outcome::kStale);
  EXPECT_EQ((*store_->Loads("acme", "social"))["ana"], 0);

  auto assigned = store_->AssignQueued(Found("req_2"), ana_alone, AssignedEvent());
  ASSERT_TRUE(assigned.ok()) << assigned.status();
  EXPECT_TRUE(assigned->result.changed);
  EXPECT_THAT(Data(assigned->events), ElementsAre("to ana at revision 3"));
  EXPECT_EQ(assigned->after.workflow.SerializeAsString(),
            Found("req_2").workflow.SerializeAsString());

  auto again = store_->AssignQueued(Found("req_2"), ana_alone, AssignedEvent());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_FALSE(again->result.changed) << "no longer queued";
  EXPECT_TRUE(again->events.empty());
  ASSERT_TRUE(outbox_->Drain("acme").ok());
  EXPECT_THAT(Data(publisher_.published()), ElementsAre("to ana at revision 3"));
}

INSTANTIATE_TEST_SUITE_P(FakeAndRedis, WorkflowStoreContractTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "Redis" : "Fake";
                         });

TEST_F(RedisWorkflowStoreTest, APickThatMovesBeforeTheCommitIsMadeAgain) {
  ASSERT_TRUE(store_->Create(Wf("req_1"), kAnaAndBen).ok());
  auto conn = pool_->Acquire(absl::Seconds(2));
  ASSERT_TRUE(conn.ok());
  std::vector<std::string> picks;
  // Between the dry run and the commit, another replica gives ana more work.
  const EventsFor racing = [&](const StoredWorkflow&, const AssignResult& result) {
    picks.push_back(result.assignee);
    if (picks.size() == 1) {
      EXPECT_TRUE(
          (*conn)
              ->Command({"HSET", redis_store().TeamKey("acme", "social", "load"), "ana", "9"})
              .ok());
    }
    return std::vector<kafka::OutgoingEvent>{
        {.topic = "t.workflows", .key = "req_1", .data = "to " + result.assignee}};
  };
  auto r = store_->Advance(ToLaunch(Found("req_1")), 1, kAnaAndBen, racing);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->outcome, Committed::Outcome::kDone);
  EXPECT_THAT(picks, ElementsAre("ana", "ben"));
  EXPECT_EQ(r->result.assignee, "ben");
  EXPECT_THAT(Data(r->events), ElementsAre("to ben"));
  ASSERT_TRUE(outbox_->Drain("acme").ok());
  EXPECT_THAT(Data(publisher_.published()), ElementsAre("to ben"))
      << "only the events of the change that was made are stored";
}

TEST_F(RedisWorkflowStoreTest, ARememberedCancelOutlivesTheRequestsTopic) {
  ASSERT_TRUE(store_->RememberCancel("acme", "req_1").ok());
  auto conn = pool_->Acquire(absl::Seconds(2));
  ASSERT_TRUE(conn.ok());
  auto ttl = (*conn)->Command({"TTL", prefix() + "routing:{acme}:cancelled:req_1"});
  ASSERT_TRUE(ttl.ok());
  EXPECT_GT(ttl->integer(), 29 * 24 * 3600);
}

TEST_F(RedisWorkflowStoreTest, AnotherProcessSeesEveryTenant) {
  ASSERT_TRUE(store_->Create(Wf("req_1"), kAnaAndBen).ok());
  RedisWorkflowStore again(*pool_, prefix(), *redis_outbox_);
  EXPECT_THAT(*again.Tenants(), ::testing::UnorderedElementsAre("acme"));
}

TEST_F(RedisWorkflowStoreTest, WorkflowsStoredWithoutAFirstStateFallBackWhileUnchanged) {
  ASSERT_TRUE(store_->Create(Wf("req_1"), kAnaAndBen).ok());
  auto conn = pool_->Acquire(absl::Seconds(2));
  ASSERT_TRUE(conn.ok());
  ASSERT_TRUE((*conn)
                  ->Command({"HDEL", redis_store().WorkflowKey("acme", "req_1"), "first_wf",
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

TEST_F(RedisWorkflowStoreTest, KeysShareTheTenantsHashTag) {
  EXPECT_EQ(redis_store().WorkflowKey("acme", "req_1"), prefix() + "routing:{acme}:workflow:req_1");
  EXPECT_EQ(redis_store().TeamKey("acme", "social", "load"),
            prefix() + "routing:{acme}:team:social:load");
}

}  // namespace
}  // namespace flywheel::routing
