// Approval through the real broker and Redis, started exactly as main()
// starts it (StartApproval): request.routed and sla.breached records in,
// the ApprovalService over gRPC with each user's own token, and the chain's
// events and timer requests out.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "approval_app.h"
#include "flywheel/approval/v1/approval_service.grpc.pb.h"
#include "flywheel/approval/v1/events.pb.h"
#include "flywheel/core/id.h"
#include "flywheel/core/testing/wait_for.h"
#include "flywheel/events/catalog.h"
#include "flywheel/kafka/cloud_event.h"
#include "flywheel/routing/v1/events.pb.h"
#include "flywheel/runtime/testing/service_fixture.h"
#include "flywheel/scheduler/v1/events.pb.h"

namespace flywheel::approval {
namespace {

using ::flywheel::testing::WaitFor;
using ::testing::HasSubstr;

class ApprovalIntegrationTest : public runtime::testing::ServiceFixture {
 protected:
  ApprovalIntegrationTest() : ServiceFixture(StartApproval, "outbox:\n  relay_interval: 200ms\n") {
    // Routing owns the workflows topic and the scheduler the SLA topic; this
    // test stands in for both.
    CreateTopicsBeforeStart(
        {{.name = events::kWorkflowsTopic, .partitions = events::kStreamPartitions},
         {.name = events::kSlaTopic, .partitions = events::kStreamPartitions}});
  }

  void SetUp() override {
    ServiceFixture::SetUp();
    if (HasFatalFailure()) return;
    stub_ = v1::ApprovalService::NewStub(channel());
  }

  // A call as `user` of acme with `role`.
  std::unique_ptr<::grpc::ClientContext> As(const std::string& user,
                                            const std::string& role = "approver") const {
    std::vector<std::string> roles = {role};
    return auth().Call(auth().Token("acme", roles, user));
  }

  static std::string NewRequestId() { return "req_" + NewRandomId(); }

  static common::v1::ApprovalTier TierOf(const std::string& policy) {
    if (absl::StartsWith(policy, "tier0")) return common::v1::APPROVAL_TIER_AUTO;
    if (absl::StartsWith(policy, "tier1")) return common::v1::APPROVAL_TIER_SINGLE_REVIEWER;
    if (absl::StartsWith(policy, "tier2")) return common::v1::APPROVAL_TIER_MULTI_REVIEWER;
    return common::v1::APPROVAL_TIER_EXECUTIVE;
  }

  // Publishes what routing publishes for a routed request, then waits until
  // its chain answers.
  void Route(const std::string& request_id, const std::string& policy) {
    routing::v1::RequestRouted routed;
    routed.set_tenant_id("acme");
    routed.set_request_id(request_id);
    routed.set_team_id("growth");
    routed.set_approval_tier(TierOf(policy));
    routed.set_approval_policy_id(policy);
    Publish(events::kWorkflowsTopic, {.id = "evt_routed_" + request_id,
                                      .source = "//tests/routing",
                                      .type = events::kRequestRouted,
                                      .data_content_type = kafka::kProtobufContentType,
                                      .key = request_id,
                                      .data = routed.SerializeAsString()});
    v1::ApprovalChain chain;
    EXPECT_TRUE(WaitFor([&] { return GetChain(request_id, &chain).ok(); }))
        << "no chain for " << request_id;
  }

  // Publishes the scheduler's first breach of `step_id`'s timer in round 1.
  void Breach(const std::string& request_id, const std::string& step_id) {
    scheduler::v1::SlaBreached breached;
    breached.set_tenant_id("acme");
    breached.set_request_id(request_id);
    breached.set_timer_id(absl::StrCat(request_id, "/approval/", step_id, "/1"));
    breached.set_kind(common::v1::TIMER_KIND_APPROVAL_STEP);
    breached.set_escalation_level(0);
    Publish(events::kSlaTopic, {.id = absl::StrCat("evt_breach_", request_id, "_", step_id),
                                .source = "//tests/scheduler",
                                .type = events::kSlaBreached,
                                .data_content_type = kafka::kProtobufContentType,
                                .key = request_id,
                                .data = breached.SerializeAsString()});
  }

