// The publishing calendar's logic on the in-memory slot store and a fake
// clock: spacing, blackouts, holds until approval, what fires at a slot's
// time and what the connectors answer.
#include "publishing.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "flywheel/async/io_threads.h"
#include "flywheel/async/spawn.h"
#include "flywheel/core/field_errors.h"
#include "flywheel/core/proto_time.h"
#include "flywheel/events/catalog.h"
#include "in_memory_slot_store.h"
#include "in_memory_timer_store.h"
#include "parsed_policy.h"

namespace flywheel::scheduler {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr char kPolicy[] = R"yaml(
tenants:
  acme:
    calendars:
      always: {always_open: true}
    default_calendar: always
    publishing:
      min_gap: {linkedin: 4h, x: 30m}
)yaml";

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);
const absl::Time kT = kNow + absl::Hours(24);

v1::ReserveSlotRequest Reserve(absl::Time at, const std::string& request = "req_1",
                               const std::string& destination = "linkedin:acme-corp") {
  v1::ReserveSlotRequest r;
  v1::PublishingSlot& slot = *r.mutable_slot();
  slot.set_tenant_id("acme");
  slot.set_request_id(request);
  slot.set_channel(common::v1::CHANNEL_SOCIAL_ORGANIC);
  slot.set_destination(destination);
  *slot.mutable_publish_time() = ToProtoTime(at);
  slot.set_owner_id("u_ana");
  slot.set_campaign_id("cmp_launch");
  slot.set_team_id("social");
  return r;
}

v1::CreateBlackoutRequest Freeze(absl::Time from, absl::Time to) {
  v1::CreateBlackoutRequest r;
  v1::Blackout& b = *r.mutable_blackout();
  b.set_tenant_id("acme");
  *b.mutable_range()->mutable_start_time() = ToProtoTime(from);
  *b.mutable_range()->mutable_end_time() = ToProtoTime(to);
  b.set_reason("brand freeze");
  b.set_creator_id("u_ops");
  return r;
}

std::vector<v1::HoldKind> Holds(const v1::PublishingSlot& slot) {
  std::vector<v1::HoldKind> out;
  for (const v1::SlotHold& h : slot.holds()) out.push_back(h.kind());
  return out;
}

class PublishingTest : public ::testing::Test {
 protected:
  template <typename T>
  T Await(asio::awaitable<T> task) {
    return async::BlockOn(io_.context(), std::move(task));
  }

  v1::PublishingSlot ReserveOk(const v1::ReserveSlotRequest& r) {
    auto slot = Await(publishing_.Reserve(r));
    EXPECT_TRUE(slot.ok()) << slot.status();
    return slot.ok() ? *slot : v1::PublishingSlot{};
  }

  void Approve(const std::string& request) {
    approval::v1::ApprovalCompleted done;
    done.set_tenant_id("acme");
    done.set_request_id(request);
    done.set_outcome(approval::v1::CHAIN_STATUS_APPROVED);
    done.set_version(3);
    ASSERT_TRUE(Await(publishing_.ApprovalCompleted(done)).ok());
  }

  std::vector<std::string> Listed(v1::ListSlotsRequest r = {}) {
    r.set_tenant_id("acme");
    if (!r.has_range()) {
      *r.mutable_range()->mutable_start_time() = ToProtoTime(kNow);
      *r.mutable_range()->mutable_end_time() = ToProtoTime(kNow + absl::Hours(24 * 30));
    }
    auto listed = Await(publishing_.List(r));
    EXPECT_TRUE(listed.ok()) << listed.status();
    std::vector<std::string> ids;
    if (listed.ok()) {
      for (const auto& s : listed->slots()) ids.push_back(s.slot_id());
    }
    return ids;
  }

  // What the claimer does at the clock's time: fires every slot point due
  // then; the ids of the PublishDue events that went out.
  std::vector<std::string> FireDue() {
    auto claimed = Await(points_.Claim(clock_.Now(), 100, absl::Seconds(30)));
    EXPECT_TRUE(claimed.ok()) << claimed.status();
    std::vector<std::string> ids;
    if (!claimed.ok()) return ids;
    for (const ClaimedTimer& c : *claimed) {
      auto event = Await(publishing_.FireTimer(c.timer));
      EXPECT_TRUE(event.ok()) << event.status();
      if (event.ok() && event->has_value()) ids.push_back((*event)->id);
      EXPECT_TRUE(Await(points_.Complete(c, std::nullopt)).ok());
    }
    return ids;
  }

