// A consumed batch scored as one, against the real Redis: duplicates inside
// the batch, one lead's events in order, a visitor linked and active in the
// same batch, and a bad event among good ones.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "flywheel/core/clock.h"
#include "flywheel/core/proto_time.h"
#include "flywheel/events/catalog.h"
#include "flywheel/kafka/payload.h"
#include "flywheel/metrics/metrics.h"
#include "incoming_events.h"
#include "lead_scoring.h"
#include "lead_store_env.h"
#include "policy_parser.h"

namespace flywheel::lead_scoring {
namespace {

class LeadScoringBatchTest : public testing::LeadStoreEnv {
 protected:
  void SetUp() override {
    LeadStoreEnv::SetUp();
    if (HasFatalFailure()) return;
    absl::StatusOr<Policy> policy = ParsePolicy(DefaultPolicyYaml());
    ASSERT_TRUE(policy.ok()) << policy.status();
    policy_ = std::make_unique<PolicyHolder>(std::make_shared<const Policy>(*std::move(policy)));
    scoring_ = std::make_unique<LeadScoring>(*policy_, *store_, lead_metrics_, clock_,
                                             LeadScoringOptions{.scores_topic = "scores"});
    incoming_ = std::make_unique<IncomingEvents>(*scoring_, 65536);
  }

  kafka::ConsumedEvent Event(const std::string& lead, const std::string& visitor,
                             const std::string& id, const std::string& type) {
    v1::LeadActivity a;
    a.set_tenant_id("acme");
    a.set_lead_id(lead);
    a.set_anonymous_id(visitor);
    a.set_activity_id(id);
    a.set_activity_type(type);
    *a.mutable_occur_time() = ToProtoTime(clock_.Now());
    kafka::ConsumedEvent out;
    out.event.id = "evt-" + id;
    out.event.type = events::kLeadActivity;
    out.event.data_content_type = kafka::kProtobufContentType;
    out.event.key = lead.empty() ? visitor : lead;
    out.event.data = a.SerializeAsString();
    return out;
  }

  std::vector<absl::Status> Handle(std::vector<kafka::ConsumedEvent> events) {
    kafka::EventBatch batch{.topic = "activity", .partition = 0, .events = std::move(events)};
    return Await(incoming_->Batch(std::move(batch)));
  }

  int Score(const std::string& lead) {
    v1::GetScoreRequest request;
    request.set_tenant_id("acme");
    request.set_lead_id(lead);
    auto response = Await(scoring_->GetScore(request));
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? response->score().score() : -1;
  }

  size_t Published(const std::string& type) { return outbox_.publisher().OfType(type).size(); }

  FakeClock clock_{absl::FromUnixSeconds(1'800'000'000)};
  metrics::Metrics metrics_;
  LeadScoringMetrics lead_metrics_{metrics_};
  std::unique_ptr<PolicyHolder> policy_;
  std::unique_ptr<LeadScoring> scoring_;
  std::unique_ptr<IncomingEvents> incoming_;
};

MATCHER(IsOk, "") { return arg.ok(); }

TEST_F(LeadScoringBatchTest, ADuplicateInsideOneBatchScoresOnce) {
  EXPECT_THAT(Handle({Event("lead-1", "", "f1", "form_submitted"),
                      Event("lead-1", "", "f1", "form_submitted")}),
              ::testing::Each(IsOk()));
  EXPECT_EQ(Score("lead-1"), 20);
  // And again in a later batch.
  EXPECT_THAT(Handle({Event("lead-1", "", "f1", "form_submitted")}), ::testing::Each(IsOk()));
  EXPECT_EQ(Score("lead-1"), 20);
}

TEST_F(LeadScoringBatchTest, EventsOfOneLeadInOneBatchAllCountInOrder) {
  // 50 + 30 + 20 = 100 crosses MQL on the third: one lead.qualified, and
  // lead.scored ids that follow the lead's revisions.
  EXPECT_THAT(Handle({Event("lead-1", "", "d1", "demo_requested"),
                      Event("lead-2", "", "e1", "email_clicked"),
                      Event("lead-1", "", "w1", "webinar_attended"),
                      Event("lead-1", "", "f1", "form_submitted"),
                      Event("lead-1", "", "f2", "form_submitted")}),
              ::testing::Each(IsOk()));
  EXPECT_EQ(Score("lead-1"), 120);
  EXPECT_EQ(Score("lead-2"), 5);
  EXPECT_EQ(Published(events::kLeadQualified), 1u);
  std::vector<std::string> scored;
  for (const auto& e : outbox_.publisher().published()) {
    if (e.type == events::kLeadScored && e.key == "lead-1") scored.push_back(e.id);
  }
  // A new lead starts cold; MQL at its third event, the lead's third revision.
  EXPECT_THAT(scored, ::testing::ElementsAre("lead-1/scored/3"));
  // Replayed whole, the batch changes nothing and publishes nothing new.
  const size_t before = outbox_.publisher().published().size();
  EXPECT_THAT(Handle({Event("lead-1", "", "d1", "demo_requested"),
                      Event("lead-1", "", "w1", "webinar_attended"),
                      Event("lead-1", "", "f1", "form_submitted")}),
              ::testing::Each(IsOk()));
  EXPECT_EQ(Score("lead-1"), 120);
  EXPECT_EQ(outbox_.publisher().published().size(), before);
}

TEST_F(LeadScoringBatchTest, AVisitorsActivityLinkAndLaterActivityInOneBatchAllCount) {
  // Anonymous webinar (30), the form that links the visitor (20), then the
  // visitor's demo request (50), which now counts for the lead; the
  // webinar repeated under the lead is a duplicate.
  EXPECT_THAT(Handle({Event("", "visitor-1", "v1", "webinar_attended"),
                      Event("lead-1", "visitor-1", "f1", "form_submitted"),
                      Event("", "visitor-1", "v2", "demo_requested"),
                      Event("lead-1", "", "v1", "webinar_attended")}),
              ::testing::Each(IsOk()));
  EXPECT_EQ(Score("lead-1"), 100);
  EXPECT_EQ(Published(events::kLeadQualified), 1u);
  // The visitor's later activity, in a later batch, is the lead's too.
  EXPECT_THAT(Handle({Event("", "visitor-1", "c1", "email_clicked")}), ::testing::Each(IsOk()));
  EXPECT_EQ(Score("lead-1"), 105);
}

TEST_F(LeadScoringBatchTest, ABadEventInTheMiddleIsRefusedWhileTheRestScore) {
  kafka::ConsumedEvent garbled = Event("lead-1", "", "x1", "form_submitted");
  garbled.event.data = "not a protobuf";
  std::vector<absl::Status> statuses = Handle(
      {Event("lead-1", "", "d1", "demo_requested"), Event("lead-1", "", "x2", "fax_sent"), garbled,
       Event("lead-2", "", "w1", "webinar_attended"), Event("lead-1", "", "f1", "form_submitted")});
  ASSERT_EQ(statuses.size(), 5u);
  EXPECT_TRUE(statuses[0].ok()) << statuses[0];
  // Refused (INVALID_ARGUMENT, which the consumer dead-letters with the
  // reason), with the field named.
  EXPECT_EQ(statuses[1].code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(statuses[1].ToString(), ::testing::HasSubstr("fax_sent"));
  EXPECT_EQ(statuses[2].code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(statuses[3].ok()) << statuses[3];
  EXPECT_TRUE(statuses[4].ok()) << statuses[4];
  EXPECT_EQ(Score("lead-1"), 70);
  EXPECT_EQ(Score("lead-2"), 30);
}

}  // namespace
}  // namespace flywheel::lead_scoring
