// The contract of SlotStore, run against both implementations: the Redis
// store on a real redis-server, and the in-memory fake the publishing
// calendar's unit tests use. A case that passes for one and fails for the
// other is a fake that lies.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "flywheel/async/io_threads.h"
#include "flywheel/async/spawn.h"
#include "flywheel/core/proto_time.h"
#include "flywheel/redis/async_client.h"
#include "flywheel/redis/testing/redis_test_env.h"
#include "in_memory_slot_store.h"
#include "redis_slot_store.h"

namespace flywheel::scheduler {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

const absl::Time kT0 = absl::FromUnixMillis(1'800'000'000'000);
constexpr absl::Duration kGap = absl::Hours(4);

v1::PublishingSlot Slot(const std::string& id, absl::Time at,
                        const std::string& destination = "linkedin:acme-corp",
                        common::v1::Channel channel = common::v1::CHANNEL_SOCIAL_ORGANIC) {
  v1::PublishingSlot slot;
  slot.set_tenant_id("acme");
  slot.set_slot_id(id);
  slot.set_request_id("req_" + id);
  slot.set_channel(channel);
  slot.set_destination(destination);
  *slot.mutable_publish_time() = ToProtoTime(at);
  slot.set_status(v1::SLOT_STATUS_RESERVED);
  slot.set_owner_id("u_ana");
  slot.set_campaign_id("cmp_launch");
  slot.set_revision(1);
  return slot;
}

v1::Blackout Blackout(const std::string& id, absl::Time from, absl::Time to) {
  v1::Blackout b;
  b.set_tenant_id("acme");
  b.set_blackout_id(id);
  *b.mutable_range()->mutable_start_time() = ToProtoTime(from);
  *b.mutable_range()->mutable_end_time() = ToProtoTime(to);
  b.set_reason("launch embargo");
  return b;
}

std::vector<std::string> Ids(const std::vector<v1::PublishingSlot>& slots) {
  std::vector<std::string> out;
  for (const v1::PublishingSlot& s : slots) out.push_back(s.slot_id());
  return out;
}

std::vector<std::string> Ids(const std::vector<v1::Blackout>& blackouts) {
  std::vector<std::string> out;
  for (const v1::Blackout& b : blackouts) out.push_back(b.blackout_id());
  return out;
}

// Param: true runs RedisSlotStore, false InMemorySlotStore.
class SlotStoreContractTest : public redis::RedisTestEnv,
                              public ::testing::WithParamInterface<bool> {
 protected:
  void SetUp() override {
    RedisTestEnv::SetUp();
    if (HasFatalFailure()) return;
    if (GetParam()) {
      auto created = redis::AsyncClient::Create(io_.context(), {.connection = options()});
      ASSERT_TRUE(created.ok()) << created.status();
      client_ = *std::move(created);
      store_ = std::make_unique<RedisSlotStore>(*client_, prefix());
    } else {
      store_ = std::make_unique<InMemorySlotStore>();
    }
  }

  void TearDown() override {
    io_.Stop();
    RedisTestEnv::TearDown();
  }

  template <typename T>
  T Await(asio::awaitable<T> task) {
    return async::BlockOn(io_.context(), std::move(task));
  }

  PutOutcome PutOk(const v1::PublishingSlot& slot, int64_t expected = 0,
                   std::optional<absl::Duration> gap = kGap) {
    auto put = Await(store_->Put(slot, expected, gap));
    EXPECT_TRUE(put.ok()) << put.status();
    return put.ok() ? *put : PutOutcome{};
  }

  std::optional<v1::PublishingSlot> GetOk(const std::string& id) {
    auto slot = Await(store_->Get("acme", id));
    EXPECT_TRUE(slot.ok()) << slot.status();
    return slot.ok() ? *slot : std::nullopt;
  }

  std::vector<v1::PublishingSlot> ListOk(absl::Time from, absl::Time to, absl::Time after_time,
                                         const std::string& after_id, size_t limit) {
    auto listed = Await(store_->List("acme", from, to, after_time, after_id, limit));
    EXPECT_TRUE(listed.ok()) << listed.status();
    return listed.ok() ? *listed : std::vector<v1::PublishingSlot>{};
  }

  async::IoThreads io_{1};
  std::unique_ptr<redis::AsyncClient> client_;
  std::unique_ptr<SlotStore> store_;
};

TEST_P(SlotStoreContractTest, ReservesAndReadsBackAndARetriedCreateReturnsTheFirst) {
  v1::PublishingSlot slot = Slot("s1", kT0 + absl::Microseconds(1500));
  const PutOutcome put = PutOk(slot);
  EXPECT_FALSE(put.existed);
  EXPECT_TRUE(put.obstacles.empty());
  EXPECT_EQ(PublishTimeOf(put.slot), kT0 + absl::Milliseconds(1)) << "kept to the millisecond";
  ASSERT_TRUE(GetOk("s1").has_value());
  EXPECT_EQ(GetOk("s1")->SerializeAsString(), put.slot.SerializeAsString());

  v1::PublishingSlot again = Slot("s1", kT0 + absl::Hours(9));
  const PutOutcome retried = PutOk(again);
  EXPECT_TRUE(retried.existed);
  EXPECT_EQ(PublishTimeOf(retried.slot), kT0 + absl::Milliseconds(1)) << "the first one";
  EXPECT_EQ(GetOk("nope"), std::nullopt);
}

TEST_P(SlotStoreContractTest, SlotsCloserThanTheGapOnOneDestinationAreInTheWay) {
  PutOk(Slot("s1", kT0));
  PutOk(Slot("s2", kT0 + kGap));  // exactly the gap: allowed
  const PutOutcome before = PutOk(Slot("s3", kT0 - kGap + absl::Milliseconds(1)));
  EXPECT_THAT(Ids(before.obstacles.too_close), ElementsAre("s1"));
  const PutOutcome between = PutOk(Slot("s4", kT0 + kGap / 2));
  EXPECT_THAT(Ids(between.obstacles.too_close), ElementsAre("s1", "s2"));
  EXPECT_EQ(GetOk("s4"), std::nullopt) << "nothing reserved";
  EXPECT_FALSE(PutOk(Slot("s5", kT0 + absl::Minutes(1), "linkedin:acme-careers")).existed)
      << "another destination";
  EXPECT_THAT(Ids(PutOk(Slot("s5", kT0), 0, absl::ZeroDuration()).obstacles.too_close), IsEmpty());

  auto checked = Await(store_->Check(Slot("s1", kT0 - absl::Hours(1)), kGap));
  ASSERT_TRUE(checked.ok()) << checked.status();
  EXPECT_THAT(Ids(checked->too_close), IsEmpty()) << "a slot is not in its own way";
  checked = Await(store_->Check(Slot("other", kT0 - absl::Hours(1)), kGap));
  ASSERT_TRUE(checked.ok()) << checked.status();
  EXPECT_THAT(Ids(checked->too_close), ElementsAre("s1"));
}

TEST_P(SlotStoreContractTest, MovesCheckTheNewTimeAndRevisions) {
  PutOk(Slot("s1", kT0));
  PutOk(Slot("s2", kT0 + absl::Hours(8)));
  v1::PublishingSlot moved = Slot("s1", kT0 + absl::Hours(6));
  moved.set_revision(2);
  EXPECT_THAT(Ids(PutOk(moved, 1).obstacles.too_close), ElementsAre("s2"));
  EXPECT_EQ(PublishTimeOf(*GetOk("s1")), kT0) << "a refused move changes nothing";
  *moved.mutable_publish_time() = ToProtoTime(kT0 + absl::Hours(2));
  EXPECT_TRUE(PutOk(moved, 1).obstacles.empty()) << "its own old time is not in the way";
  EXPECT_EQ(GetOk("s1")->revision(), 2);
  EXPECT_EQ(Await(store_->Put(moved, 1, kGap)).status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(Await(store_->Put(Slot("zz", kT0), 3, kGap)).status().code(),
            absl::StatusCode::kNotFound);
  // Back at kT0 is free again: the move left the old place.
  EXPECT_TRUE(PutOk(Slot("s3", kT0 - absl::Hours(2))).obstacles.empty());
}

TEST_P(SlotStoreContractTest, OnlyOccupyingSlotsKeepOthersAway) {
  int i = 0;
  for (v1::SlotStatus status :
       {v1::SLOT_STATUS_CANCELLED, v1::SLOT_STATUS_HELD, v1::SLOT_STATUS_FAILED,
        v1::SLOT_STATUS_DUE, v1::SLOT_STATUS_PUBLISHED, v1::SLOT_STATUS_RESERVED}) {
    SCOPED_TRACE(v1::SlotStatus_Name(status));
    const absl::Time at = kT0 + absl::Hours(100) * i++;
    const std::string id = "s_" + v1::SlotStatus_Name(status);
    PutOk(Slot(id, at));
    v1::PublishingSlot settled = *GetOk(id);
    settled.set_status(status);
    settled.set_revision(2);
    EXPECT_TRUE(PutOk(settled, 1, std::nullopt).obstacles.empty());
    EXPECT_EQ(GetOk(id)->status(), status);
    auto checked = Await(store_->Check(Slot("probe", at + absl::Hours(1)), kGap));
    ASSERT_TRUE(checked.ok()) << checked.status();
    auto on = Await(store_->OnDestination("acme", "linkedin:acme-corp", at - kGap, at + kGap));
    ASSERT_TRUE(on.ok()) << on.status();
    if (Occupies(status)) {
      EXPECT_THAT(Ids(checked->too_close), ElementsAre(id));
      EXPECT_THAT(Ids(*on), ElementsAre(id));
    } else {
      EXPECT_THAT(Ids(checked->too_close), IsEmpty());
      EXPECT_THAT(Ids(*on), IsEmpty());
    }
  }
}

TEST_P(SlotStoreContractTest, BlackoutsBlockTheirChannelsAndDestinationsOnly) {
  v1::Blackout all = Blackout("b_all", kT0, kT0 + absl::Hours(2));
  v1::Blackout email = Blackout("b_email", kT0 + absl::Hours(10), kT0 + absl::Hours(12));
  email.add_channels(common::v1::CHANNEL_EMAIL);
  v1::Blackout page = Blackout("b_page", kT0 + absl::Hours(20), kT0 + absl::Hours(22));
  page.add_destinations("linkedin:acme-corp");
  for (const v1::Blackout& b : {all, email, page}) ASSERT_TRUE(Await(store_->PutBlackout(b)).ok());

  auto blocked = [&](const v1::PublishingSlot& slot) {
    auto checked = Await(store_->Check(slot, kGap));
    EXPECT_TRUE(checked.ok()) << checked.status();
    return checked.ok() ? Ids(checked->blackouts) : std::vector<std::string>{};
  };
  EXPECT_THAT(blocked(Slot("a", kT0)), ElementsAre("b_all"));
  EXPECT_THAT(blocked(Slot("a", kT0 + absl::Hours(2))), IsEmpty()) << "the end is outside";
  EXPECT_THAT(blocked(Slot("a", kT0 + absl::Hours(11))), IsEmpty()) << "not email";
  EXPECT_THAT(blocked(Slot("a", kT0 + absl::Hours(11), "email:news", common::v1::CHANNEL_EMAIL)),
              ElementsAre("b_email"));
  EXPECT_THAT(blocked(Slot("a", kT0 + absl::Hours(21))), ElementsAre("b_page"));
  EXPECT_THAT(blocked(Slot("a", kT0 + absl::Hours(21), "x:acme")), IsEmpty());
  const PutOutcome refused = PutOk(Slot("a", kT0 + absl::Hours(1)));
  EXPECT_THAT(Ids(refused.obstacles.blackouts), ElementsAre("b_all"));
  EXPECT_EQ(GetOk("a"), std::nullopt);
  EXPECT_TRUE(PutOk(Slot("a", kT0 + absl::Hours(1)), 0, std::nullopt).obstacles.empty())
      << "a write without a check is not blocked";

  auto listed = Await(store_->Blackouts("acme"));
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_THAT(Ids(*listed), ElementsAre("b_all", "b_email", "b_page"));
  EXPECT_EQ(listed->at(1).channels_size(), 1);
  auto deleted = Await(store_->DeleteBlackout("acme", "b_all"));
  ASSERT_TRUE(deleted.ok() && *deleted);
  deleted = Await(store_->DeleteBlackout("acme", "b_all"));
  ASSERT_TRUE(deleted.ok());
  EXPECT_FALSE(*deleted);
  EXPECT_THAT(blocked(Slot("b", kT0)), IsEmpty());
}

TEST_P(SlotStoreContractTest, ABlackoutAnswersTheReservedSlotsItHolds) {
  PutOk(Slot("s1", kT0));
  PutOk(Slot("s2", kT0 + absl::Hours(5)));
  PutOk(Slot("s3", kT0 + absl::Hours(6), "email:news", common::v1::CHANNEL_EMAIL));
  PutOk(Slot("s4", kT0 + absl::Hours(20)));
  v1::PublishingSlot cancelled = *GetOk("s2");
  cancelled.set_status(v1::SLOT_STATUS_CANCELLED);
  cancelled.set_revision(2);
  PutOk(cancelled, 1, std::nullopt);
  auto held = Await(store_->PutBlackout(Blackout("b1", kT0, kT0 + absl::Hours(20))));
  ASSERT_TRUE(held.ok()) << held.status();
  EXPECT_THAT(Ids(*held), ElementsAre("s1", "s3")) << "reserved, inside, by time";
  v1::Blackout social = Blackout("b2", kT0, kT0 + absl::Hours(21));
  social.add_channels(common::v1::CHANNEL_SOCIAL_ORGANIC);
  held = Await(store_->PutBlackout(social));
  ASSERT_TRUE(held.ok()) << held.status();
  EXPECT_THAT(Ids(*held), ElementsAre("s1", "s4"));
}

TEST_P(SlotStoreContractTest, ListPagesByTimeThenId) {
  for (const char* id : {"c", "a", "b"}) PutOk(Slot(id, kT0), 0, std::nullopt);
  PutOk(Slot("d", kT0 + absl::Hours(1)), 0, std::nullopt);
  PutOk(Slot("e", kT0 + absl::Hours(3)), 0, std::nullopt);
  PutOk(Slot("early", kT0 - absl::Hours(1)), 0, std::nullopt);
  const absl::Time to = kT0 + absl::Hours(3);
  EXPECT_THAT(Ids(ListOk(kT0, to, absl::InfinitePast(), "", 10)), ElementsAre("a", "b", "c", "d"));
  EXPECT_THAT(Ids(ListOk(kT0, to, absl::InfinitePast(), "", 2)), ElementsAre("a", "b"));
  EXPECT_THAT(Ids(ListOk(kT0, to, kT0, "b", 2)), ElementsAre("c", "d"));
  EXPECT_THAT(Ids(ListOk(kT0, to, kT0 + absl::Hours(1), "d", 2)), IsEmpty());
  EXPECT_THAT(Ids(ListOk(kT0, to, kT0, "bb", 10)), ElementsAre("c", "d")) << "a gone cursor";
}

TEST_P(SlotStoreContractTest, ListReadsPastManySlotsAtOneTime) {
  for (int i = 0; i < 250; ++i) {
    PutOk(Slot(absl::StrCat("s", 1000 + i), kT0), 0, std::nullopt);
  }
  std::vector<std::string> seen;
  absl::Time after_time = absl::InfinitePast();
  std::string after_id;
  for (int page = 0; page < 10; ++page) {
    std::vector<v1::PublishingSlot> got =
        ListOk(kT0, kT0 + absl::Hours(1), after_time, after_id, 70);
    if (got.empty()) break;
    for (const auto& s : got) seen.push_back(s.slot_id());
    after_time = PublishTimeOf(got.back());
    after_id = got.back().slot_id();
  }
  ASSERT_EQ(seen.size(), 250u);
  EXPECT_EQ(seen.front(), "s1000");
  EXPECT_EQ(seen.back(), "s1249");
}

TEST_P(SlotStoreContractTest, ApprovalsAreRecordedWithTheirVersionAndWithdrawn) {
  auto approved = Await(store_->ApprovedVersion("acme", "req_1"));
  ASSERT_TRUE(approved.ok());
  EXPECT_EQ(*approved, std::nullopt);
  ASSERT_TRUE(Await(store_->SetApproved("acme", "req_1", 2)).ok());
  ASSERT_TRUE(Await(store_->SetApproved("acme", "req_1", 2)).ok()) << "twice is once";
  EXPECT_EQ(*Await(store_->ApprovedVersion("acme", "req_1")), 2u);
  EXPECT_EQ(*Await(store_->ApprovedVersion("globex", "req_1")), std::nullopt) << "per tenant";
  ASSERT_TRUE(Await(store_->SetApproved("acme", "req_1", 0)).ok()) << "tier 0: no version";
  EXPECT_EQ(*Await(store_->ApprovedVersion("acme", "req_1")), 0u);
  ASSERT_TRUE(Await(store_->SetApproved("acme", "req_1", std::nullopt)).ok());
  EXPECT_EQ(*Await(store_->ApprovedVersion("acme", "req_1")), std::nullopt);
}

TEST_P(SlotStoreContractTest, BadInputIsRefused) {
  v1::PublishingSlot slot = Slot("s1", kT0);
  slot.clear_tenant_id();
  EXPECT_EQ(Await(store_->Put(slot, 0, kGap)).status().code(), absl::StatusCode::kInvalidArgument);
  slot = Slot("", kT0);
  EXPECT_EQ(Await(store_->Put(slot, 0, kGap)).status().code(), absl::StatusCode::kInvalidArgument);
  slot = Slot("s1", kT0, "");
  EXPECT_EQ(Await(store_->Put(slot, 0, kGap)).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Await(store_->PutBlackout(Blackout("b", kT0, kT0 - absl::Seconds(1)))).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Await(store_->PutBlackout(Blackout("", kT0, kT0))).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(GetOk("s1"), std::nullopt);
}

INSTANTIATE_TEST_SUITE_P(FakeAndRedis, SlotStoreContractTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Redis" : "InMemory"; });

}  // namespace
}  // namespace flywheel::scheduler
