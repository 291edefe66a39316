// The contract of RequestStore, run against both implementations: the Redis
// store (with the Redis outbox) on a real redis-server, and the in-memory
// fake (with the in-memory outbox) that intake's unit tests use. A case that
// passes for one and fails for the other is a fake that lies.
#include <gmock/gmock.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include "flywheel/async/io_threads.h"
#include "flywheel/async/spawn.h"
#include "flywheel/outbox/testing/contract_outbox.h"
#include "flywheel/redis/testing/redis_test_env.h"
#include "in_memory_request_store.h"
#include "redis_request_store.h"
#include "request_store.h"

namespace flywheel::intake {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using CreateOutcome = RequestStore::CreateOutcome;
using ReplaceOutcome = RequestStore::ReplaceOutcome;

constexpr absl::Duration kTtl = absl::Hours(1);
constexpr int64_t kEpoch = 1'700'000'000;

v1::Request MakeRequest(const std::string& tenant, const std::string& id, const std::string& key,
                        int64_t created_seconds = kEpoch) {
  v1::Request request;
  request.set_tenant_id(tenant);
  request.set_request_id(id);
  request.set_idempotency_key(key);
  request.set_status(v1::REQUEST_STATUS_SUBMITTED);
  request.set_revision(1);
  request.mutable_spec()->set_title("Title of " + id);
  (*request.mutable_spec()->mutable_fields())["target_audience"] = "IT buyers";
  request.mutable_create_time()->set_seconds(created_seconds);
  return request;
}

// The next revision of `request`, with a new title.
v1::Request Revised(v1::Request request, const std::string& title) {
  request.set_revision(request.revision() + 1);
  request.mutable_spec()->set_title(title);
  return request;
}

kafka::OutgoingEvent Event(const v1::Request& request, const std::string& type) {
  return {.topic = "t.requests",
          .type = type,
          .key = request.request_id(),
          .data = type + " of " + request.request_id()};
}

std::vector<std::string> Types(const std::vector<kafka::OutgoingEvent>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e.type);
  return out;
}

std::vector<std::string> Ids(const std::vector<v1::Request>& requests) {
  std::vector<std::string> out;
  for (const auto& r : requests) out.push_back(r.request_id());
  return out;
}

bool SameRequest(const v1::Request& a, const v1::Request& b) {
  return google::protobuf::util::MessageDifferencer::Equals(a, b);
}

// Param: true runs RedisRequestStore, false InMemoryRequestStore. Both need
// the Redis fixture, so the suite is one integration test.
class RequestStoreContractTest : public redis::RedisTestEnv,
                                 public ::testing::WithParamInterface<bool> {
 protected:
  void SetUp() override {
    RedisTestEnv::SetUp();
    if (HasFatalFailure()) return;
    if (GetParam()) {
      absl::Status connected = outbox_.ConnectRedis(io_.context(), options(), prefix());
      ASSERT_TRUE(connected.ok()) << connected;
      store_ = std::make_unique<RedisRequestStore>(outbox_.async(), prefix(), outbox_.redis());
    } else {
      store_ = std::make_unique<InMemoryRequestStore>(outbox_.in_memory());
    }
  }

  void TearDown() override {
    io_.Stop();  // nothing runs on the Redis client after this
    RedisTestEnv::TearDown();
  }

  template <typename T>
  T Await(asio::awaitable<T> task) {
    return async::BlockOn(io_.context(), std::move(task));
  }

  // Creates `request` with `events` under its own key and checks it was new.
  void CreateOk(const v1::Request& request, std::vector<kafka::OutgoingEvent> events = {}) {
    auto created = Await(store_->Create(request, "fp-" + request.request_id(), events, kTtl));
    ASSERT_TRUE(created.ok()) << created.status();
    ASSERT_EQ(created->outcome, CreateOutcome::kCreated);
  }

  ReplaceOutcome ReplaceOk(const v1::Request& updated, int64_t expected_revision,
                           std::vector<kafka::OutgoingEvent> events = {}) {
    auto outcome = Await(store_->Replace(updated, expected_revision, events));
    EXPECT_TRUE(outcome.ok()) << outcome.status();
    return outcome.ok() ? *outcome : ReplaceOutcome::kNotFound;
  }

  std::optional<v1::Request> GetOk(const std::string& tenant, const std::string& id) {
    auto got = Await(store_->Get(tenant, id));
    EXPECT_TRUE(got.ok()) << got.status();
    return got.ok() ? *got : std::nullopt;
  }

  std::vector<std::string> ScanOk(const std::string& tenant, const std::string& after,
                                  size_t limit) {
    auto scanned = Await(store_->Scan(tenant, after, limit));
    EXPECT_TRUE(scanned.ok()) << scanned.status();
    return scanned.ok() ? Ids(*scanned) : std::vector<std::string>{};
  }

  std::vector<kafka::OutgoingEvent> Drain(const std::string& tenant = "acme") {
    return outbox_.Drain(tenant);
  }

  async::IoThreads io_{1};
  outbox::testing::ContractOutbox outbox_;
  std::unique_ptr<RequestStore> store_;
};

