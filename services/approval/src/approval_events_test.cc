#include "approval_events.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "flywheel/approval/v1/events.pb.h"
#include "flywheel/events/catalog.h"
#include "flywheel/scheduler/v1/events.pb.h"
#include "policy_parser.h"

namespace flywheel::approval {
namespace {

using ::testing::ElementsAre;

constexpr char kPolicy[] = R"yaml(
tenants:
  acme:
    groups:
      legal: [lena, leo]
      leads: [max]
    chains:
      t1:
        stages:
          - steps:
              - {id: legal, approvers: {groups: [legal]}, rule: any, sla: 1d, escalate_to: {users: [max]}}
)yaml";

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);
const ApprovalTopics kTopics{.approvals = "approvals", .timer_requests = "timers"};

std::vector<std::string> Types(const std::vector<kafka::OutgoingEvent>& events) {
  std::vector<std::string> types;
  for (const auto& e : events) types.push_back(e.topic + " " + e.type);
  return types;
}

class ApprovalEventsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto parsed = ParsePolicy(kPolicy);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    policy_ = *std::move(parsed);
  }
  std::pair<Chain, Facts> Build(uint32_t version) {
    return Chain::Build(*policy_.FindTenant("acme"), *policy_.FindChain("acme", "t1"),
                        TenantId("acme"), RequestId("r1"),
                        common::v1::APPROVAL_TIER_SINGLE_REVIEWER, version, kT0);
  }
  Policy policy_;
};

TEST_F(ApprovalEventsTest, AStartedStepIsAnnouncedAndAsksForItsTimer) {
  auto [chain, facts] = Build(1);
  const auto events = EventsFor(chain.proto(), facts, kTopics, "evt_x", kT0);
  ASSERT_THAT(Types(events), ElementsAre(std::string("approvals ") + events::kApprovalStepStarted,
                                         std::string("timers ") + events::kTimerRequested));
  EXPECT_EQ(events[0].id, "evt_x.1");
  EXPECT_EQ(events[1].id, "evt_x.2");
  EXPECT_EQ(events[0].key, "r1");
  EXPECT_EQ(events[0].extensions.at("tenant"), "acme");

  v1::StepStarted started;
  ASSERT_TRUE(started.ParseFromString(events[0].data));
  EXPECT_EQ(started.step().step_id(), "legal");
  EXPECT_THAT(started.approver_ids(), ElementsAre("lena", "leo"));
  EXPECT_EQ(started.version(), 1u);
  EXPECT_EQ(started.due_time().seconds(), absl::ToUnixSeconds(kT0 + absl::Hours(24)));

  scheduler::v1::TimerRequested timer;
  ASSERT_TRUE(timer.ParseFromString(events[1].data));
  EXPECT_EQ(timer.action(), scheduler::v1::TIMER_ACTION_START);
  EXPECT_EQ(timer.kind(), common::v1::TIMER_KIND_APPROVAL_STEP);
  EXPECT_EQ(timer.timer_id(), "r1/approval/legal/1");
  EXPECT_EQ(timer.duration().seconds(), 24 * 3600);
}

TEST_F(ApprovalEventsTest, TheFinalDecisionCancelsTheTimerAndCompletesTheChain) {
  auto [chain, built] = Build(1);
  auto facts = chain.Decide(UserId("leo"), "legal", {v1::DECISION_APPROVE, "fine", 0}, 1,
                            kT0 + absl::Hours(1));
  ASSERT_TRUE(facts.ok()) << facts.status();
  const auto events = EventsFor(chain.proto(), *facts, kTopics, "evt_y", kT0);
  ASSERT_THAT(Types(events), ElementsAre(std::string("approvals ") + events::kApprovalDecided,
                                         std::string("timers ") + events::kTimerRequested,
                                         std::string("approvals ") + events::kApprovalCompleted));
  scheduler::v1::TimerRequested cancel;
  ASSERT_TRUE(cancel.ParseFromString(events[1].data));
  EXPECT_EQ(cancel.action(), scheduler::v1::TIMER_ACTION_CANCEL);
  EXPECT_EQ(cancel.timer_id(), "r1/approval/legal/1");
  v1::ApprovalCompleted completed;
  ASSERT_TRUE(completed.ParseFromString(events[2].data));
  EXPECT_EQ(completed.outcome(), v1::CHAIN_STATUS_APPROVED);
  EXPECT_EQ(completed.version(), 1u);
  EXPECT_EQ(completed.rounds(), 1u);
}

TEST_F(ApprovalEventsTest, ANewVersionCancelsTheOldRoundsTimerAndStartsANewOne) {
  auto [chain, built] = Build(1);
  auto facts = chain.SubmitVersion(2, kT0 + absl::Hours(1));
  ASSERT_TRUE(facts.ok()) << facts.status();
  std::vector<std::string> timers;
  for (const auto& e : EventsFor(chain.proto(), *facts, kTopics, "evt_z", kT0)) {
    if (e.type != events::kTimerRequested) continue;
    scheduler::v1::TimerRequested t;
    ASSERT_TRUE(t.ParseFromString(e.data));
    timers.push_back(scheduler::v1::TimerAction_Name(t.action()) + " " + t.timer_id());
  }
  EXPECT_THAT(timers, ElementsAre("TIMER_ACTION_CANCEL r1/approval/legal/1",
                                  "TIMER_ACTION_START r1/approval/legal/2"));
}

}  // namespace
}  // namespace flywheel::approval