  v1::PublishingSlot Stored(const std::string& slot_id) {
    auto stored = Await(store_.Get("acme", slot_id));
    EXPECT_TRUE(stored.ok() && stored->has_value());
    return stored.ok() && stored->has_value() ? **stored : v1::PublishingSlot{};
  }

  async::IoThreads io_{1};
  FakeClock clock_{kNow};
  PolicyHolder policy_{testing::ParsedPolicy(kPolicy)};
  InMemorySlotStore store_;
  InMemoryTimerStore points_;
  SlotTimers slot_timers_{points_};
  int next_id_ = 0;
  Publishing publishing_{policy_,        store_, slot_timers_,
                         "t.publishing", clock_, [this] { return absl::StrCat(++next_id_); }};
};

SlotPoint PointOf(const v1::PublishingSlot& slot) {
  return {.tenant_id = "acme",
          .slot_id = slot.slot_id(),
          .revision = slot.revision(),
          .at = PublishTimeOf(slot),
          .request_id = slot.request_id()};
}

TEST_F(PublishingTest, AReservedSlotIsHeldUntilItsRequestIsApproved) {
  const v1::PublishingSlot slot = ReserveOk(Reserve(kT));
  EXPECT_EQ(slot.slot_id(), "slot_1");
  EXPECT_EQ(slot.status(), v1::SLOT_STATUS_RESERVED);
  EXPECT_EQ(slot.revision(), 1);
  EXPECT_THAT(Holds(slot), ElementsAre(v1::HOLD_KIND_AWAITING_APPROVAL));
  Approve("req_1");
  auto shown = Await(publishing_.WithHolds(slot));
  ASSERT_TRUE(shown.ok());
  EXPECT_THAT(Holds(*shown), IsEmpty());

  approval::v1::ApprovalCompleted rejected;
  rejected.set_tenant_id("acme");
  rejected.set_request_id("req_1");
  rejected.set_outcome(approval::v1::CHAIN_STATUS_REJECTED);
  ASSERT_TRUE(Await(publishing_.ApprovalCompleted(rejected)).ok());
  shown = Await(publishing_.WithHolds(slot));
  EXPECT_THAT(Holds(*shown), ElementsAre(v1::HOLD_KIND_AWAITING_APPROVAL));
}

TEST_F(PublishingTest, ASlotTooCloseIsRefusedWithTheSlotInTheWayAndALaterFreeTime) {
  const v1::PublishingSlot first = ReserveOk(Reserve(kT));
  ReserveOk(Reserve(kT + absl::Hours(4), "req_2"));  // exactly the gap
  auto refused = Await(publishing_.Reserve(Reserve(kT + absl::Hours(1), "req_3")));
  ASSERT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition) << refused.status();
  const std::vector<v1::Conflict> conflicts = ConflictsOf(refused.status());
  ASSERT_EQ(conflicts.size(), 2u);
  EXPECT_EQ(conflicts[0].kind(), v1::CONFLICT_KIND_SLOT_TOO_CLOSE);
  EXPECT_EQ(conflicts[0].slot_id(), first.slot_id());
  EXPECT_EQ(FromProtoTime(conflicts[0].slot_time()), kT);
  EXPECT_EQ(FromProtoTime(conflicts[0].suggested_time()), kT + absl::Hours(8))
      << "past both slots in the way";
  EXPECT_THAT(refused.status().message(), ::testing::HasSubstr("4h"));
  EXPECT_THAT(Listed(), ElementsAre("slot_1", "slot_2")) << "nothing reserved";

  ReserveOk(Reserve(kT + absl::Hours(1), "req_3", "x:acme"));  // another destination
  auto near_x = Await(publishing_.Reserve(Reserve(kT + absl::Minutes(80), "req_4", "x:acme")));
  ASSERT_EQ(near_x.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(FromProtoTime(ConflictsOf(near_x.status())[0].suggested_time()), kT + absl::Minutes(90))
      << "x's gap is 30m, after its slot at +1h";
}