TEST_P(RequestStoreContractTest, CreateStoresTheRequestWithItsEventsForTheOutboxToPublish) {
  const v1::Request request = MakeRequest("acme", "req_1", "key-1");
  std::vector<kafka::OutgoingEvent> events = {Event(request, "submitted"), Event(request, "noted")};
  events[0].id = "evt_submitted_req_1";
  auto created = Await(store_->Create(request, "fp-1", events, kTtl));
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->outcome, CreateOutcome::kCreated);
  EXPECT_EQ(created->request_id, "req_1");
  EXPECT_EQ(events[0].id, "evt_submitted_req_1") << "an id the caller derived is kept";
  EXPECT_FALSE(events[1].id.empty()) << "an event without an id gets one";
  EXPECT_TRUE(events[0].time.has_value());
  EXPECT_TRUE(events[1].time.has_value());

  std::optional<v1::Request> got = GetOk("acme", "req_1");
  ASSERT_TRUE(got.has_value());
  EXPECT_TRUE(SameRequest(*got, request)) << got->DebugString();
  EXPECT_EQ(outbox_.publisher().size(), 0u) << "storing publishes nothing; the outbox does";

  const std::vector<kafka::OutgoingEvent> out = Drain();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_THAT(Types(out), ElementsAre("submitted", "noted"));
  EXPECT_EQ(out[0].id, events[0].id);
  EXPECT_EQ(out[1].id, events[1].id);
  EXPECT_EQ(out[0].key, "req_1");
  EXPECT_EQ(out[0].data, "submitted of req_1");
  // The time the change gave its events is the one the outbox publishes.
  EXPECT_EQ(out[0].time, events[0].time);
  EXPECT_EQ(out[1].time, events[1].time);
  EXPECT_THAT(Drain(), IsEmpty()) << "published once";
}

TEST_P(RequestStoreContractTest, AUsedKeyIsReplayedWithItsSpecAndRefusedWithAnother) {
  const v1::Request first = MakeRequest("acme", "req_1", "key-1");
  ASSERT_NO_FATAL_FAILURE(CreateOk(first, {Event(first, "submitted")}));

  // Each attempt would create a request of its own, with its own event.
  auto attempt = [&](const std::string& id, const std::string& fingerprint) {
    const v1::Request request = MakeRequest("acme", id, "key-1");
    std::vector<kafka::OutgoingEvent> events = {Event(request, "submitted")};
    return Await(store_->Create(request, fingerprint, events, kTtl));
  };
  auto replayed = attempt("req_2", "fp-req_1");
  ASSERT_TRUE(replayed.ok()) << replayed.status();
  EXPECT_EQ(replayed->outcome, CreateOutcome::kReplayed);
  EXPECT_EQ(replayed->request_id, "req_1");

  auto conflict = attempt("req_3", "fp-other");
  ASSERT_TRUE(conflict.ok()) << conflict.status();
  EXPECT_EQ(conflict->outcome, CreateOutcome::kConflict);
  EXPECT_EQ(conflict->request_id, "req_1");

  // Neither stored anything: no request, no index entry, no event.
  EXPECT_FALSE(GetOk("acme", "req_2").has_value());
  EXPECT_FALSE(GetOk("acme", "req_3").has_value());
  EXPECT_THAT(ScanOk("acme", "", 10), ElementsAre("req_1"));
  const std::vector<kafka::OutgoingEvent> out = Drain();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].key, "req_1");
  auto use = Await(store_->FindKey("acme", "key-1"));
  ASSERT_TRUE(use.ok()) << use.status();
  ASSERT_TRUE(use->has_value());
  EXPECT_EQ((*use)->request_id, "req_1");
  EXPECT_EQ((*use)->spec_fingerprint, "fp-req_1") << "a refused spec does not take the key over";
}

