// flywheel-loadtest-leads: activity for lead scoring, as the web, email and
// webinar systems publish it (lead.activity, binary-mode protobuf, keyed by
// lead id, tenant acme of the default policy), in three modes (--mode):
//
//   preload  one demo_requested (50 points, no decay) for each of --leads
//            leads from --first, as fast as the producer goes: the leads a
//            later figure is measured on, each at half the MQL threshold.
//   mix      --events activities over --leads leads from --first, lead
//            after lead: page views, email opens and clicks, form submits
//            and webinars, and every 20th a demo request (which takes a
//            preloaded lead over MQL: a lead.scored and a lead.qualified).
//   qualify  open loop at --rate for --warmup plus --seconds: one
//            demo_requested per lead from --first (preloaded, untouched by
//            mix), each crossing MQL; follows the scores topic and matches
//            each lead.qualified by lead id: latency from the activity's
//            planned send to its lead.qualified, after the warm-up.
//
// Lead ids are `ld` and eight digits. One JSON object goes to stdout with
// --json.
#include <atomic>
#include <cstdio>
#include <mutex>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "arrivals.h"
#include "flywheel/core/proto_time.h"
#include "flywheel/events/catalog.h"
#include "flywheel/kafka/admin.h"
#include "flywheel/kafka/cloud_event.h"
#include "flywheel/kafka/producer.h"
#include "flywheel/leadscoring/v1/events.pb.h"
#include "follow_topics.h"
#include "samples.h"

ABSL_FLAG(std::string, mode, "preload", "preload, mix or qualify");
ABSL_FLAG(std::string, kafka, "", "bootstrap servers");
ABSL_FLAG(std::string, topic_prefix, "", "lead scoring's kafka.topic_prefix");
ABSL_FLAG(std::string, tenant, "acme", "the tenant (a model of the policy)");
ABSL_FLAG(int64_t, first, 0, "the first lead's number");
ABSL_FLAG(int64_t, leads, 100000, "leads (preload, mix)");
ABSL_FLAG(int64_t, events, 100000, "activities (mix)");
ABSL_FLAG(double, rate, 10000, "activities per second (qualify)");
ABSL_FLAG(double, seconds, 20, "measured seconds (qualify)");
ABSL_FLAG(double, warmup, 3, "seconds before the measured ones (qualify)");
ABSL_FLAG(bool, json, false, "print the results as one JSON object on stdout");