TEST_F(PublishingTest, ABlackoutRefusesNewSlotsAndNamesTheReservedOnesItHolds) {
  const v1::PublishingSlot inside = ReserveOk(Reserve(kT + absl::Hours(1)));
  ReserveOk(Reserve(kT + absl::Hours(10), "req_2"));
  auto created = Await(publishing_.CreateBlackout(Freeze(kT, kT + absl::Hours(6))));
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->blackout().blackout_id(), "blackout_3");
  ASSERT_EQ(created->affected_slots_size(), 1);
  EXPECT_EQ(created->affected_slots(0).slot_id(), inside.slot_id());
  EXPECT_THAT(Holds(created->affected_slots(0)),
              ElementsAre(v1::HOLD_KIND_AWAITING_APPROVAL, v1::HOLD_KIND_BLACKOUT));

  auto refused = Await(publishing_.Reserve(Reserve(kT + absl::Hours(5), "req_3", "x:acme")));
  ASSERT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  const std::vector<v1::Conflict> conflicts = ConflictsOf(refused.status());
  ASSERT_EQ(conflicts.size(), 1u);
  EXPECT_EQ(conflicts[0].kind(), v1::CONFLICT_KIND_BLACKOUT);
  EXPECT_EQ(conflicts[0].blackout_id(), "blackout_3");
  EXPECT_THAT(conflicts[0].description(), ::testing::HasSubstr("brand freeze"));
  EXPECT_EQ(FromProtoTime(conflicts[0].suggested_time()), kT + absl::Hours(6));

  // On linkedin the end of the blackout is too close to the slot at +10h?
  // No: 6h to 10h is 4h, the gap. A time inside the blackout next to the
  // slot at +1h is moved past both.
  auto linkedin = Await(publishing_.Reserve(Reserve(kT + absl::Hours(2), "req_4")));
  ASSERT_EQ(linkedin.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(FromProtoTime(ConflictsOf(linkedin.status())[0].suggested_time()), kT + absl::Hours(6));

  v1::DeleteBlackoutRequest del;
  del.set_tenant_id("acme");
  del.set_blackout_id("blackout_3");
  EXPECT_TRUE(Await(publishing_.DeleteBlackout(del)).ok());
  EXPECT_EQ(Await(publishing_.DeleteBlackout(del)).code(), absl::StatusCode::kNotFound);
  ReserveOk(Reserve(kT + absl::Hours(5), "req_3", "x:acme"));
}

TEST_F(PublishingTest, BadInputNamesTheFieldAndReservesNothing) {
  auto past = Await(publishing_.Reserve(Reserve(kNow)));
  ASSERT_EQ(past.status().code(), absl::StatusCode::kInvalidArgument);
  std::vector<FieldViolation> fields = FieldViolationsOf(past.status());
  ASSERT_EQ(fields.size(), 1u);
  EXPECT_EQ(fields[0].field, "slot.publish_time");
  EXPECT_THAT(fields[0].reason, ::testing::HasSubstr("not in the future"));

  v1::ReserveSlotRequest empty;
  auto refused = Await(publishing_.Reserve(empty));
  ASSERT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  fields = FieldViolationsOf(refused.status());
  std::vector<std::string> names;
  for (const auto& f : fields) names.push_back(f.field);
  EXPECT_THAT(names, ElementsAre("slot.tenant_id", "slot.request_id", "slot.channel",
                                 "slot.destination", "slot.publish_time"));
  v1::ReserveSlotRequest stranger = Reserve(kT);
  stranger.mutable_slot()->set_tenant_id("globex");
  EXPECT_EQ(Await(publishing_.Reserve(stranger)).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Listed(), IsEmpty());

  v1::CreateBlackoutRequest backwards = Freeze(kT, kT - absl::Hours(1));
  auto blackout = Await(publishing_.CreateBlackout(backwards));
  ASSERT_EQ(blackout.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FieldViolationsOf(blackout.status())[0].field, "blackout.range.end_time");
}