TEST_P(RequestStoreContractTest, FindKeySaysWhatAKeyWasFirstUsedForWithinItsTenant) {
  auto unused = Await(store_->FindKey("acme", "key-1"));
  ASSERT_TRUE(unused.ok()) << unused.status();
  EXPECT_FALSE(unused->has_value());

  ASSERT_NO_FATAL_FAILURE(CreateOk(MakeRequest("acme", "req_1", "key-1")));
  auto used = Await(store_->FindKey("acme", "key-1"));
  ASSERT_TRUE(used.ok()) << used.status();
  ASSERT_TRUE(used->has_value());
  EXPECT_EQ((*used)->request_id, "req_1");
  EXPECT_EQ((*used)->spec_fingerprint, "fp-req_1");

  auto elsewhere = Await(store_->FindKey("globex", "key-1"));
  ASSERT_TRUE(elsewhere.ok()) << elsewhere.status();
  EXPECT_FALSE(elsewhere->has_value()) << "keys are per tenant";
  // So another tenant may use the same key for its own request.
  ASSERT_NO_FATAL_FAILURE(CreateOk(MakeRequest("globex", "req_2", "key-1")));
}

TEST_P(RequestStoreContractTest, GetFindsARequestOnlyUnderItsOwnTenant) {
  ASSERT_NO_FATAL_FAILURE(CreateOk(MakeRequest("acme", "req_1", "key-1")));
  EXPECT_TRUE(GetOk("acme", "req_1").has_value());
  EXPECT_FALSE(GetOk("globex", "req_1").has_value());
  EXPECT_FALSE(GetOk("acme", "req_missing").has_value());
}

TEST_P(RequestStoreContractTest, ReplaceIsACompareAndSetOnTheRevision) {
  const v1::Request request = MakeRequest("acme", "req_1", "key-1");
  ASSERT_NO_FATAL_FAILURE(CreateOk(request, {Event(request, "submitted")}));
  ASSERT_THAT(Drain(), ::testing::SizeIs(1));

  const v1::Request second = Revised(request, "Second title");
  EXPECT_EQ(ReplaceOk(second, 1, {Event(second, "updated")}), ReplaceOutcome::kReplaced);
  std::optional<v1::Request> got = GetOk("acme", "req_1");
  ASSERT_TRUE(got.has_value());
  EXPECT_TRUE(SameRequest(*got, second)) << got->DebugString();
  EXPECT_THAT(Types(Drain()), ElementsAre("updated"));

  // The same expected revision again: someone changed it since.
  const v1::Request late = Revised(request, "A late title");
  EXPECT_EQ(ReplaceOk(late, 1, {Event(late, "updated")}), ReplaceOutcome::kStale);
  EXPECT_EQ(ReplaceOk(late, 1), ReplaceOutcome::kStale);
  got = GetOk("acme", "req_1");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->spec().title(), "Second title");
  EXPECT_THAT(Drain(), IsEmpty()) << "a refused change stores no events";

  const v1::Request missing = MakeRequest("acme", "req_missing", "key-2");
  EXPECT_EQ(ReplaceOk(missing, 1, {Event(missing, "updated")}), ReplaceOutcome::kNotFound);
  v1::Request other_tenant = Revised(second, "Not yours");
  other_tenant.set_tenant_id("globex");
  EXPECT_EQ(ReplaceOk(other_tenant, 2), ReplaceOutcome::kNotFound);
  EXPECT_FALSE(GetOk("globex", "req_1").has_value());
  EXPECT_THAT(Drain(), IsEmpty());
  EXPECT_THAT(Drain("globex"), IsEmpty());
}

