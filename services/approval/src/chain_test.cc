#include "chain.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "policy_parser.h"

namespace flywheel::approval {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

std::vector<std::string> StepIds(const std::vector<PendingStep>& pending) {
  std::vector<std::string> ids;
  for (const PendingStep& p : pending) ids.push_back(p.step_id);
  return ids;
}

constexpr char kPolicy[] = R"yaml(
tenants:
  acme:
    groups:
      reviewers: [rita, raj]
      brand: [bea, bob]
      legal: [lena, leo, lou]
      compliance: [cora, cal]
      leads: [max]
    chains:
      t0: {stages: []}
      t1:
        stages:
          - steps:
              - {id: reviewer, approvers: {groups: [reviewers]}, rule: any, sla: 1d,
                 escalate_to: {groups: [leads]}}
      t2:
        restart: asking_step
        stages:
          - steps:
              - {id: brand, approvers: {groups: [brand]}, rule: any, sla: 1d}
              - {id: legal, approvers: {groups: [legal]}, rule: quorum, quorum: 2, sla: 2d,
                 escalate_to: {users: [max]}}
      t3:
        restart: first_step
        require_rejection_reason: false
        stages:
          - steps:
              - {id: brand, approvers: {groups: [brand]}, rule: any}
              - {id: legal, approvers: {groups: [legal]}, rule: quorum, quorum: 2}
          - steps:
              - {id: compliance, approvers: {groups: [compliance], users: [max]}, rule: all}
)yaml";

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);

class ChainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto parsed = ParsePolicy(kPolicy);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    policy_ = *std::move(parsed);
  }

  // A chain of policy `id` for request r1, on `version`, built at kT0.
  std::pair<Chain, Facts> Build(const std::string& id, uint32_t version = 1) {
    const TenantSpec& acme = *policy_.FindTenant("acme");
    return Chain::Build(acme, *policy_.FindChain("acme", id), TenantId("acme"), RequestId("r1"),
                        common::v1::APPROVAL_TIER_MULTI_REVIEWER, version, kT0);
  }

  static absl::StatusOr<Facts> Decide(Chain& chain, const std::string& actor,
                                      const std::string& step, v1::Decision decision,
                                      uint32_t version = 1, absl::Time at = kT0 + absl::Minutes(5),
                                      std::string comment = "ok") {
    return chain.Decide(UserId(actor), step, DecisionInput{decision, std::move(comment), 0},
                        version, at);
  }

  static Facts Ok(absl::StatusOr<Facts> facts) {
    EXPECT_TRUE(facts.ok()) << facts.status();
    return facts.ok() ? *std::move(facts) : Facts{};
  }

  static const v1::ApprovalStep& StepOf(const Chain& chain, const std::string& id) {
    for (const v1::ApprovalStep& s : chain.proto().steps()) {
      if (s.step_id() == id) return s;
    }
    ADD_FAILURE() << "no step " << id;
    return v1::ApprovalStep::default_instance();
  }

  template <typename T>
  static std::vector<T> All(const Facts& facts) {
    std::vector<T> out;
    for (const Fact& f : facts) {
      if (const T* t = std::get_if<T>(&f)) out.push_back(*t);
    }
    return out;
  }

  static std::vector<std::string> Started(const Facts& facts) {
    std::vector<std::string> out;
    for (const StepStarted& s : All<StepStarted>(facts)) out.push_back(s.step_id);
    return out;
  }

  Policy policy_;
};

TEST_F(ChainTest, SingleApprovalApprovesTheChain) {
  auto [chain, facts] = Build("t1");
  ASSERT_THAT(facts, SizeIs(1));
  const StepStarted& started = std::get<StepStarted>(facts[0]);
  EXPECT_EQ(started.step_id, "reviewer");
  EXPECT_THAT(started.approver_ids, ElementsAre("rita", "raj"));
  EXPECT_EQ(started.due, kT0 + absl::Hours(24));
  EXPECT_EQ(started.round, 1u);
  EXPECT_EQ(chain.proto().status(), v1::CHAIN_STATUS_PENDING);

  Facts decided = Ok(Decide(chain, "raj", "reviewer", v1::DECISION_APPROVE));
  ASSERT_THAT(decided, SizeIs(3));
  EXPECT_EQ(std::get<StepDecided>(decided[0]).step_status, v1::STEP_STATUS_APPROVED);
  EXPECT_EQ(std::get<StepStopped>(decided[1]).status, v1::STEP_STATUS_APPROVED);
  const ChainCompleted& done = std::get<ChainCompleted>(decided[2]);
  EXPECT_EQ(done.status, v1::CHAIN_STATUS_APPROVED);
  EXPECT_EQ(done.version, 1u);
  EXPECT_FALSE(done.auto_approved);
  EXPECT_EQ(chain.proto().status(), v1::CHAIN_STATUS_APPROVED);
  EXPECT_EQ(chain.proto().tier(), common::v1::APPROVAL_TIER_MULTI_REVIEWER);
}

