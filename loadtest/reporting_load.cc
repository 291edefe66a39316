// flywheel-loadtest-reporting: the reporting service's history, queries and
// freshness, in three modes (--mode):
//
//   preload  the history of --requests requests over --tenants tenants and
//            the --weeks weeks before Monday 2027-01-04, as the other
//            services would have published it, as fast as the producer
//            goes: per request its request.submitted, its request.routed
//            (four stages, each entered and left, in the workflow) and its
//            publish.done; a lead.activity of its campaign for one lead per
//            two requests; every 10th request its lead's lead.qualified,
//            every 100th a won deal. Prints the events produced.
//   query    closed loop, --concurrency calls in flight, for --warmup plus
//            --seconds: --query=operational (the last four weeks by week
//            and team), outcomes (by campaign, last touch), work (work
//            joined to results by request type) or timeline (one request's
//            history), each on tenant t0; latency per call.
//   fresh    --samples times, one after the other: a request.submitted for
//            tenant `fresh`, then GetOperationalMetrics polled every 2 ms
//            until it counts it: latency from the produce call to the first
//            answer that shows it.
//
// One JSON object goes to stdout with --json.
#include <atomic>
#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "flywheel/core/proto_time.h"
#include "flywheel/events/catalog.h"
#include "flywheel/intake/v1/events.pb.h"
#include "flywheel/kafka/admin.h"
#include "flywheel/kafka/cloud_event.h"
#include "flywheel/kafka/producer.h"
#include "flywheel/leadscoring/v1/events.pb.h"
#include "flywheel/reporting/v1/events.pb.h"
#include "flywheel/reporting/v1/reporting_service.pb.h"
#include "flywheel/routing/v1/events.pb.h"
#include "flywheel/scheduler/v1/events.pb.h"
#include "samples.h"
#include "unary_caller.h"

ABSL_FLAG(std::string, mode, "preload", "preload, query or fresh");
ABSL_FLAG(std::string, kafka, "", "bootstrap servers");
ABSL_FLAG(std::string, topic_prefix, "", "reporting's kafka.topic_prefix");
ABSL_FLAG(std::string, target, "", "reporting's gRPC address (query, fresh)");
ABSL_FLAG(int64_t, requests, 100000, "requests of the history (preload)");
ABSL_FLAG(int64_t, tenants, 10, "tenants the history is spread over (preload)");
ABSL_FLAG(int64_t, weeks, 52, "weeks the history spans (preload)");
ABSL_FLAG(std::string, query, "operational", "operational, outcomes, work or timeline (query)");
ABSL_FLAG(int, concurrency, 1, "calls in flight (query)");
ABSL_FLAG(double, seconds, 20, "measured seconds (query)");
ABSL_FLAG(double, warmup, 3, "seconds before the measured ones (query)");
ABSL_FLAG(int64_t, samples, 200, "events produced one after the other (fresh)");
ABSL_FLAG(bool, json, false, "print the results as one JSON object on stdout");

