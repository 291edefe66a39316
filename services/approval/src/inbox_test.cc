#include "inbox.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "flywheel/core/proto_time.h"

namespace flywheel::approval {
namespace {

using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::IsEmpty;

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);

v1::ApprovalChain PendingChain() {
  v1::ApprovalChain c;
  c.set_request_id("req_1");
  c.set_status(v1::CHAIN_STATUS_PENDING);
  v1::ApprovalStep* brand = c.add_steps();
  brand->set_step_id("brand");
  brand->set_status(v1::STEP_STATUS_ACTIVE);
  *brand->mutable_activate_time() = ToProtoTime(kT0);
  *brand->mutable_due_time() = ToProtoTime(kT0 + absl::Hours(8));
  brand->add_approvers()->set_approver_id("bea");
  v1::ApproverDecision* bob = brand->add_approvers();
  bob->set_approver_id("bob");
  bob->set_decision(v1::DECISION_APPROVE);
  v1::ApprovalStep* later = c.add_steps();
  later->set_step_id("compliance");
  later->set_status(v1::STEP_STATUS_PENDING);
  later->add_approvers()->set_approver_id("cora");
  return c;
}

TEST(InboxTest, ListsUndecidedApproversOfActiveStepsWithTheirDueTime) {
  const std::vector<InboxEntry> lines = InboxLines(PendingChain());
  ASSERT_EQ(lines.size(), 1u);  // bob decided; compliance has not started
  EXPECT_EQ(lines[0].approver_id, "bea");
  EXPECT_EQ(lines[0].step_id, "brand");
  EXPECT_EQ(lines[0].due_ms, absl::ToUnixMillis(kT0 + absl::Hours(8)));
}

TEST(InboxTest, ADelegateGetsTheLineOfTheApproverTheyStandInFor) {
  v1::ApprovalChain c = PendingChain();
  v1::Delegation* d = c.add_delegations();
  d->set_delegator_id("bea");
  d->set_delegate_id("zoe");
  EXPECT_THAT(InboxLines(c), ElementsAre(Field(&InboxEntry::approver_id, "bea"),
                                         Field(&InboxEntry::approver_id, "zoe")));
}

TEST(InboxTest, AStepWithoutDeadlineSortsAYearAfterItStarted) {
  v1::ApprovalChain c = PendingChain();
  c.mutable_steps(0)->clear_due_time();
  EXPECT_EQ(InboxLines(c)[0].due_ms, absl::ToUnixMillis(kT0 + absl::Hours(24 * 365)));
}

TEST(InboxTest, AFinishedChainHasNoLines) {
  v1::ApprovalChain c = PendingChain();
  c.set_status(v1::CHAIN_STATUS_APPROVED);
  EXPECT_THAT(InboxLines(c), IsEmpty());
}

TEST(InboxTest, DiffAddsNewAndMovedLinesAndRemovesGoneOnes) {
  const InboxEntry kept{"bea", "req_1", "brand", 10};
  const InboxEntry moved_before{"bob", "req_1", "brand", 10};
  const InboxEntry moved_after{"bob", "req_1", "brand", 20};
  const InboxEntry gone{"cal", "req_1", "legal", 10};
  const InboxEntry fresh{"cora", "req_1", "compliance", 30};
  const InboxChange change = DiffInbox({kept, moved_before, gone}, {fresh, moved_after, kept});
  EXPECT_THAT(change.add, ElementsAre(moved_after, fresh));
  EXPECT_THAT(change.remove, ElementsAre(gone));
}

}  // namespace
}  // namespace flywheel::approval