TEST_F(ChainTest, NoStagesIsApprovedAutomatically) {
  auto [chain, facts] = Build("t0");
  ASSERT_THAT(facts, SizeIs(1));
  EXPECT_TRUE(std::get<ChainCompleted>(facts[0]).auto_approved);
  EXPECT_EQ(chain.proto().status(), v1::CHAIN_STATUS_APPROVED);
}

TEST_F(ChainTest, NothingStartsBeforeTheFirstVersion) {
  auto [chain, facts] = Build("t1", 0);
  EXPECT_THAT(facts, IsEmpty());
  EXPECT_EQ(chain.proto().status(), v1::CHAIN_STATUS_AWAITING_VERSION);
  EXPECT_THAT(Decide(chain, "rita", "reviewer", v1::DECISION_APPROVE, 0).status().message(),
              HasSubstr("no asset version has been submitted yet"));
  Facts started = Ok(chain.SubmitVersion(1, kT0 + absl::Hours(1)));
  EXPECT_THAT(Started(started), ElementsAre("reviewer"));
  EXPECT_EQ(All<StepStarted>(started)[0].due, kT0 + absl::Hours(25));
  EXPECT_EQ(chain.proto().round(), 1u);
}

TEST_F(ChainTest, ParallelStepsCompleteTheStageThenTheNextStarts) {
  auto [chain, facts] = Build("t3");
  EXPECT_THAT(Started(facts), ElementsAre("brand", "legal"));

  EXPECT_THAT(Started(Ok(Decide(chain, "bea", "brand", v1::DECISION_APPROVE))), IsEmpty());
  EXPECT_EQ(StepOf(chain, "brand").status(), v1::STEP_STATUS_APPROVED);
  // Quorum 2 of 3: one approval leaves the step active.
  Facts first = Ok(Decide(chain, "lena", "legal", v1::DECISION_APPROVE));
  ASSERT_THAT(first, SizeIs(1));
  EXPECT_EQ(std::get<StepDecided>(first[0]).step_status, v1::STEP_STATUS_ACTIVE);
  EXPECT_EQ(chain.proto().current_stage_index(), 0u);
  EXPECT_THAT(Started(Ok(Decide(chain, "lou", "legal", v1::DECISION_APPROVE))),
              ElementsAre("compliance"));
  EXPECT_EQ(chain.proto().current_stage_index(), 1u);

  // Rule all: every designated person, named or through the group.
  Ok(Decide(chain, "cora", "compliance", v1::DECISION_APPROVE));
  Ok(Decide(chain, "max", "compliance", v1::DECISION_APPROVE));
  EXPECT_EQ(chain.proto().status(), v1::CHAIN_STATUS_PENDING);
  Facts last = Ok(Decide(chain, "cal", "compliance", v1::DECISION_APPROVE));
  ASSERT_THAT(All<ChainCompleted>(last), SizeIs(1));
  EXPECT_EQ(chain.proto().status(), v1::CHAIN_STATUS_APPROVED);
}