TEST_F(PublishingTest, CheckReportsConflictsAsDataAndAPastTimeAsOutOfRange) {
  ReserveOk(Reserve(kT));
  v1::CheckSlotRequest check;
  check.set_tenant_id("acme");
  check.set_channel(common::v1::CHANNEL_SOCIAL_ORGANIC);
  check.set_destination("linkedin:acme-corp");
  *check.mutable_publish_time() = ToProtoTime(kT + absl::Hours(3));
  auto conflicts = Await(publishing_.Check(check));
  ASSERT_TRUE(conflicts.ok()) << conflicts.status();
  ASSERT_EQ(conflicts->size(), 1u);
  EXPECT_EQ(conflicts->at(0).slot_id(), "slot_1");
  check.set_ignore_slot_id("slot_1");
  EXPECT_THAT(*Await(publishing_.Check(check)), IsEmpty()) << "checking a move of slot_1";
  *check.mutable_publish_time() = ToProtoTime(kNow - absl::Hours(1));
  conflicts = Await(publishing_.Check(check));
  ASSERT_TRUE(conflicts.ok());
  ASSERT_EQ(conflicts->size(), 1u);
  EXPECT_EQ(conflicts->at(0).kind(), v1::CONFLICT_KIND_OUT_OF_RANGE);
  EXPECT_GT(FromProtoTime(conflicts->at(0).suggested_time()), kNow);
  EXPECT_THAT(Listed(), ElementsAre("slot_1")) << "a check reserves nothing";
}

TEST_F(PublishingTest, ARetryWithTheSameKeyGetsTheFirstSlot) {
  v1::ReserveSlotRequest r = Reserve(kT);
  r.set_idempotency_key("calendar-ui-7f3a");
  const v1::PublishingSlot first = ReserveOk(r);
  EXPECT_THAT(first.slot_id(), ::testing::StartsWith("slot_"));
  const v1::PublishingSlot again = ReserveOk(r);
  EXPECT_EQ(again.slot_id(), first.slot_id());
  EXPECT_EQ(again.revision(), 1);
  EXPECT_EQ(Listed().size(), 1u);
}