namespace flywheel::loadtest {
namespace {

namespace common = ::flywheel::common::v1;
namespace rv1 = ::flywheel::reporting::v1;

// Monday 2027-01-04 00:00 UTC: the history ends there.
const absl::Time kEnd = absl::FromUnixSeconds(1'799'020'800);
constexpr char kService[] = "/flywheel.reporting.v1.ReportingService/";

std::string Topic(const char* name) { return absl::GetFlag(FLAGS_topic_prefix) + name; }

kafka::Record Encode(const char* topic, const char* type, const std::string& id,
                     const std::string& key, absl::Time at,
                     const google::protobuf::Message& payload) {
  kafka::CloudEvent event{.id = id,
                          .source = "/loadtest/reporting",
                          .type = type,
                          .time = at,
                          .data_content_type = kafka::kProtobufContentType,
                          .key = key,
                          .data = payload.SerializeAsString()};
  // Only an event without id, source or type fails to encode: none here.
  return *kafka::EncodeBinary(event, Topic(topic));
}

absl::StatusOr<std::unique_ptr<kafka::Producer>> MakeProducer(std::chrono::milliseconds linger) {
  const std::string bootstrap = absl::GetFlag(FLAGS_kafka);
  // Every topic reporting reads, so its consumers find them all.
  std::vector<kafka::TopicSpec> topics;
  for (const char* t :
       {events::kRequestsTopic, events::kSubmissionsTopic, events::kWorkflowsTopic,
        events::kApprovalsTopic, events::kSlaTopic, events::kPublishingTopic,
        events::kPublishResultsTopic, events::kLeadActivityTopic, events::kLeadScoresTopic,
        events::kCampaignSpendTopic, events::kRevenueTopic}) {
    topics.push_back({.name = Topic(t), .partitions = events::kStreamPartitions});
  }
  if (absl::Status s = kafka::EnsureTopics(bootstrap, topics); !s.ok()) return s;
  return kafka::Producer::Create({.bootstrap_servers = bootstrap,
                                  .client_id = "flywheel-loadtest-reporting",
                                  .linger = linger,
                                  .properties = {{"queue.buffering.max.messages", "500000"},
                                                 {"batch.num.messages", "10000"}}});
}

intake::v1::RequestSubmitted Submitted(const std::string& tenant, const std::string& id, int64_t n,
                                       absl::Time at) {
  static const char* const kTypes[] = {"blog_post", "email", "webinar", "paid_ad"};
  static const common::Channel kChannels[] = {common::CHANNEL_WEB, common::CHANNEL_EMAIL,
                                              common::CHANNEL_WEBINAR, common::CHANNEL_PAID_SEARCH};
  intake::v1::RequestSubmitted e;
  e.set_tenant_id(tenant);
  e.set_request_id(id);
  intake::v1::Request* r = e.mutable_request();
  r->set_tenant_id(tenant);
  r->set_request_id(id);
  r->mutable_spec()->set_request_type_id(kTypes[n % 4]);
  r->mutable_spec()->set_campaign_id(absl::StrCat("camp-", n % 40));
  r->mutable_spec()->add_channels(kChannels[(n / 4) % 4]);
  *r->mutable_spec()->mutable_due_time() = ToProtoTime(at + absl::Hours(36));
  *r->mutable_create_time() = ToProtoTime(at);
  return e;
}

int Preload() {
  auto producer = MakeProducer(std::chrono::milliseconds(20));
  if (!producer.ok()) {
    std::fprintf(stderr, "%s\n", producer.status().ToString().c_str());
    return 1;
  }
  const int64_t requests = absl::GetFlag(FLAGS_requests);
  const int64_t tenants = absl::GetFlag(FLAGS_tenants);
  const absl::Time start = kEnd - absl::Hours(24 * 7 * absl::GetFlag(FLAGS_weeks));
  const absl::Duration step = (kEnd - start - absl::Hours(48)) / requests;
  std::atomic<int64_t> failed{0};
  int64_t sent = 0;
  auto send = [&](kafka::Record record) {
    ++sent;
    (*producer)->Send(std::move(record), [&failed](const absl::Status& s, const kafka::Record&) {
      if (!s.ok()) ++failed;
    });
  };
  const absl::Time began = absl::Now();
  for (int64_t n = 0; n < requests; ++n) {
    const std::string tenant = absl::StrCat("t", n % tenants);
    const std::string id = absl::StrFormat("rq%08d", n);
    const absl::Time at = start + step * n;
    send(Encode(events::kRequestsTopic, events::kRequestSubmitted, "sub-" + id, id, at,
                Submitted(tenant, id, n, at)));
    routing::v1::RequestRouted routed;
    routed.set_tenant_id(tenant);
    routed.set_request_id(id);
    routed.set_team_id(absl::StrCat("team-", (n / tenants) % 5));
    routed.mutable_workflow()->set_template_id(absl::StrCat("tpl-", n % 3));
    absl::Time t = at;
    const std::pair<common::Stage, int> kStages[] = {{common::STAGE_BRIEF, 2},
                                                     {common::STAGE_CREATION, 16 + n % 17},
                                                     {common::STAGE_APPROVAL, 6},
                                                     {common::STAGE_LAUNCH, 1}};
    for (const auto& [stage, hours] : kStages) {
      routing::v1::StageInstance* s = routed.mutable_workflow()->add_stages();
      s->set_stage_id(common::Stage_Name(stage));
      s->set_stage(stage);
      *s->mutable_enter_time() = ToProtoTime(t);
      t += absl::Hours(hours);
      *s->mutable_exit_time() = ToProtoTime(t);
    }
    send(Encode(events::kWorkflowsTopic, events::kRequestRouted, "rt-" + id, id, at, routed));
    scheduler::v1::PublishDone done;
    done.set_tenant_id(tenant);
    done.set_request_id(id);
    done.set_slot_id(id + "-slot");
    *done.mutable_publish_time() = ToProtoTime(t);
    send(Encode(events::kPublishResultsTopic, events::kPublishDone, "pd-" + id, id, t, done));
    // Leads: one per two requests of a tenant, touched by each one's campaign.
    const std::string lead = absl::StrFormat("ld%08d", n / 2);
    const std::string campaign = absl::StrCat("camp-", n % 40);
    leadscoring::v1::LeadActivity a;
    a.set_tenant_id(tenant);
    a.set_lead_id(lead);
    a.set_activity_id("act-" + id);
    a.set_activity_type("page_viewed");
    a.set_campaign_id(campaign);
    a.set_channel(common::CHANNEL_WEB);
    *a.mutable_occur_time() = ToProtoTime(t);
    send(Encode(events::kLeadActivityTopic, events::kLeadActivity, "la-" + id, lead, t, a));
    if (n % 10 == 9) {
      leadscoring::v1::LeadQualified q;
      q.set_tenant_id(tenant);
      q.set_lead_id(lead);
      send(Encode(events::kLeadScoresTopic, events::kLeadQualified, "lq-" + id, lead,
                  t + absl::Minutes(5), q));
    }
    if (n % 100 == 99) {
      rv1::RevenueAttributed r;
      r.set_tenant_id(tenant);
      r.set_lead_id(lead);
      r.set_opportunity_id("opp-" + id);
      r.set_campaign_id(campaign);
      r.set_channel(common::CHANNEL_WEB);
      r.mutable_amount()->set_currency_code("EUR");
      r.mutable_amount()->set_units(1000 + n % 5000);
      *r.mutable_close_time() = ToProtoTime(t + absl::Hours(1));
      send(Encode(events::kRevenueTopic, events::kRevenueAttributed, "rv-" + id, lead,
                  t + absl::Hours(1), r));
    }
  }
  if (absl::Status s = (*producer)->Flush(std::chrono::seconds(600)); !s.ok()) {
    std::fprintf(stderr, "flush: %s\n", s.ToString().c_str());
    return 1;
  }
  const double seconds = absl::ToDoubleSeconds(absl::Now() - began);
  std::fprintf(stderr, "produced %lld events of %lld requests in %.2f s (%.0f/s), %lld failed\n",
               static_cast<long long>(sent), static_cast<long long>(requests), seconds,
               sent / seconds, static_cast<long long>(failed.load()));
  if (absl::GetFlag(FLAGS_json)) {
    std::printf(
        "{\"mode\": \"preload\", \"requests\": %lld, \"events\": %lld, \"seconds\": %.3f, "
        "\"rate\": %.1f, \"failed\": %lld}\n",
        static_cast<long long>(requests), static_cast<long long>(sent), seconds, sent / seconds,
        static_cast<long long>(failed.load()));
  }
  return failed > 0 ? 1 : 0;
}

common::TimeRange Range(absl::Time from, absl::Time to) {
  common::TimeRange r;
  *r.mutable_start_time() = ToProtoTime(from);
  *r.mutable_end_time() = ToProtoTime(to);
  return r;
}

// The call a query mode makes, on tenant t0 over the history's last four
// weeks.
absl::StatusOr<Outgoing> QueryCall(const std::string& query) {
  const common::TimeRange four_weeks = Range(kEnd - absl::Hours(24 * 28), kEnd);
  if (query == "operational") {
    rv1::GetOperationalMetricsRequest r;
    r.set_tenant_id("t0");
    *r.mutable_range() = four_weeks;
    r.set_granularity(rv1::GRANULARITY_WEEK);
    r.set_group_by("team");
    return Outgoing{absl::StrCat(kService, "GetOperationalMetrics"), Serialize(r)};
  }
  if (query == "outcomes") {
    rv1::ListCampaignOutcomesRequest r;
    r.set_tenant_id("t0");
    *r.mutable_range() = four_weeks;
    r.set_group_by("campaign");
    r.set_attribution(rv1::ATTRIBUTION_MODEL_LAST_TOUCH);
    r.set_currency_code("EUR");
    return Outgoing{absl::StrCat(kService, "ListCampaignOutcomes"), Serialize(r)};
  }
  if (query == "work") {
    rv1::GetWorkResultsRequest r;
    r.set_tenant_id("t0");
    *r.mutable_range() = four_weeks;
    r.set_group_by("request_type");
    r.set_attribution(rv1::ATTRIBUTION_MODEL_LAST_TOUCH);
    r.set_currency_code("EUR");
    return Outgoing{absl::StrCat(kService, "GetWorkResults"), Serialize(r)};
  }
  if (query == "timeline") {
    rv1::GetRequestTimelineRequest r;
    r.set_tenant_id("t0");
    r.set_request_id("rq00000000");
    return Outgoing{absl::StrCat(kService, "GetRequestTimeline"), Serialize(r)};
  }
  return absl::InvalidArgumentError("--query must be operational, outcomes, work or timeline");
}

int Query() {
  const std::string query = absl::GetFlag(FLAGS_query);
  auto call = QueryCall(query);
  if (!call.ok()) {
    std::fprintf(stderr, "%s\n", call.status().ToString().c_str());
    return 2;
  }
  const int concurrency = absl::GetFlag(FLAGS_concurrency);
  UnaryCaller caller(absl::GetFlag(FLAGS_target), concurrency);
  Samples latency;
  LoopOptions options{.warmup = absl::Seconds(absl::GetFlag(FLAGS_warmup)),
                      .duration = absl::Seconds(absl::GetFlag(FLAGS_seconds))};
  const LoopResult result = RunLoop(
      caller, options,
      [&](int64_t) {
        return Outgoing{call->path, call->request};
      },
      latency);
  latency.Print(query.c_str());
  if (absl::GetFlag(FLAGS_json)) {
    std::printf(
        "{\"mode\": \"query\", \"query\": \"%s\", \"concurrency\": %d, \"ok\": %lld, "
        "\"failed\": %lld, \"seconds\": %.3f, \"achieved_rate\": %.1f, \"latency\": {%s}}\n",
        query.c_str(), concurrency, static_cast<long long>(result.ok),
        static_cast<long long>(result.failed), result.seconds, result.rate(),
        latency.Json().c_str());
  }
  return result.failed > 0 ? 1 : 0;
}

int Fresh() {
  auto producer = MakeProducer(std::chrono::milliseconds(0));
  if (!producer.ok()) {
    std::fprintf(stderr, "%s\n", producer.status().ToString().c_str());
    return 1;
  }
  UnaryCaller caller(absl::GetFlag(FLAGS_target), 1);
  const absl::Time day = kEnd - absl::Hours(24);
  rv1::GetOperationalMetricsRequest poll;
  poll.set_tenant_id("fresh");
  *poll.mutable_range() = Range(kEnd - absl::Hours(24 * 7), kEnd);
  const std::string path = absl::StrCat(kService, "GetOperationalMetrics");
  auto submitted = [&]() -> int64_t {
    ::grpc::ByteBuffer response;
    if (!caller.CallAndWait(path, Serialize(poll), response).ok()) return -1;
    rv1::GetOperationalMetricsResponse m;
    return Parse(response, m) ? m.total().submitted() : -1;
  };
  const int64_t before = submitted();
  if (before < 0) return 1;
  // Ids unique to this run, so a second run counts on from the first.
  const std::string run = absl::StrCat(absl::ToUnixMillis(absl::Now()));
  Samples latency;
  const int64_t samples = absl::GetFlag(FLAGS_samples);
  int64_t never = 0;
  for (int64_t k = 1; k <= samples; ++k) {
    const std::string id = absl::StrCat("fresh-", run, "-", k);
    const absl::Time sent = absl::Now();
    (*producer)->Send(Encode(events::kRequestsTopic, events::kRequestSubmitted, "sub-" + id, id,
                             day, Submitted("fresh", id, k, day)),
                      [](const absl::Status&, const kafka::Record&) {});
    const absl::Time give_up = sent + absl::Seconds(10);
    bool seen = false;
    while (!seen && absl::Now() < give_up) {
      seen = submitted() >= before + k;
      if (!seen) absl::SleepFor(absl::Milliseconds(2));
    }
    if (!seen) {
      ++never;
      break;  // the count is off from here on
    }
    latency.Add(absl::ToDoubleSeconds(absl::Now() - sent));
  }
  latency.Print("event→visible");
  if (absl::GetFlag(FLAGS_json)) {
    std::printf(
        "{\"mode\": \"fresh\", \"samples\": %lld, \"never_visible\": %lld, "
        "\"latency\": {%s}}\n",
        static_cast<long long>(samples), static_cast<long long>(never), latency.Json().c_str());
  }
  return never > 0 ? 1 : 0;
}

int Run() {
  const std::string mode = absl::GetFlag(FLAGS_mode);
  if (mode == "preload" || mode == "fresh") {
    if (absl::GetFlag(FLAGS_kafka).empty()) {
      std::fprintf(stderr, "--kafka is required\n");
      return 2;
    }
  }
  if (mode == "preload") return Preload();
  if (mode == "query") return Query();
  if (mode == "fresh") return Fresh();
  std::fprintf(stderr, "--mode must be preload, query or fresh\n");
  return 2;
}

}  // namespace
}  // namespace flywheel::loadtest

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return flywheel::loadtest::Run();
}