TEST_F(ChainTest, RejectionEndsTheChainWithItsReason) {
  auto [chain, facts] = Build("t2");
  EXPECT_EQ(Decide(chain, "lena", "legal", v1::DECISION_REJECT, 1, kT0, "").status().code(),
            absl::StatusCode::kInvalidArgument);
  Facts rejected =
      Ok(Decide(chain, "lena", "legal", v1::DECISION_REJECT, 1, kT0, "claims are unproven"));
  ASSERT_THAT(All<StepStopped>(rejected), SizeIs(2));
  EXPECT_EQ(All<StepStopped>(rejected)[1].step_id, "brand");
  EXPECT_EQ(All<StepStopped>(rejected)[1].status, v1::STEP_STATUS_CANCELLED);
  const ChainCompleted done = All<ChainCompleted>(rejected).at(0);
  EXPECT_EQ(done.status, v1::CHAIN_STATUS_REJECTED);
  EXPECT_EQ(done.step_id, "legal");
  EXPECT_EQ(done.approver_id, "lena");
  EXPECT_EQ(done.reason, "claims are unproven");
  EXPECT_EQ(chain.proto().rejection_reason(), "claims are unproven");

  auto late = Decide(chain, "bea", "brand", v1::DECISION_APPROVE);
  EXPECT_EQ(late.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(late.status().message(), HasSubstr("the chain of request r1 is already rejected"));
}

TEST_F(ChainTest, RejectionReasonIsOptionalWhenThePolicySaysSo) {
  auto [chain, facts] = Build("t3");
  EXPECT_TRUE(Decide(chain, "bea", "brand", v1::DECISION_REJECT, 1, kT0, "").ok());
}

TEST_F(ChainTest, ChangesPauseUntilANewVersionThatRestartsAtTheFirstStep) {
  auto [chain, facts] = Build("t3");
  Ok(Decide(chain, "bob", "brand", v1::DECISION_APPROVE));
  Facts asked =
      Ok(Decide(chain, "leo", "legal", v1::DECISION_REQUEST_CHANGES, 1, kT0, "cite the study"));
  const ChangesRequested changes = All<ChangesRequested>(asked).at(0);
  EXPECT_EQ(changes.step_id, "legal");
  EXPECT_EQ(changes.comment, "cite the study");
  EXPECT_EQ(chain.proto().status(), v1::CHAIN_STATUS_CHANGES_REQUESTED);
  EXPECT_THAT(Decide(chain, "lena", "legal", v1::DECISION_APPROVE).status().message(),
              HasSubstr("changes were requested on version 1 at step legal"));

  Facts restarted = Ok(chain.SubmitVersion(2, kT0 + absl::Hours(3)));
  EXPECT_THAT(Started(restarted), ElementsAre("brand", "legal"));
  EXPECT_EQ(All<StepStarted>(restarted)[0].version, 2u);
  EXPECT_EQ(All<StepStarted>(restarted)[0].round, 2u);
  EXPECT_EQ(StepOf(chain, "brand").approvers(1).decision(), v1::DECISION_UNSPECIFIED);
  EXPECT_EQ(chain.proto().status(), v1::CHAIN_STATUS_PENDING);

  auto stale = Decide(chain, "bea", "brand", v1::DECISION_APPROVE, 1);
  EXPECT_EQ(stale.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(stale.status().message(),
              HasSubstr("version 1 is outdated; the current version is 2"));
  EXPECT_TRUE(Decide(chain, "bea", "brand", v1::DECISION_APPROVE, 2).ok());
}

TEST_F(ChainTest, AskingStepRestartKeepsApprovedSteps) {
  auto [chain, facts] = Build("t2");
  Ok(Decide(chain, "bea", "brand", v1::DECISION_APPROVE));
  Ok(Decide(chain, "lena", "legal", v1::DECISION_APPROVE));
  Ok(Decide(chain, "leo", "legal", v1::DECISION_REQUEST_CHANGES, 1, kT0, "tone down"));
  Facts restarted = Ok(chain.SubmitVersion(2, kT0 + absl::Hours(3)));
  EXPECT_THAT(Started(restarted), ElementsAre("legal"));
  EXPECT_EQ(StepOf(chain, "brand").status(), v1::STEP_STATUS_APPROVED);
  // lena's approval was on version 1: the new round asks her again.
  EXPECT_EQ(StepOf(chain, "legal").approvers(0).decision(), v1::DECISION_UNSPECIFIED);
  Ok(Decide(chain, "lena", "legal", v1::DECISION_APPROVE, 2));
  Facts done = Ok(Decide(chain, "leo", "legal", v1::DECISION_APPROVE, 2));
  EXPECT_THAT(All<ChainCompleted>(done), SizeIs(1));
}

TEST_F(ChainTest, VersionsComeInSequence) {
  auto [chain, facts] = Build("t1");
  EXPECT_THAT(Ok(chain.SubmitVersion(1, kT0)), IsEmpty());  // again: nothing new
  auto skipped = chain.SubmitVersion(3, kT0);
  EXPECT_EQ(skipped.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(skipped.status().message(), HasSubstr("the current version is 1, the next is 2"));
  EXPECT_THAT(Decide(chain, "rita", "reviewer", v1::DECISION_APPROVE, 2).status().message(),
              HasSubstr("version 2 does not exist; the current version is 1"));
  // A new version without a request for changes starts a new round too.
  Facts restarted = Ok(chain.SubmitVersion(2, kT0 + absl::Hours(1)));
  EXPECT_THAT(All<StepStopped>(restarted), SizeIs(1));
  EXPECT_THAT(Started(restarted), ElementsAre("reviewer"));
  EXPECT_EQ(chain.proto().round(), 2u);
}

TEST_F(ChainTest, OnlyDesignatedApproversMayDecide) {
  auto [chain, facts] = Build("t3");
  const int64_t revision = chain.proto().revision();
  auto stranger = Decide(chain, "mallory", "brand", v1::DECISION_APPROVE);
  EXPECT_EQ(stranger.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(stranger.status().message(), HasSubstr("mallory is not an approver of step brand"));
  // In another group of the same chain is not enough.
  EXPECT_EQ(Decide(chain, "lena", "brand", v1::DECISION_APPROVE).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(chain.proto().revision(), revision);  // nothing recorded
}

TEST_F(ChainTest, UnknownStepNotStartedStepAndFinishedStepAreClearErrors) {
  auto [chain, facts] = Build("t3");
  auto unknown = Decide(chain, "bea", "design", v1::DECISION_APPROVE);
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(unknown.status().message(), HasSubstr("no step design in the chain of request r1"));
  auto early = Decide(chain, "cora", "compliance", v1::DECISION_APPROVE);
  EXPECT_EQ(early.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(early.status().message(), HasSubstr("step compliance has not started"));
  Ok(Decide(chain, "bea", "brand", v1::DECISION_APPROVE));
  auto done = Decide(chain, "bob", "brand", v1::DECISION_APPROVE);
  EXPECT_THAT(done.status().message(), HasSubstr("step brand is already approved"));
  EXPECT_EQ(Decide(chain, "bob", "brand", v1::DECISION_UNSPECIFIED).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(ChainTest, TheSameDecisionAgainChangesNothingAndAnotherIsRefused) {
  auto [chain, facts] = Build("t3");
  Ok(Decide(chain, "lena", "legal", v1::DECISION_APPROVE));
  const std::string before = chain.proto().SerializeAsString();
  EXPECT_THAT(Ok(Decide(chain, "lena", "legal", v1::DECISION_APPROVE)), IsEmpty());
  EXPECT_EQ(chain.proto().SerializeAsString(), before);
  auto changed = Decide(chain, "lena", "legal", v1::DECISION_REJECT, 1, kT0, "on second thought");
  EXPECT_EQ(changed.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(changed.status().message(), HasSubstr("lena already decided approve on step legal"));
  // The final decision retried after the chain completed is still a no-op.
  auto [single, f] = Build("t1");
  Ok(Decide(single, "rita", "reviewer", v1::DECISION_APPROVE));
  EXPECT_THAT(Ok(Decide(single, "rita", "reviewer", v1::DECISION_APPROVE)), IsEmpty());
}

TEST_F(ChainTest, DelegateDecidesOnlyWithinThePeriod) {
  auto [chain, facts] = Build("t1");
  const absl::Time from = kT0 + absl::Hours(1);
  const absl::Time until = kT0 + absl::Hours(2);
  Facts delegated = Ok(chain.Delegate(UserId("rita"), UserId("dan"), from, until, kT0));
  ASSERT_THAT(delegated, SizeIs(1));
  EXPECT_EQ(std::get<Delegated>(delegated[0]).delegate_id, "dan");
  EXPECT_THAT(Ok(chain.Delegate(UserId("rita"), UserId("dan"), from, until, kT0)), IsEmpty());

  auto before = Decide(chain, "dan", "reviewer", v1::DECISION_APPROVE, 1, kT0);
  EXPECT_EQ(before.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(before.status().message(), HasSubstr("the delegation from rita is valid from"));
  EXPECT_EQ(Decide(chain, "dan", "reviewer", v1::DECISION_APPROVE, 1, until).status().code(),
            absl::StatusCode::kPermissionDenied);  // the end is exclusive
  EXPECT_THAT(StepIds(chain.PendingFor(UserId("dan"), kT0 + absl::Minutes(90))),
              ElementsAre("reviewer"));

  Facts decided =
      Ok(Decide(chain, "dan", "reviewer", v1::DECISION_APPROVE, 1, kT0 + absl::Minutes(90)));
  const StepDecided d = All<StepDecided>(decided).at(0);
  EXPECT_EQ(d.approver_id, "rita");
  EXPECT_EQ(d.decided_by, "dan");
  EXPECT_EQ(chain.proto().status(), v1::CHAIN_STATUS_APPROVED);
}

TEST_F(ChainTest, OnePersonHasOneVoteOnAStepEvenAsADelegate) {
  auto [chain, facts] = Build("t3");
  Ok(chain.Delegate(UserId("leo"), UserId("lena"), kT0, kT0 + absl::Hours(24), kT0));
  Ok(Decide(chain, "lena", "legal", v1::DECISION_APPROVE));
  // lena's second approval is her first again, not leo's: quorum 2 is not met.
  EXPECT_THAT(Ok(Decide(chain, "lena", "legal", v1::DECISION_APPROVE)), IsEmpty());
  EXPECT_EQ(StepOf(chain, "legal").status(), v1::STEP_STATUS_ACTIVE);
  EXPECT_EQ(StepOf(chain, "legal").approvers(1).decision(), v1::DECISION_UNSPECIFIED);
}

TEST_F(ChainTest, DelegationIsTheApproversOwn) {
  auto [chain, facts] = Build("t1");
  EXPECT_EQ(chain.Delegate(UserId("mallory"), UserId("dan"), kT0, kT0 + absl::Hours(1), kT0)
                .status()
                .code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(chain.Delegate(UserId("rita"), UserId("rita"), kT0, kT0 + absl::Hours(1), kT0)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(chain.Delegate(UserId("rita"), UserId("dan"), kT0, kT0, kT0).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(ChainTest, EscalationHandsTheStepToItsOwner) {
  auto [chain, facts] = Build("t2");
  EXPECT_EQ(Decide(chain, "max", "legal", v1::DECISION_APPROVE).status().code(),
            absl::StatusCode::kPermissionDenied);
  Facts escalated = Ok(chain.Escalate("legal", kT0 + absl::Hours(49)));
  ASSERT_THAT(escalated, SizeIs(1));
  EXPECT_THAT(std::get<Escalated>(escalated[0]).owner_ids, ElementsAre("max"));
  EXPECT_THAT(Ok(chain.Escalate("legal", kT0 + absl::Hours(50))), IsEmpty());  // a redelivery
  EXPECT_THAT(StepIds(chain.PendingFor(UserId("max"), kT0 + absl::Hours(50))),
              ElementsAre("legal"));
  // One decision of the owner decides the step, whatever its quorum.
  Facts decided = Ok(Decide(chain, "max", "legal", v1::DECISION_APPROVE, 1, kT0 + absl::Hours(50)));
  EXPECT_EQ(All<StepDecided>(decided).at(0).step_status, v1::STEP_STATUS_APPROVED);

  auto late = chain.Escalate("legal", kT0 + absl::Hours(51));
  EXPECT_EQ(late.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(late.status().message(), HasSubstr("step legal is not active (it is approved"));
  EXPECT_THAT(chain.Escalate("brand", kT0).status().message(),
              HasSubstr("step brand has no escalation owner"));
  EXPECT_EQ(chain.Escalate("design", kT0).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(ChainTest, FinalApprovalWaitsForResolvedComments) {
  auto [chain, facts] = Build("t2");
  // Not the final approval: open comments do not matter yet.
  EXPECT_TRUE(
      chain.Decide(UserId("bea"), "brand", DecisionInput{v1::DECISION_APPROVE, "", 2}, 1, kT0)
          .ok());
  Ok(Decide(chain, "lena", "legal", v1::DECISION_APPROVE));
  const std::string before = chain.proto().SerializeAsString();
  auto blocked =
      chain.Decide(UserId("leo"), "legal", DecisionInput{v1::DECISION_APPROVE, "", 2}, 1, kT0);
  EXPECT_EQ(blocked.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(blocked.status().message(), HasSubstr("2 comment(s) are unresolved"));
  EXPECT_EQ(chain.proto().SerializeAsString(), before);
  EXPECT_TRUE(
      chain.Decide(UserId("leo"), "legal", DecisionInput{v1::DECISION_APPROVE, "", 0}, 1, kT0)
          .ok());
  EXPECT_EQ(chain.proto().status(), v1::CHAIN_STATUS_APPROVED);
}

TEST_F(ChainTest, OversizedCommentIsRefused) {
  auto [chain, facts] = Build("t1");
  auto big = Decide(chain, "rita", "reviewer", v1::DECISION_APPROVE, 1, kT0,
                    std::string(kMaxCommentBytes + 1, 'x'));
  EXPECT_EQ(big.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(ChainTest, SurvivesItsStoredFormMidway) {
  auto [chain, facts] = Build("t3");
  Ok(Decide(chain, "bea", "brand", v1::DECISION_APPROVE));
  Ok(chain.Delegate(UserId("leo"), UserId("dan"), kT0, kT0 + absl::Hours(24), kT0));
  v1::ApprovalChain stored;
  ASSERT_TRUE(stored.ParseFromString(chain.proto().SerializeAsString()));
  auto loaded = Chain::FromProto(stored);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  Ok(Decide(*loaded, "lena", "legal", v1::DECISION_APPROVE));
  EXPECT_THAT(Started(Ok(Decide(*loaded, "dan", "legal", v1::DECISION_APPROVE))),
              ElementsAre("compliance"));

  v1::ApprovalChain broken = stored;
  broken.mutable_steps(2)->set_stage_index(5);
  EXPECT_EQ(Chain::FromProto(broken).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(Chain::FromProto(v1::ApprovalChain()).status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(ChainTest, InboxSaysWhoADelegateStandsInForAndWhatTheStepStillNeeds) {
  auto [chain, facts] = Build("t3");
  Ok(chain.Delegate(UserId("bea"), UserId("zoe"), kT0, kT0 + absl::Hours(1), kT0));
  const std::vector<PendingStep> zoe = chain.PendingFor(UserId("zoe"), kT0);
  ASSERT_THAT(zoe, SizeIs(1));
  EXPECT_EQ(zoe[0].step_id, "brand");
  EXPECT_EQ(zoe[0].on_behalf_of, "bea");
  EXPECT_EQ(zoe[0].approvals_needed, 1u);
  EXPECT_EQ(chain.PendingFor(UserId("bea"), kT0)[0].on_behalf_of, "");
  EXPECT_THAT(chain.PendingFor(UserId("zoe"), kT0 + absl::Hours(2)), IsEmpty());  // lapsed
}

TEST_F(ChainTest, InboxListsWhatWaitsForThePerson) {
  auto [chain, facts] = Build("t3");
  EXPECT_THAT(StepIds(chain.PendingFor(UserId("bea"), kT0)), ElementsAre("brand"));
  EXPECT_THAT(StepIds(chain.PendingFor(UserId("cora"), kT0)), IsEmpty());  // stage 2 not started
  Ok(Decide(chain, "bea", "brand", v1::DECISION_APPROVE));
  EXPECT_THAT(StepIds(chain.PendingFor(UserId("bea"), kT0)), IsEmpty());
  EXPECT_THAT(StepIds(chain.PendingFor(UserId("bob"), kT0)), IsEmpty());  // the step is done
}

TEST_F(ChainTest, CancelStopsActiveSteps) {
  auto [chain, facts] = Build("t2");
  Facts cancelled = Ok(chain.Cancel(kT0));
  EXPECT_THAT(All<StepStopped>(cancelled), SizeIs(2));
  EXPECT_EQ(All<ChainCompleted>(cancelled).at(0).status, v1::CHAIN_STATUS_CANCELLED);
  EXPECT_THAT(Ok(chain.Cancel(kT0)), IsEmpty());
  EXPECT_EQ(chain.SubmitVersion(2, kT0).status().code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace flywheel::approval