TEST_F(PublishingTest, RescheduleMovesChecksAndRefusesWhatHasGoneOut) {
  const v1::PublishingSlot a = ReserveOk(Reserve(kT));
  ReserveOk(Reserve(kT + absl::Hours(10), "req_2"));
  v1::RescheduleSlotRequest move;
  move.set_tenant_id("acme");
  move.set_slot_id(a.slot_id());
  *move.mutable_publish_time() = ToProtoTime(kT + absl::Hours(8));
  auto refused = Await(publishing_.Reschedule(move));
  ASSERT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(FromProtoTime(ConflictsOf(refused.status())[0].suggested_time()), kT + absl::Hours(14));
  *move.mutable_publish_time() = ToProtoTime(kT + absl::Hours(2));
  auto moved = Await(publishing_.Reschedule(move));
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_EQ(moved->revision(), 2);
  EXPECT_EQ(FromProtoTime(moved->publish_time()), kT + absl::Hours(2));
  move.set_expected_revision(1);
  EXPECT_EQ(Await(publishing_.Reschedule(move)).status().code(), absl::StatusCode::kAborted);
  move.set_expected_revision(0);
  *move.mutable_publish_time() = ToProtoTime(kNow - absl::Minutes(1));
  EXPECT_EQ(Await(publishing_.Reschedule(move)).status().code(),
            absl::StatusCode::kInvalidArgument);

  v1::CancelSlotRequest cancel;
  cancel.set_tenant_id("acme");
  cancel.set_slot_id(a.slot_id());
  auto cancelled = Await(publishing_.Cancel(cancel));
  ASSERT_TRUE(cancelled.ok()) << cancelled.status();
  EXPECT_EQ(cancelled->status(), v1::SLOT_STATUS_CANCELLED);
  EXPECT_EQ(Await(publishing_.Cancel(cancel))->revision(), cancelled->revision()) << "once";
  *move.mutable_publish_time() = ToProtoTime(kT);
  EXPECT_EQ(Await(publishing_.Reschedule(move)).status().code(),
            absl::StatusCode::kFailedPrecondition);
  ReserveOk(Reserve(kT + absl::Hours(1), "req_3"));  // its place is free
  cancel.set_slot_id("slot_404");
  EXPECT_EQ(Await(publishing_.Cancel(cancel)).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(PublishingTest, AtItsTimeAnApprovedSlotIsDueAndAConnectorPublishesIt) {
  const v1::PublishingSlot slot = ReserveOk(Reserve(kT));
  Approve("req_1");
  clock_.Set(kT);
  auto fired = Await(publishing_.Fire(PointOf(slot)));
  ASSERT_TRUE(fired.ok()) << fired.status();
  ASSERT_TRUE(fired->has_value());
  EXPECT_EQ((*fired)->slot.status(), v1::SLOT_STATUS_DUE);
  EXPECT_EQ((*fired)->slot.revision(), 2);
  ASSERT_TRUE((*fired)->event.has_value());
  const kafka::OutgoingEvent& event = *(*fired)->event;
  EXPECT_EQ(event.topic, "t.publishing");
  EXPECT_EQ(event.type, events::kPublishDue);
  EXPECT_EQ(event.key, "req_1");
  EXPECT_EQ(event.id, "evt_publish_acme_slot_1_r1");
  v1::PublishDue due;
  ASSERT_TRUE(due.ParseFromString(event.data));
  EXPECT_EQ(due.slot().destination(), "linkedin:acme-corp");
  EXPECT_EQ(due.slot().revision(), 2);
  EXPECT_EQ(due.content_version(), 3u) << "the approved asset version";

  auto again = Await(publishing_.Fire(PointOf(slot)));
  ASSERT_TRUE(again.ok() && again->has_value());
  EXPECT_EQ((*again)->event->id, event.id) << "a second firing is the same event";

  v1::PublishFailed stale;
  stale.set_tenant_id("acme");
  stale.set_slot_id(slot.slot_id());
  stale.set_slot_revision(1);
  stale.set_reason("token expired");
  ASSERT_TRUE(Await(publishing_.Failed(stale)).ok());
  v1::PublishDone done;
  done.set_tenant_id("acme");
  done.set_slot_id(slot.slot_id());
  done.set_slot_revision(2);
  done.set_url("https://www.linkedin.com/feed/update/urn:li:share:1");
  ASSERT_TRUE(Await(publishing_.Done(done)).ok());
  auto stored = Await(store_.Get("acme", slot.slot_id()));
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->status(), v1::SLOT_STATUS_PUBLISHED) << "the stale failure was ignored";
  EXPECT_EQ((*stored)->outcome_detail(), done.url());
  ASSERT_TRUE(Await(publishing_.Failed(stale)).ok());
  EXPECT_EQ((*Await(store_.Get("acme", slot.slot_id())))->status(), v1::SLOT_STATUS_PUBLISHED);
}

TEST_F(PublishingTest, AtItsTimeAHeldSlotPublishesNothingAndMustBeMoved) {
  const v1::PublishingSlot unapproved = ReserveOk(Reserve(kT));
  const v1::PublishingSlot frozen = ReserveOk(Reserve(kT + absl::Hours(5), "req_2"));
  Approve("req_2");
  ASSERT_TRUE(
      Await(publishing_.CreateBlackout(Freeze(kT + absl::Hours(5), kT + absl::Hours(6)))).ok());
  clock_.Set(kT + absl::Hours(5));
  for (const auto& [slot, why] :
       {std::pair{unapproved, v1::HOLD_KIND_AWAITING_APPROVAL}, {frozen, v1::HOLD_KIND_BLACKOUT}}) {
    auto fired = Await(publishing_.Fire(PointOf(slot)));
    ASSERT_TRUE(fired.ok() && fired->has_value()) << fired.status();
    EXPECT_EQ((*fired)->slot.status(), v1::SLOT_STATUS_HELD);
    EXPECT_THAT(Holds((*fired)->slot), ElementsAre(why));
    EXPECT_FALSE((*fired)->event.has_value()) << "nothing goes out";
  }
  v1::RescheduleSlotRequest move;
  move.set_tenant_id("acme");
  move.set_slot_id(unapproved.slot_id());
  *move.mutable_publish_time() = ToProtoTime(kT + absl::Hours(7));
  auto moved = Await(publishing_.Reschedule(move));
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_EQ(moved->status(), v1::SLOT_STATUS_RESERVED);
  EXPECT_THAT(Holds(*moved), ElementsAre(v1::HOLD_KIND_AWAITING_APPROVAL));
  auto old = Await(publishing_.Fire(PointOf(unapproved)));
  ASSERT_TRUE(old.ok());
  EXPECT_FALSE(old->has_value()) << "the point of the old time does nothing";
}

TEST_F(PublishingTest, EachSlotGoesOutOnceAtItsTimeAndOnlyAtItsLatestTime) {
  const v1::PublishingSlot kept = ReserveOk(Reserve(kT));
  const v1::PublishingSlot moved = ReserveOk(Reserve(kT + absl::Hours(5), "req_2"));
  const v1::PublishingSlot dropped = ReserveOk(Reserve(kT + absl::Hours(10), "req_3"));
  for (const char* request : {"req_1", "req_2", "req_3"}) Approve(request);
  v1::RescheduleSlotRequest move;
  move.set_tenant_id("acme");
  move.set_slot_id(moved.slot_id());
  *move.mutable_publish_time() = ToProtoTime(kT + absl::Hours(20));
  ASSERT_TRUE(Await(publishing_.Reschedule(move)).ok());
  v1::CancelSlotRequest cancel;
  cancel.set_tenant_id("acme");
  cancel.set_slot_id(dropped.slot_id());
  ASSERT_TRUE(Await(publishing_.Cancel(cancel)).ok());

  clock_.Set(kT - absl::Seconds(1));
  EXPECT_THAT(FireDue(), IsEmpty()) << "nothing before its time";
  clock_.Set(kT);
  EXPECT_THAT(FireDue(), ElementsAre("evt_publish_acme_" + kept.slot_id() + "_r1"));
  EXPECT_EQ(Stored(kept.slot_id()).status(), v1::SLOT_STATUS_DUE);
  clock_.Set(kT + absl::Hours(19));
  EXPECT_THAT(FireDue(), IsEmpty()) << "not at the old time, and not the cancelled one";
  EXPECT_EQ(Stored(dropped.slot_id()).status(), v1::SLOT_STATUS_CANCELLED);
  clock_.Set(kT + absl::Hours(20));
  EXPECT_THAT(FireDue(), ElementsAre("evt_publish_acme_" + moved.slot_id() + "_r2"));
  clock_.Set(kT + absl::Hours(48));
  EXPECT_THAT(FireDue(), IsEmpty()) << "each once";
}

TEST_F(PublishingTest, APointThatComesBeforeItsSlotIsWrittenIsTriedAgainWhileYoung) {
  const SlotPoint early{.tenant_id = "acme", .slot_id = "slot_1", .revision = 1, .at = kT};
  clock_.Set(kT);
  EXPECT_EQ(Await(publishing_.Fire(early)).status().code(), absl::StatusCode::kUnavailable)
      << "the reserve that armed it may not have written the slot yet";
  clock_.Set(kNow);
  const v1::PublishingSlot slot = ReserveOk(Reserve(kT));
  Approve("req_1");
  clock_.Set(kT + absl::Seconds(30));
  auto fired = Await(publishing_.Fire(PointOf(slot)));
  ASSERT_TRUE(fired.ok() && fired->has_value()) << fired.status();
  EXPECT_EQ((*fired)->slot.status(), v1::SLOT_STATUS_DUE) << "written now: it goes out";

  const SlotPoint lost{.tenant_id = "acme", .slot_id = "slot_9", .revision = 1, .at = kT};
  clock_.Set(kT + kUnwrittenPointLife);
  auto dropped = Await(publishing_.Fire(lost));
  ASSERT_TRUE(dropped.ok()) << dropped.status();
  EXPECT_FALSE(dropped->has_value()) << "a write that never came: the point does nothing";
}

TEST_F(PublishingTest, ASlotHeldByABlackoutGoesOutWhenTheBlackoutEnds) {
  const v1::PublishingSlot slot = ReserveOk(Reserve(kT));
  Approve("req_1");
  ASSERT_TRUE(
      Await(publishing_.CreateBlackout(Freeze(kT - absl::Hours(1), kT + absl::Hours(2)))).ok());
  clock_.Set(kT);
  EXPECT_THAT(FireDue(), IsEmpty());
  auto held = Await(publishing_.WithHolds(Stored(slot.slot_id())));
  ASSERT_TRUE(held.ok()) << held.status();
  EXPECT_EQ(held->status(), v1::SLOT_STATUS_HELD);
  EXPECT_THAT(Holds(*held), ElementsAre(v1::HOLD_KIND_BLACKOUT)) << "the hold shows on the slot";
  clock_.Set(kT + absl::Hours(2) - absl::Seconds(1));
  EXPECT_THAT(FireDue(), IsEmpty());
  clock_.Set(kT + absl::Hours(2));
  EXPECT_THAT(FireDue(), ElementsAre("evt_publish_acme_" + slot.slot_id() + "_r2"));
  EXPECT_EQ(Stored(slot.slot_id()).status(), v1::SLOT_STATUS_DUE);
}

TEST_F(PublishingTest, DeletingTheBlackoutReleasesWhatItHeldUnlessCancelled) {
  const v1::PublishingSlot slot = ReserveOk(Reserve(kT));
  const v1::PublishingSlot other = ReserveOk(Reserve(kT + absl::Hours(1), "req_2", "x:acme"));
  Approve("req_1");
  Approve("req_2");
  auto blackout =
      Await(publishing_.CreateBlackout(Freeze(kT - absl::Hours(1), kT + absl::Hours(24))));
  ASSERT_TRUE(blackout.ok()) << blackout.status();
  clock_.Set(kT + absl::Hours(1));
  EXPECT_THAT(FireDue(), IsEmpty());
  v1::CancelSlotRequest cancel;
  cancel.set_tenant_id("acme");
  cancel.set_slot_id(other.slot_id());
  ASSERT_TRUE(Await(publishing_.Cancel(cancel)).ok()) << "a held slot may be cancelled";
  clock_.Set(kT + absl::Hours(3));
  v1::DeleteBlackoutRequest lift;
  lift.set_tenant_id("acme");
  lift.set_blackout_id(blackout->blackout().blackout_id());
  ASSERT_TRUE(Await(publishing_.DeleteBlackout(lift)).ok());
  EXPECT_THAT(FireDue(), ElementsAre("evt_publish_acme_" + slot.slot_id() + "_r2"));
  clock_.Set(kT + absl::Hours(24));
  EXPECT_THAT(FireDue(), IsEmpty()) << "the blackout's end finds it decided";
  EXPECT_EQ(Stored(other.slot_id()).status(), v1::SLOT_STATUS_CANCELLED);
}

TEST_F(PublishingTest, ListFiltersAndPages) {
  for (int i = 0; i < 5; ++i) ReserveOk(Reserve(kT + absl::Hours(5 * i), absl::StrCat("req_", i)));
  v1::ReserveSlotRequest email = Reserve(kT, "req_mail", "email:newsletter");
  email.mutable_slot()->set_channel(common::v1::CHANNEL_EMAIL);
  email.mutable_slot()->set_team_id("lifecycle");
  ReserveOk(email);
  v1::ListSlotsRequest r;
  r.add_channels(common::v1::CHANNEL_EMAIL);
  EXPECT_THAT(Listed(r), ElementsAre("slot_6"));
  r.Clear();
  r.set_team_id("social");
  r.set_page_size(2);
  r.set_tenant_id("acme");
  *r.mutable_range()->mutable_start_time() = ToProtoTime(kNow);
  *r.mutable_range()->mutable_end_time() = ToProtoTime(kNow + absl::Hours(24 * 30));
  std::vector<std::string> seen;
  for (int page = 0; page < 5; ++page) {
    auto listed = Await(publishing_.List(r));
    ASSERT_TRUE(listed.ok()) << listed.status();
    for (const auto& s : listed->slots()) seen.push_back(s.slot_id());
    if (listed->next_page_token().empty()) break;
    r.set_page_token(listed->next_page_token());
  }
  EXPECT_THAT(seen, ElementsAre("slot_1", "slot_2", "slot_3", "slot_4", "slot_5"));
  r.set_page_token("garbage");
  EXPECT_EQ(Await(publishing_.List(r)).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace flywheel::scheduler
