#include "chain_audit.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "audit.h"
#include "flywheel/core/proto_time.h"

namespace flywheel::approval {
namespace {

using ::testing::SizeIs;

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);

v1::ApprovalChain ChainOf() {
  v1::ApprovalChain chain;
  chain.set_tenant_id("acme");
  chain.set_request_id("r1");
  chain.set_current_version(2);
  return chain;
}

TEST(ChainAuditTest, DecisionsDelegationsEscalationsAndTheEndAreAudited) {
  const Facts facts = {
      StepStarted{"legal", {"lena"}, 2, 1, std::nullopt},
      Delegated{"lena", "dan", kT0, kT0 + absl::Hours(1)},
      Escalated{"legal", {"max", "mia"}, 1},
      StepDecided{"legal", "lena", "dan", v1::DECISION_REJECT, "unproven", 2, 1,
                  v1::STEP_STATUS_REJECTED},
      StepStopped{"legal", v1::STEP_STATUS_REJECTED},
      ChainCompleted{v1::CHAIN_STATUS_REJECTED, 2, "legal", "lena", "unproven", false},
  };
  std::vector<v1::AuditEntry> entries = AuditEntriesFor(ChainOf(), facts, "scheduler", kT0);
  ASSERT_THAT(entries, SizeIs(4));
  EXPECT_EQ(entries[0].action(), v1::AUDIT_ACTION_DELEGATED);
  EXPECT_EQ(entries[0].actor_id(), "lena");
  EXPECT_EQ(entries[0].detail(),
            "to dan from 2027-01-15T08:00:00+00:00 until 2027-01-15T09:00:00+00:00");
  EXPECT_EQ(entries[1].action(), v1::AUDIT_ACTION_ESCALATED);
  EXPECT_EQ(entries[1].actor_id(), "scheduler");
  EXPECT_EQ(entries[1].detail(), "to max, mia");
  EXPECT_EQ(entries[2].action(), v1::AUDIT_ACTION_DECISION_RECORDED);
  EXPECT_EQ(entries[2].actor_id(), "dan");
  EXPECT_EQ(entries[2].decision(), v1::DECISION_REJECT);
  EXPECT_EQ(entries[2].detail(), "for lena: unproven");
  EXPECT_EQ(entries[2].version(), 2u);
  EXPECT_EQ(entries[3].action(), v1::AUDIT_ACTION_CHAIN_COMPLETED);
  EXPECT_EQ(entries[3].detail(), "rejected: unproven");
  EXPECT_EQ(FromProtoTime(entries[3].time()), kT0);

  AuditTrail trail;
  for (v1::AuditEntry& e : entries) trail.Append(std::move(e));
  EXPECT_TRUE(Verify(trail.entries()).intact);
}

TEST(ChainAuditTest, AutomaticApprovalSaysSo) {
  const Facts facts = {ChainCompleted{v1::CHAIN_STATUS_APPROVED, 0, "", "", "", true}};
  std::vector<v1::AuditEntry> entries = AuditEntriesFor(ChainOf(), facts, "approval", kT0);
  ASSERT_THAT(entries, SizeIs(1));
  EXPECT_EQ(entries[0].detail(), "approved automatically: the policy has no steps");
}

}  // namespace
}  // namespace flywheel::approval
