#include "templates.h"

#include <gtest/gtest.h>

namespace flywheel::routing {
namespace {

WorkflowTemplate Tmpl() {
  return {.id = "std",
          .stages = {{.id = "brief", .stage = common::v1::STAGE_BRIEF, .sla = absl::Hours(4)},
                     {.id = "creation", .stage = common::v1::STAGE_CREATION},
                     {.id = "approval", .stage = common::v1::STAGE_APPROVAL},
                     {.id = "launch", .stage = common::v1::STAGE_LAUNCH}}};
}

intake::v1::Request Req() {
  intake::v1::Request r;
  r.set_tenant_id("acme");
  r.set_request_id("req_1");
  r.set_priority(common::v1::PRIORITY_P2);
  return r;
}

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

TEST(TemplatesTest, FirstStageIsActiveWithItsDueTime) {
  auto wf = BuildWorkflow(Tmpl(), Req(), 1, kNow);
  EXPECT_EQ(wf.current_stage_id(), "brief");
  EXPECT_EQ(wf.status(), routing::v1::WORKFLOW_STATUS_ACTIVE);
  EXPECT_EQ(wf.stages(0).status(), routing::v1::STAGE_STATUS_ACTIVE);
  EXPECT_EQ(wf.stages(0).due_time().seconds(), 1'800'000'000 + 4 * 3600);
  EXPECT_EQ(wf.stages(1).status(), routing::v1::STAGE_STATUS_PENDING);
  EXPECT_EQ(wf.stages(2).status(), routing::v1::STAGE_STATUS_PENDING);
  EXPECT_EQ(wf.priority(), common::v1::PRIORITY_P2);
}

TEST(TemplatesTest, TierZeroSkipsApproval) {
  auto wf = BuildWorkflow(Tmpl(), Req(), 0, kNow);
  EXPECT_EQ(wf.stages(2).status(), routing::v1::STAGE_STATUS_SKIPPED);
  auto t = PlanAdvance(wf, "brief", "");
  ASSERT_TRUE(t.ok());
  ApplyAdvance(wf, *t, kNow, absl::ZeroDuration());
  t = PlanAdvance(wf, "creation", "");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(wf.stages(t->to).stage_id(), "launch");
}

TEST(TemplatesTest, AdvanceMovesOnAndCompletes) {
  auto wf = BuildWorkflow(Tmpl(), Req(), 2, kNow);
  for (const char* stage : {"brief", "creation", "approval"}) {
    auto t = PlanAdvance(wf, stage, "");
    ASSERT_TRUE(t.ok()) << t.status();
    ApplyAdvance(wf, *t, kNow + absl::Hours(1), absl::Hours(2));
  }
  EXPECT_EQ(wf.current_stage_id(), "launch");
  EXPECT_EQ(wf.stages(3).due_time().seconds(), 1'800'000'000 + 3 * 3600);
  auto t = PlanAdvance(wf, "launch", "");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->to, -1);
  ApplyAdvance(wf, *t, kNow, absl::ZeroDuration());
  EXPECT_EQ(wf.status(), routing::v1::WORKFLOW_STATUS_COMPLETED);
  EXPECT_EQ(PlanAdvance(wf, "", "").status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(TemplatesTest, StaleExpectedStageIsAborted) {
  auto wf = BuildWorkflow(Tmpl(), Req(), 1, kNow);
  EXPECT_EQ(PlanAdvance(wf, "creation", "").status().code(), absl::StatusCode::kAborted);
}

TEST(TemplatesTest, JumpMarksStagesBetweenSkipped) {
  auto wf = BuildWorkflow(Tmpl(), Req(), 1, kNow);
  auto t = PlanAdvance(wf, "brief", "launch");
  ASSERT_TRUE(t.ok());
  ApplyAdvance(wf, *t, kNow, absl::ZeroDuration());
  EXPECT_EQ(wf.current_stage_id(), "launch");
  EXPECT_EQ(wf.stages(1).status(), routing::v1::STAGE_STATUS_SKIPPED);
  EXPECT_EQ(wf.stages(2).status(), routing::v1::STAGE_STATUS_SKIPPED);
  EXPECT_EQ(PlanAdvance(wf, "", "brief").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace flywheel::routing
