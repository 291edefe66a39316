// Lead scoring through the real broker and Redis, started as main() starts
// it but on a fake clock (StartLeadScoringOn): activity and profiles in from
// their topics, lead.scored and lead.qualified out, scores read over gRPC.
// Decay and the cool-down move with the clock; nothing here sleeps for them.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <map>

#include "absl/strings/str_cat.h"
#include "flywheel/core/clock.h"
#include "flywheel/core/proto_time.h"
#include "flywheel/core/testing/wait_for.h"
#include "flywheel/events/catalog.h"
#include "flywheel/kafka/cloud_event.h"
#include "flywheel/kafka/consumer.h"
#include "flywheel/leadscoring/v1/events.pb.h"
#include "flywheel/leadscoring/v1/leadscoring_service.grpc.pb.h"
#include "flywheel/runtime/testing/service_fixture.h"
#include "lead_scoring_app.h"

namespace flywheel::lead_scoring {
namespace {

using ::flywheel::testing::WaitFor;
using ::testing::HasSubstr;
namespace v1 = ::flywheel::leadscoring::v1;

constexpr absl::Duration kDay = absl::Hours(24);

class LeadScoringIntegrationTest : public runtime::testing::ServiceFixture {
 protected:
  LeadScoringIntegrationTest()
      : ServiceFixture([this](const runtime::CommonSettings& s, config::Config& c,
                              metrics::Metrics& m) { return StartLeadScoringOn(s, c, m, clock_); },
                       "outbox:\n  relay_interval: 200ms\n"
                       "lead_scoring:\n  max_event_bytes: 65536\n"),
        clock_(absl::FromUnixSeconds(1'800'000'000)) {}

  void SetUp() override {
    ServiceFixture::SetUp();
    if (HasFatalFailure()) return;
    stub_ = v1::LeadScoringService::NewStub(channel());
  }

  v1::LeadActivity Activity(const std::string& lead, const std::string& id, const std::string& type,
                            const std::string& url = "") {
    v1::LeadActivity a;
    a.set_tenant_id("acme");
    a.set_lead_id(lead);
    a.set_activity_id(id);
    a.set_activity_type(type);
    *a.mutable_occur_time() = ToProtoTime(clock_.Now());
    if (!url.empty()) (*a.mutable_attributes())["url"] = url;
    return a;
  }

  void Send(const v1::LeadActivity& a) {
    const std::string key = a.lead_id().empty() ? a.anonymous_id() : a.lead_id();
    Publish(events::kLeadActivityTopic, {.id = "evt-" + a.activity_id(),
                                         .source = "//tests/web",
                                         .type = events::kLeadActivity,
                                         .data_content_type = kafka::kProtobufContentType,
                                         .key = key,
                                         .data = a.SerializeAsString()});
  }

  void SendProfile(const std::string& lead, const std::string& account,
                   const std::string& seniority) {
    v1::LeadProfile p;
    p.set_tenant_id("acme");
    p.set_lead_id(lead);
    p.set_account_id(account);
    p.set_seniority(seniority);
    *p.mutable_update_time() = ToProtoTime(clock_.Now());
    Publish(events::kLeadProfilesTopic, {.id = "profile-" + lead + "-" + seniority,
                                         .source = "//tests/crm",
                                         .type = events::kLeadProfile,
                                         .data_content_type = kafka::kProtobufContentType,
                                         .key = lead,
                                         .data = p.SerializeAsString()});
  }

  ::grpc::Status GetScore(const std::string& lead, v1::LeadScore* out, bool explain = false) {
    v1::GetScoreRequest request;
    request.set_tenant_id("acme");
    request.set_lead_id(lead);
    request.set_explain(explain);
    v1::GetScoreResponse response;
    ::grpc::Status status = stub_->GetScore(auth().CallAs("acme").get(), request, &response);
    *out = response.score();
    return status;
  }

  // Waits until the lead's score is `score` (its activity was consumed).
  bool ScoreBecomes(const std::string& lead, int score) {
    v1::LeadScore s;
    ::grpc::Status status;
    if (WaitFor([&] { return (status = GetScore(lead, &s)).ok() && s.score() == score; })) {
      return true;
    }
    ADD_FAILURE() << lead << " scores " << s.score() << " (" << status.error_message() << ")";
    return false;
  }

  // The events on the scores topic, by id, once there are `at_least`.
  std::map<std::string, kafka::CloudEvent> ScoreEvents(size_t at_least) {
    std::map<std::string, kafka::CloudEvent> out;
    for (const kafka::Record& record : RecordsOn(events::kLeadScoresTopic, at_least)) {
      auto event = kafka::Decode(record);
      EXPECT_TRUE(event.ok()) << event.status();
      if (event.ok()) out[event->id] = *std::move(event);
    }
    return out;
  }

  size_t Qualifications(const std::map<std::string, kafka::CloudEvent>& events) {
    size_t n = 0;
    for (const auto& [id, e] : events) n += e.type == events::kLeadQualified;
    return n;
  }

  FakeClock clock_;
  std::unique_ptr<v1::LeadScoringService::Stub> stub_;
};

TEST_F(LeadScoringIntegrationTest, PointsCapsNegativesAndDecayGiveTheExpectedScores) {
  // Three pricing views in a day: 15 each, capped at two a day; each is a
  // page view too (2 each). A webinar (30) and a form (20) decay; a demo
  // request (50) and an unsubscribe (-40) do not.
  const std::string pricing = "https://acme.test/pricing";
  Send(Activity("lead-1", "p1", "page_viewed", pricing));
  Send(Activity("lead-1", "p2", "page_viewed", pricing));
  Send(Activity("lead-1", "p3", "page_viewed", pricing));
  Send(Activity("lead-1", "w1", "webinar_attended"));
  Send(Activity("lead-1", "f1", "form_submitted"));
  Send(Activity("lead-1", "d1", "demo_requested"));
  Send(Activity("lead-1", "u1", "unsubscribed"));
  // 30 + 6 + 30 + 20 decaying, 50 - 40 flat.
  ASSERT_TRUE(ScoreBecomes("lead-1", 96));

  v1::LeadScore score;
  ASSERT_TRUE(GetScore("lead-1", &score, true).ok());
  EXPECT_EQ(score.engagement_score(), 96);
  EXPECT_EQ(score.band(), v1::SCORE_BAND_COLD);
  const v1::ScoreContribution* pricing_rule = nullptr;
  for (const auto& c : score.contributions()) {
    if (c.rule_id() == "pricing_page") pricing_rule = &c;
  }
  ASSERT_NE(pricing_rule, nullptr);
  EXPECT_EQ(pricing_rule->occurrences(), 2u);
  EXPECT_EQ(pricing_rule->capped(), 1u);
  EXPECT_EQ(pricing_rule->activities_size(), 2);

  // One half-life later the decaying 86 count 43; the flat 10 stay.
  clock_.Advance(30 * kDay);
  ASSERT_TRUE(GetScore("lead-1", &score).ok());
  EXPECT_EQ(score.score(), 53);
  EXPECT_EQ(score.engagement_score(), 53);
}

TEST_F(LeadScoringIntegrationTest, AnonymousActivityCountsAfterTheMerge) {
  v1::LeadActivity visit = Activity("", "v1", "webinar_attended");
  visit.set_anonymous_id("visitor-9");
  Send(visit);
  v1::LeadActivity form = Activity("lead-2", "v2", "form_submitted");
  form.set_anonymous_id("visitor-9");
  Send(form);
  // The webinar before the form counts for the lead: 30 + 20.
  ASSERT_TRUE(ScoreBecomes("lead-2", 50));
  // Later activity under the visitor id goes to the lead.
  v1::LeadActivity later = Activity("", "v3", "email_clicked");
  later.set_anonymous_id("visitor-9");
  Send(later);
  ASSERT_TRUE(ScoreBecomes("lead-2", 55));
  // The visitor's activity is among the lead's explanation.
  v1::LeadScore score;
  ASSERT_TRUE(GetScore("lead-2", &score, true).ok());
  bool webinar_explained = false;
  for (const auto& c : score.contributions()) {
    for (const auto& a : c.activities()) webinar_explained |= a.activity_id() == "v1";
  }
  EXPECT_TRUE(webinar_explained);
}

TEST_F(LeadScoringIntegrationTest, QualifiesOnceAcrossDuplicatesARestartAndAFlap) {
  // 50 (demo, flat) + 30 + 20 = 100: the MQL threshold.
  Send(Activity("lead-3", "q1", "demo_requested"));
  Send(Activity("lead-3", "q2", "webinar_attended"));
  Send(Activity("lead-3", "q3", "form_submitted"));
  Send(Activity("lead-3", "q3", "form_submitted"));  // a duplicate
  ASSERT_TRUE(ScoreBecomes("lead-3", 100));
  std::map<std::string, kafka::CloudEvent> events = ScoreEvents(2);
  ASSERT_TRUE(events.contains("lead-3/qualified/acme-b2b/1"));
  v1::LeadQualified qualified;
  ASSERT_TRUE(qualified.ParseFromString(events.at("lead-3/qualified/acme-b2b/1").data));
  EXPECT_EQ(qualified.score().score(), 100);
  EXPECT_EQ(qualified.mql_threshold(), 100);
  EXPECT_FALSE(qualified.score().contributions().empty());  // the top reasons
  EXPECT_EQ(qualified.score().contributions(0).rule_id(), "demo_request");

  // A restart that is handed the same events again changes nothing.
  app().Stop();
  metrics::Metrics second_metrics;
  auto second = StartLeadScoringOn(settings(), config(), second_metrics, clock_);
  ASSERT_TRUE(second.ok()) << second.status();
  Send(Activity("lead-3", "q2", "webinar_attended"));
  Send(Activity("lead-3", "q3", "form_submitted"));

  // A flap: decay takes it below MQL, a click then moves it (cold again),
  // another form lifts it over: no second hand-off.
  clock_.Advance(30 * kDay);
  Send(Activity("lead-3", "q4", "email_clicked"));   // 50 + 25 + 5 = 80
  Send(Activity("lead-3", "q5", "form_submitted"));  // + 20 = 100
  Send(Activity("lead-3", "q6", "email_clicked"));   // + 5 = 105
  auto stub = v1::LeadScoringService::NewStub(runtime::testing::ChannelTo(**second));
  ASSERT_TRUE(WaitFor([&] {
    v1::GetScoreRequest request;
    request.set_tenant_id("acme");
    request.set_lead_id("lead-3");
    v1::GetScoreResponse response;
    return stub->GetScore(auth().CallAs("acme").get(), request, &response).ok() &&
           response.score().score() == 105;
  }));
  // The band went cold and back to MQL: lead.scored twice more, one
  // qualification in all.
  events = ScoreEvents(4);
  EXPECT_EQ(Qualifications(events), 1u);
  size_t scored = 0;
  for (const auto& [id, e] : events) scored += e.type == events::kLeadScored;
  EXPECT_EQ(scored, 3u);
  (*second)->Stop();
}

TEST_F(LeadScoringIntegrationTest, AccountScoreRollsUpItsLeads) {
  SendProfile("lead-4", "acct-1", "vp");        // fit 30
  SendProfile("lead-5", "acct-1", "director");  // fit 20
  SendProfile("lead-6", "acct-2", "vp");
  Send(Activity("lead-4", "a1", "webinar_attended"));  // 30
  ASSERT_TRUE(ScoreBecomes("lead-4", 60));
  ASSERT_TRUE(ScoreBecomes("lead-5", 20));
  v1::GetAccountScoreRequest request;
  request.set_tenant_id("acme");
  request.set_account_id("acct-1");
  v1::GetAccountScoreResponse response;
  ASSERT_TRUE(stub_->GetAccountScore(auth().CallAs("acme").get(), request, &response).ok());
  EXPECT_EQ(response.account().score(), 80);  // acme sums
  EXPECT_EQ(response.account().aggregate(), v1::ACCOUNT_AGGREGATE_SUM);
  EXPECT_EQ(response.account().lead_count(), 2u);
  ASSERT_EQ(response.account().leads_size(), 2);
  EXPECT_EQ(response.account().leads(0).lead_id(), "lead-4");
  EXPECT_EQ(response.account().leads(0).grade(), v1::FIT_GRADE_C);

  v1::ListLeadsRequest list;
  list.set_tenant_id("acme");
  list.set_account_id("acct-1");
  v1::ListLeadsResponse listed;
  ASSERT_TRUE(stub_->ListLeads(auth().CallAs("acme").get(), list, &listed).ok());
  ASSERT_EQ(listed.leads_size(), 2);
  EXPECT_EQ(listed.leads(0).lead_id(), "lead-4");
}

TEST_F(LeadScoringIntegrationTest, BacktestCountsTheLeadsACandidateWouldMove) {
  Send(Activity("lead-7", "b1", "form_submitted"));  // 20
  Send(Activity("lead-8", "b2", "form_submitted"));
  Send(Activity("lead-8", "b3", "webinar_attended"));  // 50
  Send(Activity("lead-9", "b4", "demo_requested"));
  Send(Activity("lead-9", "b5", "webinar_attended"));
  Send(Activity("lead-9", "b6", "form_submitted"));  // 100: MQL
  ASSERT_TRUE(ScoreBecomes("lead-7", 20));
  ASSERT_TRUE(ScoreBecomes("lead-8", 50));
  ASSERT_TRUE(ScoreBecomes("lead-9", 100));
  // Now 20, 50 and 100 (MQL 100, SQL-ready 150). The candidate makes a
  // form worth 60 and sets MQL at 80, SQL-ready at 140: 60 (cold), 90 (MQL:
  // crosses) and 140 (SQL-ready: crosses).
  v1::BacktestRequest request;
  request.set_tenant_id("acme");
  request.set_model_yaml(R"yaml(
id: acme-b2b
version: 2
half_life: 30d
mql: 80
sql_ready: 140
grades: {a: 60, b: 40, c: 20}
engagement:
  - {id: form_submit, activity: form_submitted, points: 60}
  - {id: webinar_attended, activity: webinar_attended, points: 30}
  - {id: demo_request, activity: demo_requested, points: 50, decays: false}
)yaml");
  v1::BacktestResponse response;
  ASSERT_TRUE(stub_->Backtest(auth().CallAs("acme").get(), request, &response).ok());
  EXPECT_EQ(response.leads(), 3u);
  EXPECT_EQ(response.current_mql(), 1u);
  EXPECT_EQ(response.candidate_mql(), 2u);
  EXPECT_EQ(response.would_cross_mql(), 1u);
  EXPECT_EQ(response.current_sql_ready(), 0u);
  EXPECT_EQ(response.candidate_sql_ready(), 1u);  // lead-9: 140
  EXPECT_EQ(response.would_cross_sql_ready(), 1u);
  EXPECT_EQ(response.band_changes_count(), 2u);
  ASSERT_EQ(response.band_changes_size(), 2);
  EXPECT_EQ(response.band_changes(0).lead_id(), "lead-8");
  EXPECT_EQ(response.band_changes(0).candidate_band(), v1::SCORE_BAND_MQL);
  EXPECT_EQ(response.band_changes(1).lead_id(), "lead-9");
  EXPECT_EQ(response.band_changes(1).candidate_band(), v1::SCORE_BAND_SQL_READY);

  // A candidate with an unknown field is refused, naming it.
  request.set_model_yaml("id: x\nversion: 1\nmql: 1\nsql_ready: 2\nhalflife: 1d\n");
  ::grpc::Status refused = stub_->Backtest(auth().CallAs("acme").get(), request, &response);
  EXPECT_EQ(refused.error_code(), ::grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(refused.error_message(), HasSubstr("halflife: unknown key"));
}

TEST_F(LeadScoringIntegrationTest, BadEventsAreDeadLetteredWithTheReasonAndScoreNothing) {
  Send(Activity("", "x1", "form_submitted"));       // no lead
  Send(Activity("lead-10", "x2", "fax_received"));  // unknown type
  v1::LeadActivity future = Activity("lead-10", "x3", "form_submitted");
  *future.mutable_occur_time() = ToProtoTime(clock_.Now() + absl::Hours(2));
  Send(future);
  v1::LeadActivity big = Activity("lead-10", "x4", "form_submitted");
  (*big.mutable_attributes())["blob"] = std::string(70'000, 'x');  // over the 64 KiB set
  Send(big);
  Publish(events::kLeadActivityTopic, {.id = "evt-x5",
                                       .source = "//tests/web",
                                       .type = "dev.example.unknown.v1",
                                       .data_content_type = kafka::kProtobufContentType,
                                       .key = "lead-10",
                                       .data = "??"});
  // The only good one (5 points), with JSON data as systems outside
  // Flywheel send it.
  Publish(events::kLeadActivityTopic,
          {.id = "evt-x6",
           .source = "//tests/email",
           .type = events::kLeadActivity,
           .data_content_type = "application/json",
           .key = "lead-10",
           .data = absl::StrCat(R"({"tenantId": "acme", "leadId": "lead-10", "activityId": "x6",)",
                                R"( "activityType": "email_clicked", "occurTime": ")",
                                kafka::FormatRfc3339(clock_.Now()), R"("})")});
  ASSERT_TRUE(ScoreBecomes("lead-10", 5));
  std::vector<kafka::Record> dead = RecordsOn(events::kLeadScoringDeadLetterTopic, 5);
  ASSERT_EQ(dead.size(), 5u);
  std::string reasons;
  for (const kafka::Record& r : dead) {
    reasons += std::string(r.header(kafka::kDeadLetterReasonHeader).value_or("")) + "\n";
  }
  EXPECT_THAT(reasons, HasSubstr("lead_id: is required"));
  EXPECT_THAT(reasons, HasSubstr("activity_type: unknown activity type \"fax_received\""));
  EXPECT_THAT(reasons, HasSubstr("occur_time: is 2h ahead of the service's clock"));
  EXPECT_THAT(reasons, HasSubstr("at most 65536 are accepted"));
  EXPECT_THAT(reasons, HasSubstr("unknown event type \"dev.example.unknown.v1\""));
}

}  // namespace
}  // namespace flywheel::lead_scoring