  ::grpc::Status GetChain(const std::string& request_id, v1::ApprovalChain* out) {
    v1::GetChainRequest request;
    request.set_tenant_id("acme");
    request.set_request_id(request_id);
    v1::GetChainResponse response;
    ::grpc::Status status = stub_->GetChain(As("ops", "requester").get(), request, &response);
    *out = response.chain();
    return status;
  }

  v1::ApprovalChain Chain(const std::string& request_id) {
    v1::ApprovalChain chain;
    ::grpc::Status status = GetChain(request_id, &chain);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return chain;
  }

  static const v1::ApprovalStep& Step(const v1::ApprovalChain& chain, const std::string& step_id) {
    for (const v1::ApprovalStep& step : chain.steps()) {
      if (step.step_id() == step_id) return step;
    }
    ADD_FAILURE() << "no step " << step_id << " in " << chain.ShortDebugString();
    static const v1::ApprovalStep none;
    return none;
  }

  // The creator submits version `n` of the request's asset.
  ::grpc::Status SubmitVersion(const std::string& request_id, uint32_t n) {
    v1::SubmitVersionRequest request;
    request.set_tenant_id("acme");
    request.set_request_id(request_id);
    request.set_asset_uri(absl::StrCat("s3://assets/", request_id, "/v", n, ".pdf"));
    request.set_content_sha256(std::string(64, 'a' + static_cast<char>(n % 6)));
    request.set_media_type("application/pdf");
    request.set_size_bytes(1024);
    request.set_change_note(absl::StrCat("version ", n));
    v1::SubmitVersionResponse response;
    return stub_->SubmitVersion(As("cara", "creator").get(), request, &response);
  }

  void SubmitVersionOk(const std::string& request_id, uint32_t n) {
    ::grpc::Status status = SubmitVersion(request_id, n);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }

  // `user` (an approver) decides `step` on `version`.
  ::grpc::Status Decide(const std::string& request_id, const std::string& user,
                        const std::string& step, v1::Decision decision, uint32_t version = 1,
                        const std::string& comment = "looks right") {
    v1::DecideRequest request;
    request.set_tenant_id("acme");
    request.set_request_id(request_id);
    request.set_step_id(step);
    request.set_decision(decision);
    request.set_version(version);
    request.set_comment(comment);
    v1::DecideResponse response;
    return stub_->Decide(As(user).get(), request, &response);
  }

  void Approve(const std::string& request_id, const std::string& user, const std::string& step,
               uint32_t version = 1) {
    ::grpc::Status status = Decide(request_id, user, step, v1::DECISION_APPROVE, version);
    EXPECT_TRUE(status.ok()) << user << " on " << step << ": " << status.error_message();
  }