namespace flywheel::loadtest {
namespace {

namespace lv1 = ::flywheel::leadscoring::v1;

std::string LeadId(int64_t n) { return absl::StrFormat("ld%08d", n); }

std::string Topic(const char* name) { return absl::GetFlag(FLAGS_topic_prefix) + name; }

// The activity record for lead `lead`; `n` makes the activity id unique
// within its mode.
absl::StatusOr<kafka::Record> Activity(const std::string& mode, int64_t n, int64_t lead,
                                       const std::string& type, absl::Time at) {
  lv1::LeadActivity a;
  a.set_tenant_id(absl::GetFlag(FLAGS_tenant));
  a.set_lead_id(LeadId(lead));
  a.set_activity_id(absl::StrCat("act-", mode, "-", n));
  a.set_activity_type(type);
  *a.mutable_occur_time() = ToProtoTime(at);
  a.set_source_system("loadtest");
  if (type == "page_viewed") {
    a.set_channel(common::v1::CHANNEL_WEB);
    (*a.mutable_attributes())["url"] = absl::StrCat("https://acme.test/blog/", n % 97);
  } else if (type.starts_with("email")) {
    a.set_channel(common::v1::CHANNEL_EMAIL);
    a.set_campaign_id("spring-launch");
  } else if (type.starts_with("webinar")) {
    a.set_channel(common::v1::CHANNEL_WEBINAR);
  }
  kafka::CloudEvent event{.id = absl::StrCat("evt_", a.activity_id()),
                          .source = "/loadtest/leads",
                          .type = events::kLeadActivity,
                          .time = at,
                          .data_content_type = kafka::kProtobufContentType,
                          .key = a.lead_id(),
                          .data = a.SerializeAsString(),
                          .extensions = {{"tenant", a.tenant_id()}}};
  return kafka::EncodeBinary(event, Topic(events::kLeadActivityTopic));
}

// The mix's activity types; every 20th activity is a demo request instead.
constexpr const char* kMix[] = {"page_viewed", "email_opened",   "email_clicked",
                                "page_viewed", "form_submitted", "webinar_attended"};

std::string MixType(int64_t n) {
  if (n % 20 == 19) return "demo_requested";
  return kMix[n % (sizeof kMix / sizeof kMix[0])];
}

absl::StatusOr<std::unique_ptr<kafka::Producer>> MakeProducer(std::chrono::milliseconds linger) {
  const std::string kafka = absl::GetFlag(FLAGS_kafka);
  // Lead scoring owns the topic; it may not have run yet.
  if (absl::Status s = kafka::EnsureTopics(kafka, {{.name = Topic(events::kLeadActivityTopic),
                                                    .partitions = events::kStreamPartitions}});
      !s.ok()) {
    return s;
  }
  return kafka::Producer::Create({.bootstrap_servers = kafka,
                                  .client_id = "flywheel-loadtest-leads",
                                  .linger = linger,
                                  .properties = {{"queue.buffering.max.messages", "500000"},
                                                 {"batch.num.messages", "10000"}}});
}

// Produces `count` activities as fast as the producer takes them.
int Produce(const std::string& mode, int64_t count,
            const std::function<std::pair<int64_t, std::string>(int64_t)>& pick) {
  auto producer = MakeProducer(std::chrono::milliseconds(20));
  if (!producer.ok()) {
    std::fprintf(stderr, "%s\n", producer.status().ToString().c_str());
    return 1;
  }
  std::atomic<int64_t> failed{0};
  const absl::Time start = absl::Now();
  for (int64_t n = 0; n < count; ++n) {
    auto [lead, type] = pick(n);
    auto record = Activity(mode, n, lead, type, absl::Now());
    if (!record.ok()) return 1;
    (*producer)->Send(*std::move(record), [&failed](const absl::Status& s, const kafka::Record&) {
      if (!s.ok()) ++failed;
    });
  }
  if (absl::Status s = (*producer)->Flush(std::chrono::seconds(300)); !s.ok()) {
    std::fprintf(stderr, "flush: %s\n", s.ToString().c_str());
    return 1;
  }
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  std::fprintf(stderr, "produced %lld %s activities in %.2f s (%.0f/s), %lld failed\n",
               static_cast<long long>(count), mode.c_str(), seconds, count / seconds,
               static_cast<long long>(failed.load()));
  if (absl::GetFlag(FLAGS_json)) {
    std::printf(
        "{\"mode\": \"%s\", \"events\": %lld, \"seconds\": %.3f, \"rate\": %.1f, "
        "\"failed\": %lld}\n",
        mode.c_str(), static_cast<long long>(count), seconds, count / seconds,
        static_cast<long long>(failed.load()));
  }
  return failed > 0 ? 1 : 0;
}

int Qualify() {
  const double rate = absl::GetFlag(FLAGS_rate);
  const int64_t first = absl::GetFlag(FLAGS_first);
  const int64_t warm = static_cast<int64_t>(rate * absl::GetFlag(FLAGS_warmup));
  const int64_t measured = static_cast<int64_t>(rate * absl::GetFlag(FLAGS_seconds));
  const int64_t total = warm + measured;
  Arrivals arrivals;
  std::mutex seen_mu;
  absl::flat_hash_set<std::string> seen;  // leads whose lead.qualified arrived
  std::atomic<int64_t> qualified{0}, twice{0};
  auto follower = FollowTopics(absl::GetFlag(FLAGS_kafka), {Topic(events::kLeadScoresTopic)},
                               [&](const kafka::CloudEvent& e) {
                                 if (e.type != events::kLeadQualified) return;
                                 const absl::Time now = absl::Now();
                                 int64_t n = 0;
                                 if (e.key.size() != 10 || !absl::SimpleAtoi(e.key.substr(2), &n))
                                   return;
                                 // Only the measured leads; the warm-up's and other runs' are not
                                 // matched.
                                 if (n < first + warm || n >= first + total) return;
                                 {
                                   std::lock_guard lock(seen_mu);
                                   // A second copy: the outbox's relay
                                   // published it too (at least once).
                                   if (!seen.insert(e.key).second) {
                                     ++twice;
                                     return;
                                   }
                                 }
                                 ++qualified;
                                 arrivals.Arrived(e.key, now);
                               });
  if (!follower.ok()) {
    std::fprintf(stderr, "cannot follow the scores topic: %s\n",
                 follower.status().ToString().c_str());
    return 1;
  }
  auto producer = MakeProducer(std::chrono::milliseconds(1));
  if (!producer.ok()) {
    std::fprintf(stderr, "%s\n", producer.status().ToString().c_str());
    return 1;
  }
  std::atomic<int64_t> failed{0};
  const absl::Time start = absl::Now() + absl::Milliseconds(100);
  absl::Time last_sent = start;
  int64_t n = 0;
  while (n < total) {
    const absl::Time now = absl::Now();
    // Everything planned by now goes out; latency counts from the plan.
    for (; n < total; ++n) {
      const absl::Time planned = start + absl::Seconds(n / rate);
      if (planned > now) break;
      auto record = Activity("qualify", n, first + n, "demo_requested", planned);
      if (!record.ok()) return 1;
      if (n >= warm) arrivals.Submitted(LeadId(first + n), planned);
      (*producer)->Send(*std::move(record), [&failed](const absl::Status& s, const kafka::Record&) {
        if (!s.ok()) ++failed;
      });
    }
    last_sent = now;
    if (n < total) absl::SleepFor(absl::Microseconds(500));
  }
  const double sent_seconds = absl::ToDoubleSeconds(last_sent - start);
  (void)(*producer)->Flush(std::chrono::seconds(60));
  const absl::Time give_up = absl::Now() + absl::Seconds(60);
  while (arrivals.pending() > 0 && absl::Now() < give_up) absl::SleepFor(absl::Milliseconds(50));
  (*follower)->Stop();
  const int64_t never = static_cast<int64_t>(arrivals.pending());
  arrivals.latency().Print("activity→qualified");
  std::fprintf(stderr, "offered %.0f/s, sent %lld in %.2f s; %lld of %lld qualified, %lld never\n",
               rate, static_cast<long long>(total), sent_seconds,
               static_cast<long long>(qualified.load()), static_cast<long long>(measured),
               static_cast<long long>(never));
  if (absl::GetFlag(FLAGS_json)) {
    std::printf(
        "{\"mode\": \"qualify\", \"offered_rate\": %.1f, \"achieved_rate\": %.1f, "
        "\"events\": %lld, \"measured_events\": %lld, \"qualified\": %lld, "
        "\"never_qualified\": %lld, \"qualified_twice\": %lld, \"failed\": %lld, "
        "\"latency\": {%s}}\n",
        rate, sent_seconds > 0 ? total / sent_seconds : 0.0, static_cast<long long>(total),
        static_cast<long long>(measured), static_cast<long long>(qualified.load()),
        static_cast<long long>(never), static_cast<long long>(twice.load()),
        static_cast<long long>(failed.load()), arrivals.latency().Json().c_str());
  }
  return failed > 0 ? 1 : 0;
}

int Run() {
  const std::string mode = absl::GetFlag(FLAGS_mode);
  if (absl::GetFlag(FLAGS_kafka).empty()) {
    std::fprintf(stderr, "--kafka is required\n");
    return 2;
  }
  const int64_t first = absl::GetFlag(FLAGS_first), leads = absl::GetFlag(FLAGS_leads);
  if (mode == "preload") {
    return Produce(mode, leads, [first](int64_t n) {
      return std::pair<int64_t, std::string>(first + n, "demo_requested");
    });
  }
  if (mode == "mix") {
    return Produce(mode, absl::GetFlag(FLAGS_events), [first, leads](int64_t n) {
      return std::pair<int64_t, std::string>(first + n % leads, MixType(n));
    });
  }
  if (mode == "qualify") return Qualify();
  std::fprintf(stderr, "--mode must be preload, mix or qualify\n");
  return 2;
}

}  // namespace
}  // namespace flywheel::loadtest

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return flywheel::loadtest::Run();
}
