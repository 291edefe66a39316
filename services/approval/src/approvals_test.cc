#include "approvals.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "flywheel/approval/v1/events.pb.h"
#include "flywheel/async/testing/await.h"
#include "flywheel/events/catalog.h"
#include "flywheel/kafka/testing/recording_publisher.h"
#include "flywheel/outbox/testing/in_memory_outbox.h"
#include "in_memory_approval_store.h"
#include "policy_parser.h"

namespace flywheel::approval {
namespace {

using async::testing::Await;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

constexpr char kSha1[] = "1111111111111111111111111111111111111111111111111111111111111111";
constexpr char kSha2[] = "2222222222222222222222222222222222222222222222222222222222222222";

std::shared_ptr<const Policy> Shipped() {
  auto parsed = ParsePolicy(DefaultPolicyYaml());
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  return std::make_shared<const Policy>(*std::move(parsed));
}

class ApprovalsTest : public ::testing::Test {
 protected:
  ApprovalsTest()
      : policy_(Shipped()),
        outbox_(publisher_),
        store_(outbox_),
        metrics_(registry_),
        approvals_({.approvals = "approvals", .timer_requests = "timers"}, policy_, store_, outbox_,
                   metrics_, clock_) {}

  void Route(const std::string& request_id, const std::string& policy_id) {
    routing::v1::RequestRouted routed;
    routed.set_tenant_id("acme");
    routed.set_request_id(request_id);
    routed.set_approval_policy_id(policy_id);
    routed.set_approval_tier(common::v1::APPROVAL_TIER_MULTI_REVIEWER);
    ASSERT_TRUE(Await(approvals_.Open(routed)).ok());
  }

  absl::StatusOr<v1::SubmitVersionResponse> Submit(const std::string& request_id,
                                                   const std::string& sha) {
    v1::SubmitVersionRequest r;
    r.set_tenant_id("acme");
    r.set_request_id(request_id);
    r.set_asset_uri("s3://assets/" + sha.substr(0, 4));
    r.set_content_sha256(sha);
    return Await(approvals_.SubmitVersion("ana", r));
  }

  absl::StatusOr<v1::DecideResponse> Decide(const std::string& who, const std::string& step,
                                            v1::Decision decision, uint32_t version = 1,
                                            const std::string& request_id = "r1") {
    v1::DecideRequest r;
    r.set_tenant_id("acme");
    r.set_request_id(request_id);
    r.set_step_id(step);
    r.set_decision(decision);
    r.set_version(version);
    r.set_comment("looked at it");
    return Await(approvals_.Decide(who, r));
  }

  v1::ApprovalChain Chain(const std::string& request_id = "r1") {
    v1::GetChainRequest r;
    r.set_tenant_id("acme");
    r.set_request_id(request_id);
    auto got = Await(approvals_.GetChain(r));
    EXPECT_TRUE(got.ok()) << got.status();
    return got.ok() ? got->chain() : v1::ApprovalChain();
  }

  v1::VerifyAuditResponse Verify(const std::string& request_id = "r1") {
    v1::VerifyAuditRequest r;
    r.set_tenant_id("acme");
    r.set_request_id(request_id);
    auto verdict = Await(approvals_.VerifyAudit(r));
    EXPECT_TRUE(verdict.ok()) << verdict.status();
    return verdict.ok() ? *verdict : v1::VerifyAuditResponse();
  }

  std::vector<std::string> PendingSteps(const std::string& who) {
    v1::ListPendingApprovalsRequest r;
    r.set_tenant_id("acme");
    auto listed = Await(approvals_.ListPending(who, r));
    EXPECT_TRUE(listed.ok()) << listed.status();
    std::vector<std::string> out;
    if (listed.ok()) {
      for (const auto& p : listed->pending())
        out.push_back(p.request_id() + "/" + p.step().step_id());
    }
    return out;
  }

  size_t Published(const char* type) { return publisher_.OfType(type).size(); }