  v1::VerifyAuditResponse Verify(const std::string& request_id) {
    v1::VerifyAuditRequest request;
    request.set_tenant_id("acme");
    request.set_request_id(request_id);
    v1::VerifyAuditResponse response;
    ::grpc::Status status = stub_->VerifyAudit(As("ops", "requester").get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  std::vector<v1::AuditEntry> AuditEntries(const std::string& request_id) {
    v1::ListAuditEntriesRequest request;
    request.set_tenant_id("acme");
    request.set_request_id(request_id);
    request.set_page_size(100);
    v1::ListAuditEntriesResponse response;
    ::grpc::Status status =
        stub_->ListAuditEntries(As("ops", "requester").get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return {response.entries().begin(), response.entries().end()};
  }

  // The events of `type` about `request_id` on the approvals topic, decoded,
  // once at least `at_least` are there (waiting up to 40 s).
  template <typename Payload>
  std::vector<Payload> ApprovalEvents(const std::string& type, const std::string& request_id,
                                      size_t at_least = 1) {
    std::vector<Payload> out;
    WaitFor(
        [&] {
          out.clear();
          for (const kafka::Record& r : RecordsOn(events::kApprovalsTopic)) {
            if (r.header("ce_type") != type || r.key != request_id) continue;
            Payload p;
            if (p.ParseFromString(r.value)) out.push_back(p);
          }
          return out.size() >= at_least;
        },
        absl::Seconds(40));
    return out;
  }

  // The timer commands about `request_id`, once at least `at_least` are in.
  std::vector<scheduler::v1::TimerRequested> TimerRequests(const std::string& request_id,
                                                           size_t at_least) {
    std::vector<scheduler::v1::TimerRequested> out;
    WaitFor(
        [&] {
          out.clear();
          for (const kafka::Record& r : RecordsOn(events::kTimerRequestsTopic)) {
            scheduler::v1::TimerRequested t;
            if (r.key == request_id && t.ParseFromString(r.value)) out.push_back(t);
          }
          return out.size() >= at_least;
        },
        absl::Seconds(40));
    return out;
  }

  // Whether the consumers have counted `count` events of `type`, whatever
  // their result.
  bool ConsumedCounted(const std::string& type, int count) {
    const std::string label = absl::StrCat("type=\"", type, "\"");
    return WaitFor([&] {
      std::istringstream lines(metrics().Render());
      int total = 0;
      for (std::string line; std::getline(lines, line);) {
        if (!absl::StartsWith(line, "flywheel_approval_consumed_events_total{") ||
            !absl::StrContains(line, label)) {
          continue;
        }
        total += std::stoi(line.substr(line.rfind(' ') + 1));
      }
      return total >= count;
    });
  }

  std::unique_ptr<v1::ApprovalService::Stub> stub_;
};

TEST_F(ApprovalIntegrationTest, SingleApprovalCompletesTheChainAndItsTimer) {
  const std::string id = NewRequestId();
  Route(id, "tier1-single-reviewer");
  EXPECT_EQ(Chain(id).status(), v1::CHAIN_STATUS_AWAITING_VERSION);
  SubmitVersionOk(id, 1);
  EXPECT_EQ(Step(Chain(id), "reviewer").status(), v1::STEP_STATUS_ACTIVE);

  Approve(id, "rita", "reviewer");
  EXPECT_EQ(Chain(id).status(), v1::CHAIN_STATUS_APPROVED);

  auto completed = ApprovalEvents<v1::ApprovalCompleted>(events::kApprovalCompleted, id);
  ASSERT_EQ(completed.size(), 1u);
  EXPECT_EQ(completed[0].outcome(), v1::CHAIN_STATUS_APPROVED);
  EXPECT_EQ(completed[0].version(), 1u);

  auto timers = TimerRequests(id, 2);
  ASSERT_EQ(timers.size(), 2u);
  EXPECT_EQ(timers[0].action(), scheduler::v1::TIMER_ACTION_START);
  EXPECT_EQ(timers[0].kind(), common::v1::TIMER_KIND_APPROVAL_STEP);
  EXPECT_EQ(timers[0].timer_id(), id + "/approval/reviewer/1");
  EXPECT_EQ(timers[1].action(), scheduler::v1::TIMER_ACTION_CANCEL);
  EXPECT_EQ(timers[1].timer_id(), id + "/approval/reviewer/1");
}

TEST_F(ApprovalIntegrationTest, ComplianceStartsOnlyAfterBrandAndLegalApproved) {
  const std::string id = NewRequestId();
  Route(id, "tier3-brand-legal-compliance");
  SubmitVersionOk(id, 1);
  v1::ApprovalChain chain = Chain(id);
  EXPECT_EQ(Step(chain, "brand").status(), v1::STEP_STATUS_ACTIVE);
  EXPECT_EQ(Step(chain, "legal").status(), v1::STEP_STATUS_ACTIVE);
  EXPECT_EQ(Step(chain, "compliance").status(), v1::STEP_STATUS_PENDING);

  Approve(id, "bea", "brand");
  Approve(id, "lena", "legal");
  EXPECT_EQ(Step(Chain(id), "compliance").status(), v1::STEP_STATUS_PENDING);
  // Compliance is not started yet: not a step the people of compliance may
  // decide.
  EXPECT_EQ(Decide(id, "cora", "compliance", v1::DECISION_APPROVE).error_code(),
            ::grpc::StatusCode::FAILED_PRECONDITION);

  Approve(id, "leo", "legal");
  EXPECT_EQ(Step(Chain(id), "compliance").status(), v1::STEP_STATUS_ACTIVE);
  auto started = ApprovalEvents<v1::StepStarted>(events::kApprovalStepStarted, id, 3);
  ASSERT_EQ(started.size(), 3u);
  EXPECT_EQ(started[2].step().step_id(), "compliance");
  EXPECT_THAT(started[2].approver_ids(), ::testing::UnorderedElementsAre("cora", "cal", "max"));

  Approve(id, "cora", "compliance");
  Approve(id, "cal", "compliance");
  EXPECT_EQ(Chain(id).status(), v1::CHAIN_STATUS_PENDING);
  Approve(id, "max", "compliance");
  EXPECT_EQ(Chain(id).status(), v1::CHAIN_STATUS_APPROVED);
  auto completed = ApprovalEvents<v1::ApprovalCompleted>(events::kApprovalCompleted, id);
  ASSERT_EQ(completed.size(), 1u);
  EXPECT_EQ(completed[0].outcome(), v1::CHAIN_STATUS_APPROVED);
}

TEST_F(ApprovalIntegrationTest, LegalNeedsTwoOfThree) {
  const std::string id = NewRequestId();
  Route(id, "tier2-brand-legal");
  SubmitVersionOk(id, 1);

  Approve(id, "lena", "legal");
  EXPECT_EQ(Step(Chain(id), "legal").status(), v1::STEP_STATUS_ACTIVE);
  Approve(id, "lou", "legal");
  EXPECT_EQ(Step(Chain(id), "legal").status(), v1::STEP_STATUS_APPROVED);
  EXPECT_EQ(Chain(id).status(), v1::CHAIN_STATUS_PENDING) << "brand has not approved";
  // The step is decided: the third member's vote is not asked for.
  EXPECT_EQ(Decide(id, "leo", "legal", v1::DECISION_APPROVE).error_code(),
            ::grpc::StatusCode::FAILED_PRECONDITION);
  Approve(id, "bob", "brand");
  EXPECT_EQ(Chain(id).status(), v1::CHAIN_STATUS_APPROVED);
}

TEST_F(ApprovalIntegrationTest, ChangesAndANewVersionAskLegalAgainAndKeepBrand) {
  const std::string id = NewRequestId();
  Route(id, "tier2-brand-legal");
  SubmitVersionOk(id, 1);
  Approve(id, "bea", "brand");
  ::grpc::Status asked = Decide(id, "lena", "legal", v1::DECISION_REQUEST_CHANGES, 1,
                                "the claim in the headline needs a source");
  ASSERT_TRUE(asked.ok()) << asked.error_message();
  v1::ApprovalChain chain = Chain(id);
  EXPECT_EQ(chain.status(), v1::CHAIN_STATUS_CHANGES_REQUESTED);
  EXPECT_EQ(Step(chain, "legal").status(), v1::STEP_STATUS_CHANGES_REQUESTED);
  auto changes = ApprovalEvents<v1::ChangesRequested>(events::kApprovalChangesRequested, id);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].version(), 1u);

  SubmitVersionOk(id, 2);
  chain = Chain(id);
  EXPECT_EQ(chain.current_version(), 2u);
  EXPECT_EQ(Step(chain, "brand").status(), v1::STEP_STATUS_APPROVED);
  EXPECT_EQ(Step(chain, "legal").status(), v1::STEP_STATUS_ACTIVE);
  auto started = ApprovalEvents<v1::StepStarted>(events::kApprovalStepStarted, id, 3);
  ASSERT_EQ(started.size(), 3u);
  EXPECT_EQ(started[2].step().step_id(), "legal");
  EXPECT_EQ(started[2].version(), 2u);

  ::grpc::Status outdated = Decide(id, "lena", "legal", v1::DECISION_APPROVE, 1);
  EXPECT_EQ(outdated.error_code(), ::grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(outdated.error_message(), HasSubstr("the current version is 2"));

  Approve(id, "lena", "legal", 2);
  Approve(id, "leo", "legal", 2);
  EXPECT_EQ(Chain(id).status(), v1::CHAIN_STATUS_APPROVED);
}

TEST_F(ApprovalIntegrationTest, StrangerIsRefusedAndNothingIsRecorded) {
  const std::string id = NewRequestId();
  Route(id, "tier1-single-reviewer");
  SubmitVersionOk(id, 1);
  const uint64_t before = Verify(id).entries();
  ASSERT_GT(before, 0u);

  EXPECT_EQ(Decide(id, "mallory", "reviewer", v1::DECISION_APPROVE).error_code(),
            ::grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Decide(id, "mallory", "reviewer", v1::DECISION_REJECT).error_code(),
            ::grpc::StatusCode::PERMISSION_DENIED);

  v1::VerifyAuditResponse after = Verify(id);
  EXPECT_EQ(after.entries(), before);
  EXPECT_TRUE(after.intact());
  EXPECT_EQ(Step(Chain(id), "reviewer").status(), v1::STEP_STATUS_ACTIVE);
}

TEST_F(ApprovalIntegrationTest, DelegateDecidesOnlyWithinThePeriod) {
  const absl::Time now = absl::Now();
  auto delegate = [&](const std::string& request_id, absl::Time from, absl::Time until) {
    v1::DelegateRequest request;
    request.set_tenant_id("acme");
    request.set_request_id(request_id);
    request.set_delegate_id("dana");
    request.mutable_valid_from()->set_seconds(absl::ToUnixSeconds(from));
    request.mutable_valid_until()->set_seconds(absl::ToUnixSeconds(until));
    v1::DelegateResponse response;
    return stub_->Delegate(As("rita").get(), request, &response);
  };

  const std::string within = NewRequestId();
  Route(within, "tier1-single-reviewer");
  SubmitVersionOk(within, 1);
  ::grpc::Status delegated = delegate(within, now - absl::Minutes(1), now + absl::Hours(1));
  ASSERT_TRUE(delegated.ok()) << delegated.error_message();
  Approve(within, "dana", "reviewer");
  v1::ApprovalChain chain = Chain(within);
  EXPECT_EQ(chain.status(), v1::CHAIN_STATUS_APPROVED);
  bool recorded = false;
  for (const v1::ApproverDecision& d : Step(chain, "reviewer").approvers()) {
    if (d.approver_id() == "rita" && d.decision() == v1::DECISION_APPROVE) {
      EXPECT_EQ(d.decided_by(), "dana");
      recorded = true;
    }
  }
  EXPECT_TRUE(recorded) << chain.ShortDebugString();

  const std::string later = NewRequestId();
  Route(later, "tier1-single-reviewer");
  SubmitVersionOk(later, 1);
  delegated = delegate(later, now + absl::Hours(1), now + absl::Hours(2));
  ASSERT_TRUE(delegated.ok()) << delegated.error_message();
  EXPECT_EQ(Decide(later, "dana", "reviewer", v1::DECISION_APPROVE).error_code(),
            ::grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Step(Chain(later), "reviewer").status(), v1::STEP_STATUS_ACTIVE);
}

TEST_F(ApprovalIntegrationTest, BreachHandsTheStepToItsEscalationOwner) {
  const std::string id = NewRequestId();
  Route(id, "tier1-single-reviewer");
  SubmitVersionOk(id, 1);
  Breach(id, "reviewer");

  v1::ApprovalChain chain;
  EXPECT_TRUE(WaitFor([&] {
    if (!GetChain(id, &chain).ok()) return false;
    const auto& owners = Step(chain, "reviewer").escalation_owner_ids();
    return std::find(owners.begin(), owners.end(), "max") != owners.end();
  })) << chain.ShortDebugString();
  auto escalated = ApprovalEvents<v1::StepEscalated>(events::kApprovalStepEscalated, id);
  ASSERT_EQ(escalated.size(), 1u);
  EXPECT_THAT(escalated[0].owner_ids(), ::testing::ElementsAre("max"));

  Approve(id, "max", "reviewer");
  EXPECT_EQ(Chain(id).status(), v1::CHAIN_STATUS_APPROVED);
}

TEST_F(ApprovalIntegrationTest, DuplicateEventsChangeNothing) {
  const std::string id = NewRequestId();
  Route(id, "tier1-single-reviewer");
  Route(id, "tier1-single-reviewer");
  ASSERT_TRUE(ConsumedCounted("request_routed", 2));
  SubmitVersionOk(id, 1);
  Breach(id, "reviewer");
  Breach(id, "reviewer");
  ASSERT_TRUE(ConsumedCounted("sla_breached", 2));

  int created = 0;
  int escalated_entries = 0;
  for (const v1::AuditEntry& e : AuditEntries(id)) {
    if (e.action() == v1::AUDIT_ACTION_CHAIN_CREATED) ++created;
    if (e.action() == v1::AUDIT_ACTION_ESCALATED) ++escalated_entries;
  }
  EXPECT_EQ(created, 1);
  EXPECT_EQ(escalated_entries, 1);
  EXPECT_EQ(ApprovalEvents<v1::StepEscalated>(events::kApprovalStepEscalated, id).size(), 1u);
  EXPECT_TRUE(Verify(id).intact());
}

TEST_F(ApprovalIntegrationTest, AuditTrailVerifiesAndATamperedEntryIsFound) {
  const std::string id = NewRequestId();
  Route(id, "tier1-single-reviewer");
  SubmitVersionOk(id, 1);
  Approve(id, "rita", "reviewer");
  v1::VerifyAuditResponse intact = Verify(id);
  EXPECT_TRUE(intact.intact()) << intact.reason();
  ASSERT_GE(intact.entries(), 3u);

  // Rewrite the second entry's detail in place, as someone with access to
  // Redis would, without fixing its hash.
  const std::string key = absl::StrCat(settings().redis_key_prefix, "approval:{acme}:audit:", id);
  auto stored = admin().Command({"LINDEX", key, "1"});
  ASSERT_TRUE(stored.ok()) << stored.status();
  v1::AuditEntry entry;
  ASSERT_TRUE(entry.ParseFromString(stored->str())) << stored->DebugString();
  ASSERT_EQ(entry.sequence(), 2u);
  entry.set_detail(entry.detail() + " (amended)");
  auto written = admin().Command({"LSET", key, "1", entry.SerializeAsString()});
  ASSERT_TRUE(written.ok()) << written.status();

  v1::VerifyAuditResponse broken = Verify(id);
  EXPECT_FALSE(broken.intact());
  EXPECT_EQ(broken.broken_at(), 2u);
  EXPECT_EQ(broken.entries(), intact.entries());

  v1::ExportAuditRequest request;
  request.set_tenant_id("acme");
  request.set_request_id(id);
  v1::ExportAuditResponse exported;
  ::grpc::Status status = stub_->ExportAudit(As("ops", "requester").get(), request, &exported);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_THAT(exported.json(), HasSubstr("\"intact\": false"));
}

TEST_F(ApprovalIntegrationTest, BadInputIsRefused) {
  v1::ApprovalChain none;
  EXPECT_EQ(GetChain("req_never_routed", &none).error_code(), ::grpc::StatusCode::NOT_FOUND);

  const std::string id = NewRequestId();
  Route(id, "tier1-single-reviewer");
  SubmitVersionOk(id, 1);
  const std::string oversized(64 * 1024 + 1, 'x');
  EXPECT_EQ(Decide(id, "rita", "reviewer", v1::DECISION_APPROVE, 1, oversized).error_code(),
            ::grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Step(Chain(id), "reviewer").status(), v1::STEP_STATUS_ACTIVE);

  Approve(id, "rita", "reviewer");
  EXPECT_EQ(Chain(id).status(), v1::CHAIN_STATUS_APPROVED);
  EXPECT_EQ(Decide(id, "raj", "reviewer", v1::DECISION_APPROVE).error_code(),
            ::grpc::StatusCode::FAILED_PRECONDITION);
}

}  // namespace
}  // namespace flywheel::approval