TEST_P(RequestStoreContractTest, AChangeWithEventsWaitsUntilTheRequestsEarlierEventsAreOut) {
  const v1::Request request = MakeRequest("acme", "req_1", "key-1");
  ASSERT_NO_FATAL_FAILURE(CreateOk(request, {Event(request, "submitted")}));
  // request.submitted is still in the outbox (its publish was cut off).

  const v1::Request updated = Revised(request, "Second title");
  EXPECT_EQ(ReplaceOk(updated, 1, {Event(updated, "updated")}), ReplaceOutcome::kOutboxPending);
  std::optional<v1::Request> got = GetOk("acme", "req_1");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->revision(), 1) << "a pending change stores nothing";
  // Stale is told before pending: retrying after a drain would not help.
  EXPECT_EQ(ReplaceOk(Revised(request, "x"), 7, {Event(updated, "updated")}),
            ReplaceOutcome::kStale);

  // A change without events (a status routing reported) goes through even so.
  v1::Request active = Revised(request, request.spec().title());
  active.set_status(v1::REQUEST_STATUS_ACTIVE);
  EXPECT_EQ(ReplaceOk(active, 1), ReplaceOutcome::kReplaced);
  got = GetOk("acme", "req_1");
  ASSERT_TRUE(got.has_value());
  EXPECT_TRUE(SameRequest(*got, active)) << got->DebugString();

  // Another request of the tenant is not held up by this one's events.
  const v1::Request quiet = MakeRequest("acme", "req_2", "key-2");
  ASSERT_NO_FATAL_FAILURE(CreateOk(quiet));
  const v1::Request quiet_updated = Revised(quiet, "Quiet update");
  EXPECT_EQ(ReplaceOk(quiet_updated, 1, {Event(quiet_updated, "updated")}),
            ReplaceOutcome::kReplaced);

  const v1::Request third = Revised(active, "Third title");
  EXPECT_EQ(ReplaceOk(third, 2, {Event(third, "updated")}), ReplaceOutcome::kOutboxPending);
  const std::vector<kafka::OutgoingEvent> drained = Drain();
  ASSERT_EQ(drained.size(), 2u) << "the refused changes' events were never stored";
  EXPECT_EQ(drained[0].key, "req_1");
  EXPECT_EQ(drained[0].type, "submitted");
  EXPECT_EQ(drained[1].key, "req_2");
  EXPECT_EQ(drained[1].type, "updated");

  // Drained: the change with events goes through now.
  EXPECT_EQ(ReplaceOk(third, 2, {Event(third, "updated")}), ReplaceOutcome::kReplaced);
  got = GetOk("acme", "req_1");
  ASSERT_TRUE(got.has_value());
  EXPECT_TRUE(SameRequest(*got, third)) << got->DebugString();
  const std::vector<kafka::OutgoingEvent> after = Drain();
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].key, "req_1");
  EXPECT_EQ(after[0].type, "updated");
}

TEST_P(RequestStoreContractTest, ScanWalksATenantsRequestsNewestFirstInPages) {
  std::vector<v1::Request> acme;
  for (int i = 0; i < 5; ++i) {
    acme.push_back(MakeRequest("acme", "req_" + std::to_string(i), "key-" + std::to_string(i),
                               kEpoch + 10 * i));
    ASSERT_NO_FATAL_FAILURE(CreateOk(acme.back()));
  }
  // Created in the same instant as req_2: ties go by request id, highest first.
  acme.push_back(MakeRequest("acme", "req_2b", "key-2b", kEpoch + 20));
  ASSERT_NO_FATAL_FAILURE(CreateOk(acme.back()));
  ASSERT_NO_FATAL_FAILURE(CreateOk(MakeRequest("globex", "req_g", "key-g", kEpoch + 15)));

  EXPECT_THAT(ScanOk("acme", "", 100),
              ElementsAre("req_4", "req_3", "req_2b", "req_2", "req_1", "req_0"));

  // Paging: each page starts after the last member of the one before.
  EXPECT_THAT(ScanOk("acme", "", 2), ElementsAre("req_4", "req_3"));
  EXPECT_THAT(ScanOk("acme", IndexMember(acme[3]), 2), ElementsAre("req_2b", "req_2"));
  EXPECT_THAT(ScanOk("acme", IndexMember(acme[2]), 2), ElementsAre("req_1", "req_0"));
  EXPECT_THAT(ScanOk("acme", IndexMember(acme[0]), 2), IsEmpty());
  // `after` need not be a stored member: a page starts below it.
  v1::Request between = MakeRequest("acme", "req_x", "key-x", kEpoch + 25);
  EXPECT_THAT(ScanOk("acme", IndexMember(between), 1), ElementsAre("req_2b"));
  EXPECT_THAT(ScanOk("acme", "", 0), IsEmpty());

  // A scan shows the current version of a replaced request.
  const v1::Request renamed = Revised(acme[4], "Renamed");
  ASSERT_EQ(ReplaceOk(renamed, 1), ReplaceOutcome::kReplaced);
  auto page = Await(store_->Scan("acme", "", 1));
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->size(), 1u);
  EXPECT_TRUE(SameRequest((*page)[0], renamed)) << (*page)[0].DebugString();

  // Tenants never see each other's requests.
  EXPECT_THAT(ScanOk("globex", "", 100), ElementsAre("req_g"));
  EXPECT_THAT(ScanOk("initech", "", 100), IsEmpty());
}

INSTANTIATE_TEST_SUITE_P(FakeAndRedis, RequestStoreContractTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Redis" : "InMemory"; });

}  // namespace
}  // namespace flywheel::intake
