// Reporting through the real broker and Redis, started as main() starts it:
// a scripted week of workflow, approval, SLA, publishing, lead and money
// events in on their topics, every metric read back over gRPC and checked
// against numbers worked out by hand below. Sending every event again, and
// replaying the topics from the start into a new generation, change none.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <functional>

#include "absl/strings/str_cat.h"
#include "flywheel/approval/v1/events.pb.h"
#include "flywheel/core/clock.h"
#include "flywheel/core/proto_time.h"
#include "flywheel/core/testing/wait_for.h"
#include "flywheel/events/catalog.h"
#include "flywheel/intake/v1/events.pb.h"
#include "flywheel/kafka/cloud_event.h"
#include "flywheel/leadscoring/v1/events.pb.h"
#include "flywheel/reporting/v1/events.pb.h"
#include "flywheel/reporting/v1/reporting_service.grpc.pb.h"
#include "flywheel/routing/v1/events.pb.h"
#include "flywheel/runtime/testing/service_fixture.h"
#include "flywheel/scheduler/v1/events.pb.h"
#include "reporting_app.h"

namespace flywheel::reporting {
namespace {

using ::flywheel::testing::WaitFor;
using ::testing::HasSubstr;
namespace v1 = ::flywheel::reporting::v1;
namespace common = ::flywheel::common::v1;

// Monday 2027-01-04 00:00 UTC: the week reported.
const absl::Time kMonday = absl::FromUnixSeconds(1'799'020'800);

absl::Time At(int day, int hour, int minute = 0) {
  return kMonday + absl::Hours(24 * day + hour) + absl::Minutes(minute);
}
google::protobuf::Timestamp Ts(absl::Time t) { return ToProtoTime(t); }
int64_t Minutes(const google::protobuf::Duration& d) {
  return absl::ToInt64Minutes(FromProtoDuration(d));
}

class ReportingIntegrationTest : public runtime::testing::ServiceFixture {
 protected:
  ReportingIntegrationTest()
      : ServiceFixture([this](const runtime::CommonSettings& s, config::Config& c,
                              metrics::Metrics& m) { return StartReportingOn(s, c, m, clock_); }),
        clock_(At(7, 12)) {
    // The topics of the services reporting reads, which do not run here.
    std::vector<kafka::TopicSpec> topics;
    for (const char* topic :
         {events::kRequestsTopic, events::kSubmissionsTopic, events::kWorkflowsTopic,
          events::kApprovalsTopic, events::kSlaTopic, events::kPublishingTopic,
          events::kPublishResultsTopic, events::kLeadActivityTopic, events::kLeadScoresTopic}) {
      topics.push_back({.name = topic, .partitions = 3});
    }
    CreateTopicsBeforeStart(std::move(topics));
  }

  void SetUp() override {
    ServiceFixture::SetUp();
    if (HasFatalFailure()) return;
    stub_ = v1::ReportingService::NewStub(channel());
  }

  // Sends one event and remembers it, for `SendAllAgain`.
  void Send(const std::string& topic, const std::string& type, const std::string& key,
            absl::Time time, const google::protobuf::Message& payload) {
    kafka::CloudEvent event{.id = absl::StrCat("evt-", sent_.size()),
                            .source = "//tests/week",
                            .type = type,
                            .time = time,
                            .data_content_type = kafka::kProtobufContentType,
                            .key = key,
                            .data = payload.SerializeAsString()};
    Publish(topic, event);
    sent_.emplace_back(topic, std::move(event));
  }
  void SendAllAgain() {
    for (const auto& [topic, event] : sent_) Publish(topic, event);
  }

  void Submit(const std::string& id, const std::string& type, common::Channel channel,
              const std::string& campaign, absl::Time at, absl::Time due) {
    intake::v1::RequestSubmitted e;
    e.set_tenant_id("acme");
    e.set_request_id(id);
    intake::v1::Request* r = e.mutable_request();
    r->set_tenant_id("acme");
    r->set_request_id(id);
    r->mutable_spec()->set_request_type_id(type);
    r->mutable_spec()->set_campaign_id(campaign);
    r->mutable_spec()->add_channels(channel);
    *r->mutable_spec()->mutable_due_time() = Ts(due);
    *r->mutable_create_time() = Ts(at);
    Send(events::kRequestsTopic, events::kRequestSubmitted, id, at, e);
  }
  void Route(const std::string& id, const std::string& team, absl::Time at) {
    routing::v1::RequestRouted e;
    e.set_tenant_id("acme");
    e.set_request_id(id);
    e.set_team_id(team);
    e.mutable_workflow()->set_template_id("standard");
    routing::v1::StageInstance* brief = e.mutable_workflow()->add_stages();
    brief->set_stage_id("brief");
    brief->set_stage(common::STAGE_BRIEF);
    *brief->mutable_enter_time() = Ts(at);
    Send(events::kWorkflowsTopic, events::kRequestRouted, id, at, e);
  }
  // Moves `id` from the stage entered at `entered` to `to` (empty: done).
  void Advance(const std::string& id, const std::string& from, common::Stage from_stage,
               absl::Time entered, const std::string& to, common::Stage to_stage, absl::Time at) {
    routing::v1::StageAdvanced e;
    e.set_tenant_id("acme");
    e.set_request_id(id);
    e.set_from_stage_id(from);
    e.set_from_stage(from_stage);
    *e.mutable_from_stage_enter_time() = Ts(entered);
    e.set_to_stage_id(to);
    e.set_to_stage(to_stage);
    *e.mutable_transition_time() = Ts(at);
    Send(events::kWorkflowsTopic, events::kStageAdvanced, id, at, e);
  }
  void Complete(const std::string& id, absl::Time at) {
    routing::v1::WorkflowCompleted e;
    e.set_tenant_id("acme");
    e.set_request_id(id);
    e.set_outcome(routing::v1::WORKFLOW_STATUS_COMPLETED);
    *e.mutable_complete_time() = Ts(at);
    Send(events::kWorkflowsTopic, events::kWorkflowCompleted, id, at, e);
  }
  void Published(const std::string& id, absl::Time at) {
    scheduler::v1::PublishDone e;
    e.set_tenant_id("acme");
    e.set_request_id(id);
    e.set_slot_id(id + "-slot");
    *e.mutable_publish_time() = Ts(at);
    Send(events::kPublishResultsTopic, events::kPublishDone, id, at, e);
  }
  void StepStarted(const std::string& id, uint32_t round, absl::Time at) {
    approval::v1::StepStarted e;
    e.set_tenant_id("acme");
    e.set_request_id(id);
    e.mutable_step()->set_step_id("brand");
    e.set_round(round);
    Send(events::kApprovalsTopic, events::kApprovalStepStarted, id, at, e);
  }
  void Sla(const std::string& id, bool breach, absl::Time at) {
    if (breach) {
      scheduler::v1::SlaBreached e;
      e.set_tenant_id("acme");
      e.set_request_id(id);
      e.set_timer_id(id + "/stage/creation");
      Send(events::kSlaTopic, events::kSlaBreached, id, at, e);
    } else {
      scheduler::v1::SlaWarning e;
      e.set_tenant_id("acme");
      e.set_request_id(id);
      e.set_timer_id(id + "/stage/creation");
      Send(events::kSlaTopic, events::kSlaWarning, id, at, e);
    }
  }
  void Touch(const std::string& lead, const std::string& id, const std::string& campaign,
             common::Channel channel, absl::Time at) {
    leadscoring::v1::LeadActivity e;
    e.set_tenant_id("acme");
    e.set_lead_id(lead);
    e.set_activity_id(id);
    e.set_activity_type("page_viewed");
    e.set_campaign_id(campaign);
    e.set_channel(channel);
    *e.mutable_occur_time() = Ts(at);
    Send(events::kLeadActivityTopic, events::kLeadActivity, lead, at, e);
  }
  void Qualify(const std::string& lead, absl::Time at) {
    leadscoring::v1::LeadQualified e;
    e.set_tenant_id("acme");
    e.set_lead_id(lead);
    Send(events::kLeadScoresTopic, events::kLeadQualified, lead, at, e);
  }
  void Spend(const std::string& id, const std::string& campaign, common::Channel channel,
             int64_t units, const std::string& currency, absl::Time start) {
    v1::CampaignSpendReported e;
    e.set_tenant_id("acme");
    e.set_campaign_id(campaign);
    e.set_spend_id(id);
    e.set_channel(channel);
    *e.mutable_period()->mutable_start_time() = Ts(start);
    *e.mutable_period()->mutable_end_time() = Ts(start + absl::Hours(24));
    e.mutable_amount()->set_currency_code(currency);
    e.mutable_amount()->set_units(units);
    Send(events::kCampaignSpendTopic, events::kCampaignSpendReported, campaign, start, e);
  }
  void Revenue(const std::string& lead, const std::string& opportunity, int64_t units,
               absl::Time at) {
    v1::RevenueAttributed e;
    e.set_tenant_id("acme");
    e.set_lead_id(lead);
    e.set_opportunity_id(opportunity);
    e.set_campaign_id("spring");
    e.set_channel(common::CHANNEL_PAID_SEARCH);
    e.mutable_amount()->set_currency_code("EUR");
    e.mutable_amount()->set_units(units);
    *e.mutable_close_time() = Ts(at);
    Send(events::kRevenueTopic, events::kRevenueAttributed, lead, at, e);
  }

  // The scripted week. Times are (day from Monday, hour).
  // Whether the service's metrics show each of `lines`.
  bool MetricsShow(metrics::Metrics& m, const std::vector<std::string>& lines) {
    return WaitFor([&] {
      const std::string text = m.Render();
      for (const std::string& line : lines) {
        if (text.find(line) == std::string::npos) return false;
      }
      return true;
    });
  }
  static std::string Events(const std::string& kind, const std::string& outcome, int n) {
    return absl::StrCat("flywheel_reporting_events_total{kind=\"", kind, "\",outcome=\"", outcome,
                        "\"} ", n);
  }

  void ScriptTheWeek() {
    // r2's workflow arrives before its submission: kept, then reconciled.
    Route("r2", "lifecycle", At(0, 10));
    Advance("r2", "brief", common::STAGE_BRIEF, At(0, 10), "creation", common::STAGE_CREATION,
            At(0, 12));
    Advance("r2", "creation", common::STAGE_CREATION, At(0, 12), "launch", common::STAGE_LAUNCH,
            At(2, 10));
    Published("r2", At(2, 10));
    Advance("r2", "launch", common::STAGE_LAUNCH, At(2, 10), "", common::STAGE_UNSPECIFIED,
            At(2, 10, 30));
    Complete("r2", At(2, 10, 30));
    Sla("r2", false, At(1, 6));
    Sla("r2", true, At(1, 10));
    ASSERT_TRUE(MetricsShow(
        metrics(), {Events("workflow.completed", "pending", 1),
                    Events("sla.breached", "pending", 1), Events("publish.done", "pending", 1)}));
    // r1: blog post, content team, due Thursday 17:00; one round of changes.
    Submit("r1", "blog_post", common::CHANNEL_WEB, "spring", At(0, 9), At(3, 17));
    Route("r1", "content", At(0, 9));
    Advance("r1", "brief", common::STAGE_BRIEF, At(0, 9), "creation", common::STAGE_CREATION,
            At(0, 13));
    Sla("r1", false, At(1, 6));
    Advance("r1", "creation", common::STAGE_CREATION, At(0, 13), "approval", common::STAGE_APPROVAL,
            At(1, 9));
    StepStarted("r1", 1, At(1, 9));
    {
      approval::v1::ChangesRequested e;
      e.set_tenant_id("acme");
      e.set_request_id("r1");
      e.set_step_id("brand");
      e.set_round(1);
      Send(events::kApprovalsTopic, events::kApprovalChangesRequested, "r1", At(1, 15), e);
    }
    StepStarted("r1", 2, At(2, 9));
    {
      approval::v1::StepDecided e;
      e.set_tenant_id("acme");
      e.set_request_id("r1");
      e.set_step_id("brand");
      e.set_round(2);
      e.set_step_status(approval::v1::STEP_STATUS_APPROVED);
      Send(events::kApprovalsTopic, events::kApprovalDecided, "r1", At(2, 11), e);
    }
    Advance("r1", "approval", common::STAGE_APPROVAL, At(1, 9), "launch", common::STAGE_LAUNCH,
            At(2, 11));
    Published("r1", At(2, 12));
    Advance("r1", "launch", common::STAGE_LAUNCH, At(2, 11), "", common::STAGE_UNSPECIFIED,
            At(2, 12));
    Complete("r1", At(2, 12));
    // r2's submission: email for the webinar campaign, lifecycle team, due
    // Tuesday 10:00 (late).
    Submit("r2", "email", common::CHANNEL_EMAIL, "webinar", At(0, 10), At(1, 10));
    // r3: still in creation at the week's end.
    Submit("r3", "blog_post", common::CHANNEL_WEB, "", At(1, 9), At(9, 9));
    Route("r3", "content", At(1, 9));
    Advance("r3", "brief", common::STAGE_BRIEF, At(1, 9), "creation", common::STAGE_CREATION,
            At(1, 17));
    // r4: submitted and cancelled before routing.
    Submit("r4", "email", common::CHANNEL_EMAIL, "", At(3, 9), At(4, 9));
    {
      intake::v1::RequestCancelled e;
      e.set_tenant_id("acme");
      e.set_request_id("r4");
      Send(events::kRequestsTopic, events::kRequestCancelled, "r4", At(3, 10), e);
    }
    // An event of a type reporting does not know: counted and skipped.
    {
      intake::v1::RequestCancelled e;
      e.set_tenant_id("acme");
      e.set_request_id("r1");
      Send(events::kWorkflowsTopic, "dev.flywheel.workflow.painted.v1", "r1", At(4, 9), e);
    }

    // Leads: lead-1 touched by spring then webinar, qualifies Wednesday and
    // wins 1,000 EUR (restated to 1,200) on Friday; lead-2 touched by
    // spring only; lead-3 by webinar, qualifies Thursday.
    Touch("lead-1", "a1", "spring", common::CHANNEL_PAID_SEARCH, At(0, 10));
    Touch("lead-1", "a2", "webinar", common::CHANNEL_WEBINAR, At(1, 10));
    Touch("lead-2", "a3", "spring", common::CHANNEL_PAID_SEARCH, At(1, 11));
    Touch("lead-3", "a4", "webinar", common::CHANNEL_WEBINAR, At(3, 10));
    Qualify("lead-1", At(2, 10));
    Qualify("lead-3", At(3, 12));
    Revenue("lead-1", "opp-1", 1000, At(4, 10));
    Revenue("lead-1", "opp-1", 1200, At(4, 10));
    // Spend: spring 300 restated to 400, webinar 200, and a USD line left
    // out.
    Spend("sp-1", "spring", common::CHANNEL_PAID_SEARCH, 300, "EUR", At(0, 0));
    Spend("sp-1", "spring", common::CHANNEL_PAID_SEARCH, 400, "EUR", At(0, 0));
    Spend("sp-2", "webinar", common::CHANNEL_WEBINAR, 200, "EUR", At(1, 0));
    Spend("sp-3", "webinar", common::CHANNEL_WEBINAR, 50, "USD", At(1, 0));
  }

  common::TimeRange Week() const {
    common::TimeRange r;
    *r.mutable_start_time() = Ts(kMonday);
    *r.mutable_end_time() = Ts(At(7, 0));
    return r;
  }

  ::grpc::Status Operational(v1::ReportingService::Stub& stub, const std::string& group_by,
                             v1::GetOperationalMetricsResponse* out,
                             const v1::ReportFilter& filter = {}) {
    v1::GetOperationalMetricsRequest request;
    request.set_tenant_id("acme");
    *request.mutable_range() = Week();
    *request.mutable_filter() = filter;
    request.set_group_by(group_by);
    request.set_granularity(v1::GRANULARITY_DAY);
    return stub.GetOperationalMetrics(auth().CallAs("acme").get(), request, out);
  }

  ::grpc::Status Outcomes(v1::ReportingService::Stub& stub, v1::AttributionModel model,
                          v1::ListCampaignOutcomesResponse* out) {
    v1::ListCampaignOutcomesRequest request;
    request.set_tenant_id("acme");
    *request.mutable_range() = Week();
    request.set_attribution(model);
    request.set_currency_code("EUR");
    return stub.ListCampaignOutcomes(auth().CallAs("acme").get(), request, out);
  }

  ::grpc::Status WorkResults(v1::ReportingService::Stub& stub, const std::string& group_by,
                             v1::AttributionModel model, v1::GetWorkResultsResponse* out) {
    v1::GetWorkResultsRequest request;
    request.set_tenant_id("acme");
    *request.mutable_range() = Week();
    request.set_group_by(group_by);
    request.set_attribution(model);
    request.set_currency_code("EUR");
    return stub.GetWorkResults(auth().CallAs("acme").get(), request, out);
  }
  static std::map<std::string, v1::WorkResult> ByKey(const v1::GetWorkResultsResponse& r) {
    std::map<std::string, v1::WorkResult> out;
    for (const v1::WorkResult& row : r.results()) out[row.key()] = row;
    return out;
  }

  // Waits until every event sent so far shows: the last ones of each
  // stream are in (r4 cancelled, four submissions, two deliveries, every
  // touch, qualification, deal and spend).
  bool Settled(v1::ReportingService::Stub& stub) {
    return WaitFor([&] {
      v1::GetOperationalMetricsResponse m;
      v1::ListCampaignOutcomesResponse o;
      if (!Operational(stub, "", &m).ok() || !Outcomes(stub, {}, &o).ok()) return false;
      int64_t leads = 0;
      double mqls = 0;
      bool spend_restated = false;
      bool revenue_restated = false;
      for (const auto& row : o.outcomes()) {
        leads += row.leads();
        mqls += row.mqls();
        spend_restated |= row.key() == "spring" && row.spend().units() == 400;
        revenue_restated |= row.key() == "webinar" && row.revenue().units() == 1200;
      }
      const bool restated = spend_restated && revenue_restated;
      return m.total().submitted() == 4 && m.total().delivered() == 2 &&
             m.total().approval_wait().count() == 2 && m.total().sla_breach_rate() > 0 &&
             m.total().work_in_progress() == 1 && leads == 4 && mqls == 2 && restated &&
             o.skipped_currency_rows() == 1;
    });
  }

  // Every number of the week, worked out by hand.
  void ExpectTheWeek(v1::ReportingService::Stub& stub) {
    v1::GetOperationalMetricsResponse m;
    ASSERT_TRUE(Operational(stub, "", &m).ok());
    const v1::OperationalMetrics& t = m.total();
    EXPECT_EQ(t.submitted(), 4);
    EXPECT_EQ(t.delivered(), 2);
    EXPECT_DOUBLE_EQ(t.throughput_per_week(), 2.0);
    // r1: Mon 09:00 -> Wed 12:00 = 51 h; r2: Mon 10:00 -> Wed 10:00 = 48 h.
    EXPECT_EQ(t.cycle_time().count(), 2);
    EXPECT_EQ(Minutes(t.cycle_time().p50()), 48 * 60);
    EXPECT_EQ(Minutes(t.cycle_time().p90()), 51 * 60);
    EXPECT_EQ(Minutes(t.cycle_time().mean()), 49 * 60 + 30);
    // r1 on time (due Thu 17:00), r2 late (due Tue 10:00).
    EXPECT_EQ(t.delivered_with_due_time(), 2);
    EXPECT_DOUBLE_EQ(t.on_time_rate(), 0.5);
    // One round of changes for r1, none for r2.
    EXPECT_DOUBLE_EQ(t.mean_revisions(), 0.5);
    // Both warned; r2 breached.
    EXPECT_DOUBLE_EQ(t.sla_warning_rate(), 1.0);
    EXPECT_DOUBLE_EQ(t.sla_breach_rate(), 0.5);
    // Approval: round 1 Tue 09:00 -> 15:00 (6 h), round 2 Wed 09:00 -> 11:00.
    EXPECT_EQ(t.approval_wait().count(), 2);
    EXPECT_EQ(Minutes(t.approval_wait().p50()), 2 * 60);
    EXPECT_EQ(Minutes(t.approval_wait().p90()), 6 * 60);
    // Stages: brief 4 h, 2 h, 8 h; creation 20 h, 46 h (r3 still in it);
    // approval 26 h; launch 1 h and 30 min.
    std::map<common::Stage, const v1::StageMetrics*> stages;
    for (const auto& s : t.stages()) stages[s.stage()] = &s;
    ASSERT_EQ(stages.size(), 4u);
    const auto& brief = *stages[common::STAGE_BRIEF];
    EXPECT_EQ(brief.entered(), 3);
    EXPECT_EQ(brief.work_in_progress(), 0);
    EXPECT_EQ(Minutes(brief.cycle_time().p50()), 4 * 60);
    EXPECT_EQ(Minutes(brief.cycle_time().p90()), 8 * 60);
    EXPECT_EQ(Minutes(brief.cycle_time().mean()), 4 * 60 + 40);
    const auto& creation = *stages[common::STAGE_CREATION];
    EXPECT_EQ(creation.entered(), 3);
    EXPECT_EQ(creation.work_in_progress(), 1);
    EXPECT_EQ(Minutes(creation.cycle_time().p50()), 20 * 60);
    EXPECT_EQ(Minutes(creation.cycle_time().p90()), 46 * 60);
    EXPECT_EQ(Minutes(stages[common::STAGE_APPROVAL]->cycle_time().mean()), 26 * 60);
    EXPECT_EQ(Minutes(stages[common::STAGE_LAUNCH]->cycle_time().mean()), 45);
    EXPECT_EQ(t.bottleneck_stage(), common::STAGE_CREATION);
    EXPECT_EQ(Minutes(t.bottleneck_wait()), 33 * 60);
    EXPECT_EQ(t.work_in_progress(), 1);
    // Days: Monday had r1's and r2's submissions, Tuesday r3's, Thursday r4's.
    ASSERT_EQ(m.buckets_size(), 7);
    EXPECT_EQ(m.buckets(0).submitted(), 2);
    EXPECT_EQ(m.buckets(1).submitted(), 1);
    EXPECT_EQ(m.buckets(2).delivered(), 2);
    EXPECT_EQ(m.buckets(3).submitted(), 1);

    // By team: content (r1, r3), lifecycle (r2), and r4 never routed.
    v1::GetOperationalMetricsResponse by_team;
    ASSERT_TRUE(Operational(stub, "team", &by_team).ok());
    std::map<std::string, const v1::OperationalMetrics*> teams;
    for (const auto& g : by_team.groups()) teams[g.key()] = &g.metrics();
    ASSERT_EQ(teams.size(), 3u);
    EXPECT_EQ(teams["content"]->submitted(), 2);
    EXPECT_EQ(teams["content"]->delivered(), 1);
    EXPECT_EQ(teams["content"]->work_in_progress(), 1);
    EXPECT_EQ(teams["lifecycle"]->delivered(), 1);
    EXPECT_DOUBLE_EQ(teams["lifecycle"]->on_time_rate(), 0.0);
    EXPECT_EQ(teams[""]->submitted(), 1);
    // Filtered to blog posts: r1 and r3.
    v1::ReportFilter blog;
    blog.add_request_type_ids("blog_post");
    v1::GetOperationalMetricsResponse blogs;
    ASSERT_TRUE(Operational(stub, "", &blogs, blog).ok());
    EXPECT_EQ(blogs.total().submitted(), 2);
    EXPECT_EQ(blogs.total().delivered(), 1);
    EXPECT_EQ(Minutes(blogs.total().cycle_time().p50()), 51 * 60);

    // Outcomes, last touch: lead-1's last touch before qualifying and
    // winning is webinar, lead-3's too.
    v1::ListCampaignOutcomesResponse last;
    ASSERT_TRUE(Outcomes(stub, v1::ATTRIBUTION_MODEL_LAST_TOUCH, &last).ok());
    std::map<std::string, const v1::CampaignOutcome*> by_campaign;
    for (const auto& o : last.outcomes()) by_campaign[o.key()] = &o;
    ASSERT_EQ(by_campaign.size(), 2u);
    const v1::CampaignOutcome& webinar = *by_campaign["webinar"];
    const v1::CampaignOutcome& spring = *by_campaign["spring"];
    EXPECT_EQ(last.outcomes(0).key(), "webinar");  // most MQLs first
    EXPECT_EQ(webinar.leads(), 2);
    EXPECT_DOUBLE_EQ(webinar.mqls(), 2.0);
    EXPECT_DOUBLE_EQ(webinar.conversion_rate(), 1.0);
    EXPECT_EQ(webinar.spend().units(), 200);
    EXPECT_EQ(webinar.cost_per_mql().units(), 100);
    EXPECT_EQ(webinar.revenue().units(), 1200);
    EXPECT_DOUBLE_EQ(webinar.roi(), 5.0);
    EXPECT_EQ(spring.leads(), 2);
    EXPECT_DOUBLE_EQ(spring.mqls(), 0.0);
    EXPECT_FALSE(spring.has_cost_per_mql());
    EXPECT_EQ(spring.spend().units(), 400);
    EXPECT_DOUBLE_EQ(spring.roi(), -1.0);
    EXPECT_EQ(last.skipped_currency_rows(), 1);
    // First touch: lead-1 goes to spring, with its deal.
    v1::ListCampaignOutcomesResponse first;
    ASSERT_TRUE(Outcomes(stub, v1::ATTRIBUTION_MODEL_FIRST_TOUCH, &first).ok());
    for (const auto& o : first.outcomes()) {
      EXPECT_DOUBLE_EQ(o.mqls(), 1.0) << o.key();
      if (o.key() == "spring") {
        EXPECT_EQ(o.revenue().units(), 1200);
        EXPECT_DOUBLE_EQ(o.roi(), 2.0);
      }
    }
    // Linear: lead-1 half each; the deal 600 each.
    v1::ListCampaignOutcomesResponse linear;
    ASSERT_TRUE(Outcomes(stub, v1::ATTRIBUTION_MODEL_LINEAR, &linear).ok());
    for (const auto& o : linear.outcomes()) {
      EXPECT_DOUBLE_EQ(o.mqls(), o.key() == "spring" ? 0.5 : 1.5) << o.key();
      EXPECT_EQ(o.revenue().units(), 600) << o.key();
    }

    // Work joined to results. Delivered: r1 (blog post, web, spring, 51 h,
    // one revision, on time) and r2 (email, webinar, 48 h, late), both of
    // the standard template; each campaign has one of them, so each gets
    // its campaign's whole outcome.
    v1::GetWorkResultsResponse by_type;
    ASSERT_TRUE(WorkResults(stub, "request_type", v1::ATTRIBUTION_MODEL_LAST_TOUCH, &by_type).ok());
    std::map<std::string, v1::WorkResult> types = ByKey(by_type);
    ASSERT_EQ(types.size(), 2u);
    const v1::WorkResult& blog_post = types["blog_post"];
    EXPECT_EQ(blog_post.delivered(), 1);
    EXPECT_EQ(blog_post.cycle_time().count(), 1);
    EXPECT_EQ(Minutes(blog_post.cycle_time().p50()), 51 * 60);
    EXPECT_EQ(Minutes(blog_post.cycle_time().p90()), 51 * 60);
    EXPECT_DOUBLE_EQ(blog_post.mean_revisions(), 1.0);
    EXPECT_DOUBLE_EQ(blog_post.on_time_rate(), 1.0);
    EXPECT_EQ(blog_post.campaigns(), 1);
    // Spring, last touch: lead-1 and lead-2, no MQL, 400 spent, nothing won.
    EXPECT_DOUBLE_EQ(blog_post.leads(), 2.0);
    EXPECT_DOUBLE_EQ(blog_post.mqls(), 0.0);
    EXPECT_EQ(blog_post.spend().units(), 400);
    EXPECT_EQ(blog_post.revenue().units(), 0);
    EXPECT_DOUBLE_EQ(blog_post.roi(), -1.0);
    EXPECT_EQ(blog_post.revenue_per_request().units(), 0);
    const v1::WorkResult& email = types["email"];
    EXPECT_EQ(email.delivered(), 1);
    EXPECT_EQ(Minutes(email.cycle_time().p50()), 48 * 60);
    EXPECT_EQ(Minutes(email.cycle_time().p90()), 48 * 60);
    EXPECT_DOUBLE_EQ(email.mean_revisions(), 0.0);
    EXPECT_DOUBLE_EQ(email.on_time_rate(), 0.0);
    EXPECT_EQ(email.campaigns(), 1);
    // Webinar, last touch: lead-1 and lead-3, both MQLs, 200 spent, the
    // 1,200 deal: ROI 5.
    EXPECT_DOUBLE_EQ(email.leads(), 2.0);
    EXPECT_DOUBLE_EQ(email.mqls(), 2.0);
    EXPECT_EQ(email.spend().units(), 200);
    EXPECT_EQ(email.revenue().units(), 1200);
    EXPECT_DOUBLE_EQ(email.roi(), 5.0);
    EXPECT_EQ(email.revenue_per_request().units(), 1200);
    // Every campaign with outcomes had work: nothing left over.
    EXPECT_EQ(by_type.without_work().leads(), 0);
    EXPECT_DOUBLE_EQ(by_type.without_work().mqls(), 0.0);
    EXPECT_EQ(by_type.without_work().revenue().units(), 0);
    EXPECT_EQ(by_type.skipped_currency_rows(), 1);
    // By template, first touch: one group with both requests; lead-1 (and
    // its deal) goes to spring, lead-3 to webinar; 600 spent in all.
    v1::GetWorkResultsResponse by_template;
    ASSERT_TRUE(
        WorkResults(stub, "template", v1::ATTRIBUTION_MODEL_FIRST_TOUCH, &by_template).ok());
    ASSERT_EQ(by_template.results_size(), 1);
    const v1::WorkResult& standard = by_template.results(0);
    EXPECT_EQ(standard.key(), "standard");
    EXPECT_EQ(standard.delivered(), 2);
    EXPECT_EQ(Minutes(standard.cycle_time().p50()), 48 * 60);
    EXPECT_EQ(Minutes(standard.cycle_time().p90()), 51 * 60);
    EXPECT_DOUBLE_EQ(standard.mean_revisions(), 0.5);
    EXPECT_DOUBLE_EQ(standard.on_time_rate(), 0.5);
    EXPECT_EQ(standard.campaigns(), 2);
    EXPECT_DOUBLE_EQ(standard.leads(), 4.0);
    EXPECT_DOUBLE_EQ(standard.mqls(), 2.0);
    EXPECT_EQ(standard.spend().units(), 600);
    EXPECT_EQ(standard.revenue().units(), 1200);
    EXPECT_DOUBLE_EQ(standard.roi(), 1.0);
    EXPECT_EQ(standard.revenue_per_request().units(), 600);
    // By channel, linear: web (spring) half of lead-1 and 600 of the deal;
    // email (webinar) the other half and lead-3.
    v1::GetWorkResultsResponse by_channel;
    ASSERT_TRUE(WorkResults(stub, "channel", v1::ATTRIBUTION_MODEL_LINEAR, &by_channel).ok());
    std::map<std::string, v1::WorkResult> channels = ByKey(by_channel);
    ASSERT_EQ(channels.size(), 2u);
    EXPECT_DOUBLE_EQ(channels["CHANNEL_WEB"].mqls(), 0.5);
    EXPECT_EQ(channels["CHANNEL_WEB"].revenue().units(), 600);
    EXPECT_DOUBLE_EQ(channels["CHANNEL_WEB"].roi(), 0.5);
    EXPECT_DOUBLE_EQ(channels["CHANNEL_EMAIL"].mqls(), 1.5);
    EXPECT_EQ(channels["CHANNEL_EMAIL"].revenue().units(), 600);
    EXPECT_DOUBLE_EQ(channels["CHANNEL_EMAIL"].roi(), 2.0);
  }

  FakeClock clock_;
  std::unique_ptr<v1::ReportingService::Stub> stub_;
  std::vector<std::pair<std::string, kafka::CloudEvent>> sent_;
};

TEST_F(ReportingIntegrationTest, AScriptedWeekGivesTheNumbersWorkedOutByHand) {
  ScriptTheWeek();
  ASSERT_TRUE(Settled(*stub_));
  ExpectTheWeek(*stub_);
  // The unknown type was counted and skipped; r2's early events (and any
  // other request's read before its submission) were reconciled when the
  // submission came.
  const std::string exposition = metrics().Render();
  EXPECT_THAT(exposition, HasSubstr("flywheel_reporting_unknown_events_total{topic="));
  EXPECT_THAT(exposition, HasSubstr("flywheel_reporting_reconciled_total "));
  EXPECT_THAT(exposition, ::testing::Not(HasSubstr("flywheel_reporting_reconciled_total 0")));
  EXPECT_THAT(exposition, HasSubstr("flywheel_reporting_stage_cycle_seconds_count{stage=\"STAGE_"
                                    "CREATION\",team=\"content\",type=\"blog_post\"} 1"));
  EXPECT_THAT(exposition, ::testing::Not(HasSubstr("\"r1\"")));
  EXPECT_THAT(exposition, ::testing::Not(HasSubstr("\"lead-1\"")));

  // Everything again: each is a duplicate and changes nothing.
  SendAllAgain();
  ASSERT_TRUE(MetricsShow(
      metrics(),
      {Events("request.submitted", "duplicate", 4), Events("workflow.completed", "duplicate", 2),
       Events("stage.advanced", "duplicate", 8), Events("approval.decided", "duplicate", 1),
       Events("sla.breached", "duplicate", 1), Events("publish.done", "duplicate", 2),
       Events("lead.activity", "duplicate", 4), Events("lead.qualified", "duplicate", 2),
       Events("revenue.attributed", "duplicate", 2),
       Events("campaign.spend-reported", "duplicate", 4)}));
  ExpectTheWeek(*stub_);

  // A replay from the start into a new generation rebuilds the same numbers.
  metrics::Metrics replay_metrics;
  auto replay_config =
      config::Config::FromString(auth().WithAuth("reporting:\n  generation: 1\n"), "replay", {});
  ASSERT_TRUE(replay_config.ok()) << replay_config.status();
  auto replay = StartReportingOn(settings(), *replay_config, replay_metrics, clock_);
  ASSERT_TRUE(replay.ok()) << replay.status();
  auto replay_stub = v1::ReportingService::NewStub(runtime::testing::ChannelTo(**replay));
  ASSERT_TRUE(Settled(*replay_stub));
  ExpectTheWeek(*replay_stub);
  (*replay)->Stop();
}

TEST_F(ReportingIntegrationTest, BadQueriesNameTheirFieldAndExportsAndTheReportWork) {
  v1::GetOperationalMetricsRequest inverted;
  inverted.set_tenant_id("acme");
  *inverted.mutable_range()->mutable_start_time() = Ts(At(7, 0));
  *inverted.mutable_range()->mutable_end_time() = Ts(kMonday);
  v1::GetOperationalMetricsResponse ignored;
  ::grpc::Status status =
      stub_->GetOperationalMetrics(auth().CallAs("acme").get(), inverted, &ignored);
  EXPECT_EQ(status.error_code(), ::grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("range"));
  v1::GetOperationalMetricsRequest unknown;
  unknown.set_tenant_id("acme");
  *unknown.mutable_range() = Week();
  unknown.set_group_by("colour");
  status = stub_->GetOperationalMetrics(auth().CallAs("acme").get(), unknown, &ignored);
  EXPECT_EQ(status.error_code(), ::grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("group_by"));

  v1::GetWorkResultsResponse no_results;
  status = WorkResults(*stub_, "team", v1::ATTRIBUTION_MODEL_LAST_TOUCH, &no_results);
  EXPECT_EQ(status.error_code(), ::grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("group_by"));
  v1::GetWorkResultsRequest no_currency;
  no_currency.set_tenant_id("acme");
  *no_currency.mutable_range() = Week();
  status = stub_->GetWorkResults(auth().CallAs("acme").get(), no_currency, &no_results);
  EXPECT_EQ(status.error_code(), ::grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("currency_code"));

  Submit("r9", "blog_post", common::CHANNEL_WEB, "spring", At(0, 9), At(3, 17));
  Published("r9", At(1, 9));
  ASSERT_TRUE(WaitFor([&] {
    v1::GetOperationalMetricsResponse m;
    return Operational(*stub_, "", &m).ok() && m.total().delivered() == 1;
  }));
  v1::ExportReportRequest csv;
  csv.set_tenant_id("acme");
  csv.set_kind(v1::REPORT_KIND_OPERATIONAL_METRICS);
  csv.set_format(v1::EXPORT_FORMAT_CSV);
  *csv.mutable_range() = Week();
  v1::ExportReportResponse file;
  ASSERT_TRUE(stub_->ExportReport(auth().CallAs("acme").get(), csv, &file).ok());
  EXPECT_EQ(file.content_type(), "text/csv");
  // Header, then the total: one submitted, one delivered in 24 h.
  EXPECT_THAT(file.data(), HasSubstr("row,period_start,period_end,group,submitted,delivered"));
  EXPECT_THAT(file.data(), HasSubstr("total,2027-01-04T00:00:00.000000Z,2027-01-11T00:00:00."
                                     "000000Z,,1.0,1.0,1.0,86400.0,86400.0"));
  csv.set_format(v1::EXPORT_FORMAT_JSON_LINES);
  ASSERT_TRUE(stub_->ExportReport(auth().CallAs("acme").get(), csv, &file).ok());
  EXPECT_THAT(file.data(), HasSubstr("\"cycle_time_p50_s\":86400.0"));
  // The work joined to results: r9's blog post, on time, no outcomes yet.
  csv.set_kind(v1::REPORT_KIND_WORK_RESULTS);
  csv.set_format(v1::EXPORT_FORMAT_CSV);
  csv.set_currency_code("EUR");
  ASSERT_TRUE(stub_->ExportReport(auth().CallAs("acme").get(), csv, &file).ok());
  EXPECT_THAT(file.data(), HasSubstr("row,group,delivered,cycle_time_p50_s"));
  EXPECT_THAT(
      file.data(),
      HasSubstr("group,blog_post,1.0,86400.0,86400.0,0.0,1.0,1.0,0.0,0.0,0.0,0.0,0.0,0.0,EUR"));
  EXPECT_THAT(file.data(), HasSubstr("without_work,"));

  v1::RenderWeeklyReportRequest weekly;
  weekly.set_tenant_id("acme");
  *weekly.mutable_week_time() = Ts(At(3, 0));
  v1::RenderWeeklyReportResponse report;
  ASSERT_TRUE(stub_->RenderWeeklyReport(auth().CallAs("acme").get(), weekly, &report).ok());
  EXPECT_THAT(report.html(), HasSubstr("week of 2027-01-04"));
  EXPECT_THAT(report.html(), HasSubstr("Chart.js v4"));
  EXPECT_THAT(report.html(), HasSubstr("<td>blog_post</td><td>1</td><td>24.0 / 24.0</td>"));
}

}  // namespace
}  // namespace flywheel::reporting