  FakeClock clock_{absl::FromUnixSeconds(1'800'000'000)};
  PolicyHolder policy_;
  kafka::testing::RecordingPublisher publisher_;
  outbox::testing::InMemoryOutbox outbox_;
  InMemoryApprovalStore store_;
  metrics::Metrics registry_;
  ApprovalMetrics metrics_;
  Approvals approvals_;
};

TEST_F(ApprovalsTest, ARoutedRequestGetsAChainThatWaitsForItsFirstVersion) {
  Route("r1", "tier1-single-reviewer");
  EXPECT_EQ(Chain().status(), v1::CHAIN_STATUS_AWAITING_VERSION);
  Route("r1", "tier1-single-reviewer");  // a redelivery
  EXPECT_EQ(Verify().entries(), 1u);     // one CHAIN_CREATED
  EXPECT_EQ(Published(events::kApprovalStepStarted), 0u);
}

TEST_F(ApprovalsTest, AnUnknownApprovalPolicyIsRefusedWithItsName) {
  routing::v1::RequestRouted routed;
  routed.set_tenant_id("acme");
  routed.set_request_id("r1");
  routed.set_approval_policy_id("tier9-nobody");
  const absl::Status status = Await(approvals_.Open(routed));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("tier9-nobody"));
}

TEST_F(ApprovalsTest, TierZeroIsApprovedAtOnce) {
  Route("r1", "tier0-auto");
  EXPECT_EQ(Chain().status(), v1::CHAIN_STATUS_APPROVED);
  ASSERT_EQ(Published(events::kApprovalCompleted), 1u);
  v1::ApprovalCompleted completed;
  ASSERT_TRUE(completed.ParseFromString(publisher_.OfType(events::kApprovalCompleted)[0].data));
  EXPECT_TRUE(completed.auto_approved());
}

TEST_F(ApprovalsTest, ASingleApprovalOnTheFirstVersionCompletesTheChain) {
  Route("r1", "tier1-single-reviewer");
  auto version = Submit("r1", kSha1);
  ASSERT_TRUE(version.ok()) << version.status();
  EXPECT_EQ(version->version().version(), 1u);
  EXPECT_EQ(version->version().submitter_id(), "ana");
  EXPECT_EQ(Published(events::kApprovalStepStarted), 1u);
  EXPECT_THAT(PendingSteps("rita"), ElementsAre("r1/reviewer"));

  auto decided = Decide("rita", "reviewer", v1::DECISION_APPROVE);
  ASSERT_TRUE(decided.ok()) << decided.status();
  EXPECT_EQ(decided->chain().status(), v1::CHAIN_STATUS_APPROVED);
  EXPECT_EQ(Published(events::kApprovalDecided), 1u);
  EXPECT_EQ(Published(events::kApprovalCompleted), 1u);
  EXPECT_THAT(PendingSteps("rita"), IsEmpty());
  EXPECT_THAT(PendingSteps("raj"), IsEmpty());

  // The same decision again (a retried call) changes nothing.
  ASSERT_TRUE(Decide("rita", "reviewer", v1::DECISION_APPROVE).ok());
  EXPECT_EQ(Published(events::kApprovalDecided), 1u);
  const v1::VerifyAuditResponse verdict = Verify();
  EXPECT_TRUE(verdict.intact()) << verdict.reason();
  EXPECT_EQ(verdict.entries(), 4u);  // created, version, decision, completed
}

TEST_F(ApprovalsTest, TheSameContentAgainIsTheLatestVersion) {
  Route("r1", "tier1-single-reviewer");
  ASSERT_TRUE(Submit("r1", kSha1).ok());
  auto again = Submit("r1", kSha1);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->version().version(), 1u);
  EXPECT_EQ(Published(events::kApprovalVersionSubmitted), 1u);
}

TEST_F(ApprovalsTest, AStrangerIsRefusedAndNothingIsRecorded) {
  Route("r1", "tier1-single-reviewer");
  ASSERT_TRUE(Submit("r1", kSha1).ok());
  const uint64_t before = Verify().entries();
  auto refused = Decide("mallory", "reviewer", v1::DECISION_APPROVE);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Verify().entries(), before);
  EXPECT_EQ(Chain().status(), v1::CHAIN_STATUS_PENDING);
}

TEST_F(ApprovalsTest, ADecisionOnAnOutdatedVersionNamesTheCurrentOne) {
  Route("r1", "tier1-single-reviewer");
  ASSERT_TRUE(Submit("r1", kSha1).ok());
  ASSERT_TRUE(Submit("r1", kSha2).ok());
  auto stale = Decide("rita", "reviewer", v1::DECISION_APPROVE, 1);
  EXPECT_EQ(stale.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(stale.status().message(), HasSubstr("current version is 2"));
}

TEST_F(ApprovalsTest, AnUnresolvedCommentHoldsTheFinalApprovalUntilResolved) {
  Route("r1", "tier1-single-reviewer");
  ASSERT_TRUE(Submit("r1", kSha1).ok());
  v1::AddCommentRequest add;
  add.mutable_comment()->set_tenant_id("acme");
  add.mutable_comment()->set_request_id("r1");
  add.mutable_comment()->set_body("The logo is off brand");
  add.mutable_comment()->set_anchor("page 2, top right");
  auto comment = Await(approvals_.AddComment("rita", add));
  ASSERT_TRUE(comment.ok()) << comment.status();
  EXPECT_EQ(comment->comment().version(), 1u);
  EXPECT_EQ(comment->comment().author_id(), "rita");

  EXPECT_EQ(Decide("raj", "reviewer", v1::DECISION_APPROVE).status().code(),
            absl::StatusCode::kFailedPrecondition);
  v1::ResolveCommentRequest resolve;
  resolve.set_tenant_id("acme");
  resolve.set_request_id("r1");
  resolve.set_comment_id(comment->comment().comment_id());
  auto resolved = Await(approvals_.ResolveComment("ana", resolve));
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  EXPECT_TRUE(resolved->comment().resolved());
  EXPECT_TRUE(Decide("raj", "reviewer", v1::DECISION_APPROVE).ok());
  EXPECT_TRUE(Verify().intact());
}

TEST_F(ApprovalsTest, AnOversizedCommentIsRefusedNamingTheField) {
  Route("r1", "tier1-single-reviewer");
  ASSERT_TRUE(Submit("r1", kSha1).ok());
  v1::DecideRequest r;
  r.set_tenant_id("acme");
  r.set_request_id("r1");
  r.set_step_id("reviewer");
  r.set_decision(v1::DECISION_REJECT);
  r.set_version(1);
  r.set_comment(std::string(kMaxCommentBytes + 1, 'x'));
  auto refused = Await(approvals_.Decide("rita", r));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(refused.status().ToString(), HasSubstr("comment"));
}

TEST_F(ApprovalsTest, ADelegateSeesTheStepInTheirInboxAndMayDecideWithinThePeriod) {
  Route("r1", "tier1-single-reviewer");
  ASSERT_TRUE(Submit("r1", kSha1).ok());
  v1::DelegateRequest d;
  d.set_tenant_id("acme");
  d.set_request_id("r1");
  d.set_delegate_id("zoe");
  d.mutable_valid_until()->set_seconds(absl::ToUnixSeconds(clock_.Now() + absl::Hours(2)));
  ASSERT_TRUE(Await(approvals_.Delegate("rita", d)).ok());
  EXPECT_THAT(PendingSteps("zoe"), ElementsAre("r1/reviewer"));
  clock_.Advance(absl::Hours(3));
  EXPECT_THAT(PendingSteps("zoe"), IsEmpty());  // the delegation lapsed
  EXPECT_EQ(Decide("zoe", "reviewer", v1::DECISION_APPROVE).status().code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(ApprovalsTest, ABreachHandsTheStepToItsEscalationOwnerOnce) {
  Route("r1", "tier1-single-reviewer");
  ASSERT_TRUE(Submit("r1", kSha1).ok());
  scheduler::v1::SlaBreached breached;
  breached.set_tenant_id("acme");
  breached.set_request_id("r1");
  breached.set_timer_id("r1/approval/reviewer/1");
  breached.set_kind(common::v1::TIMER_KIND_APPROVAL_STEP);
  ASSERT_TRUE(Await(approvals_.Escalate(breached)).ok());
  ASSERT_TRUE(Await(approvals_.Escalate(breached)).ok());  // a redelivery
  EXPECT_EQ(Published(events::kApprovalStepEscalated), 1u);
  EXPECT_THAT(PendingSteps("max"), ElementsAre("r1/reviewer"));
  EXPECT_EQ(Decide("max", "reviewer", v1::DECISION_APPROVE)->chain().status(),
            v1::CHAIN_STATUS_APPROVED);
}

TEST_F(ApprovalsTest, ABreachOfAnEndedRoundChangesNothing) {
  Route("r1", "tier1-single-reviewer");
  ASSERT_TRUE(Submit("r1", kSha1).ok());
  ASSERT_TRUE(Submit("r1", kSha2).ok());  // round 2
  scheduler::v1::SlaBreached breached;
  breached.set_tenant_id("acme");
  breached.set_request_id("r1");
  breached.set_timer_id("r1/approval/reviewer/1");
  breached.set_kind(common::v1::TIMER_KIND_APPROVAL_STEP);
  ASSERT_TRUE(Await(approvals_.Escalate(breached)).ok());
  EXPECT_EQ(Published(events::kApprovalStepEscalated), 0u);
}

TEST_F(ApprovalsTest, RequestChangesThenANewVersionRestartsTheAskingStage) {
  Route("r1", "tier2-brand-legal");
  ASSERT_TRUE(Submit("r1", kSha1).ok());
  ASSERT_TRUE(Decide("bea", "brand", v1::DECISION_APPROVE).ok());
  auto asked = Decide("lena", "legal", v1::DECISION_REQUEST_CHANGES);
  ASSERT_TRUE(asked.ok()) << asked.status();
  EXPECT_EQ(asked->chain().status(), v1::CHAIN_STATUS_CHANGES_REQUESTED);
  EXPECT_EQ(Published(events::kApprovalChangesRequested), 1u);
  ASSERT_TRUE(Submit("r1", kSha2).ok());
  // asking_step: brand keeps its approval; legal asks two people again.
  EXPECT_THAT(PendingSteps("bea"), IsEmpty());
  EXPECT_THAT(PendingSteps("lena"), ElementsAre("r1/legal"));
  ASSERT_TRUE(Decide("lena", "legal", v1::DECISION_APPROVE, 2).ok());
  EXPECT_EQ(Decide("leo", "legal", v1::DECISION_APPROVE, 2)->chain().status(),
            v1::CHAIN_STATUS_APPROVED);
  EXPECT_TRUE(Verify().intact());
}

TEST_F(ApprovalsTest, ACancelledWorkflowCancelsItsChainAndItsTimers) {
  Route("r1", "tier1-single-reviewer");
  ASSERT_TRUE(Submit("r1", kSha1).ok());
  ASSERT_TRUE(Await(approvals_.CancelChain("acme", "r1")).ok());
  ASSERT_TRUE(Await(approvals_.CancelChain("acme", "r1")).ok());  // again
  EXPECT_EQ(Chain().status(), v1::CHAIN_STATUS_CANCELLED);
  EXPECT_EQ(Published(events::kApprovalCompleted), 1u);
  EXPECT_THAT(PendingSteps("rita"), IsEmpty());
  EXPECT_TRUE(Await(approvals_.CancelChain("acme", "never-routed")).ok());
}

TEST_F(ApprovalsTest, ATrailExportsAsJsonWithItsVerdict) {
  Route("r1", "tier1-single-reviewer");
  ASSERT_TRUE(Submit("r1", kSha1).ok());
  v1::ExportAuditRequest r;
  r.set_tenant_id("acme");
  r.set_request_id("r1");
  auto exported = Await(approvals_.ExportAudit(r));
  ASSERT_TRUE(exported.ok()) << exported.status();
  EXPECT_THAT(exported->json(), HasSubstr("\"intact\": true"));
  EXPECT_THAT(exported->json(), HasSubstr("version_submitted"));
}

}  // namespace
}  // namespace flywheel::approval
