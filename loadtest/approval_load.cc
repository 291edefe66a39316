// flywheel-loadtest-approval: load on the approval service as its users
// cause it, one scenario per run (--scenario):
//
//   decide   prepares --chains one-step chains, each with its first version,
//            then decides each once (Decide, approve), closed loop or at
//            --rate; reports Decide's rate and latency.
//   started  prepares --chains chains without a version, then submits each
//            its first version at --rate (SubmitVersion) and follows the
//            approvals topic: latency from the planned call to the step's
//            approval.step_started.
//   verify   one chain whose audit trail holds --entries entries (a version,
//            then comments), then VerifyAudit --calls times, one at a time.
//   e2e      SubmitRequest to intake at --rate with routing and approval
//            running; as each request is routed the generator submits its
//            version, as its step starts it decides; latency from the planned
//            submit to each hop: request.routed, approval.step_started,
//            approval.completed and routing's stage.advanced out of approval.
//
// Chains are prepared the way routing opens them: a request.routed event per
// request on the workflows topic (the generator publishes it), which leaves
// approval alone under load. Every latency is taken from a call's planned
// send time (see unary_caller.h); one JSON object goes to stdout with --json.
#include <algorithm>
#include <cstdio>
#include <deque>
#include <mutex>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "arrivals.h"
#include "flywheel/approval/v1/approval_service.pb.h"
#include "flywheel/approval/v1/events.pb.h"
#include "flywheel/core/id.h"
#include "flywheel/events/catalog.h"
#include "flywheel/intake/v1/intake_service.pb.h"
#include "flywheel/kafka/admin.h"
#include "flywheel/kafka/cloud_event.h"
#include "flywheel/kafka/producer.h"
#include "flywheel/routing/v1/events.pb.h"
#include "follow_topics.h"
#include "samples.h"
#include "submit_request.h"
#include "unary_caller.h"

ABSL_FLAG(std::string, scenario, "decide", "decide, started, verify or e2e");
ABSL_FLAG(std::string, approval, "127.0.0.1:8083", "approval's gRPC address");
ABSL_FLAG(std::string, intake, "127.0.0.1:8081", "intake's gRPC address (e2e)");
ABSL_FLAG(std::string, kafka, "", "bootstrap servers");
ABSL_FLAG(std::string, topic_prefix, "", "the services' kafka.topic_prefix");
ABSL_FLAG(std::string, tenant, "acme", "tenant of every request");
ABSL_FLAG(std::string, chain_policy, "tier1-single-reviewer",
          "approval policy of the prepared chains: one stage with one step");
ABSL_FLAG(std::string, step, "reviewer", "that step's id");
ABSL_FLAG(std::string, approver, "rita", "who decides");
ABSL_FLAG(int64_t, chains, 10000, "chains to prepare (decide, started)");
ABSL_FLAG(double, rate, 0, "calls per second; 0 sends as fast as --concurrency allows");
ABSL_FLAG(int, concurrency, 64, "most calls in flight at once");
ABSL_FLAG(int64_t, entries, 1000, "audit entries of the verified chain (verify)");
ABSL_FLAG(int64_t, calls, 500, "VerifyAudit calls (verify)");
ABSL_FLAG(absl::Duration, warmup, absl::Seconds(3), "load sent before measuring starts (e2e)");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(20), "how long to measure (e2e)");
ABSL_FLAG(bool, json, false, "print the results as one JSON object on stdout");

namespace flywheel::loadtest {
namespace {

namespace av1 = approval::v1;

std::string Method(const char* name) {
  return absl::StrCat("/flywheel.approval.v1.ApprovalService/", name);
}
const std::string kSubmitRequest = "/flywheel.intake.v1.IntakeService/SubmitRequest";

std::string Topic(const char* topic) { return absl::GetFlag(FLAGS_topic_prefix) + topic; }

std::vector<std::string> RequestIds(const std::string& run, int64_t n) {
  std::vector<std::string> ids;
  ids.reserve(n);
  for (int64_t i = 0; i < n; ++i) ids.push_back(absl::StrCat(run, "-", i));
  return ids;
}

::grpc::ByteBuffer VersionRequest(const std::string& request_id) {
  av1::SubmitVersionRequest r;
  r.set_tenant_id(absl::GetFlag(FLAGS_tenant));
  r.set_request_id(request_id);
  r.set_asset_uri(absl::StrCat("https://assets.example/loadtest/", request_id, ".html"));
  r.set_content_sha256(std::string(64, 'a'));
  r.set_media_type("text/html");
  r.set_submitter_id("ana");
  r.set_change_note("first draft");
  return Serialize(r);
}

::grpc::ByteBuffer DecideRequest(const std::string& request_id, const std::string& step,
                                 uint32_t version) {
  av1::DecideRequest r;
  r.set_tenant_id(absl::GetFlag(FLAGS_tenant));
  r.set_request_id(request_id);
  r.set_step_id(step);
  r.set_approver_id(absl::GetFlag(FLAGS_approver));
  r.set_decision(av1::DECISION_APPROVE);
  r.set_version(version);
  r.set_comment("Approved by the load generator.");
  return Serialize(r);
}

template <typename Request>
::grpc::ByteBuffer ChainRequest(const std::string& request_id) {
  Request r;
  r.set_tenant_id(absl::GetFlag(FLAGS_tenant));
  r.set_request_id(request_id);
  return Serialize(r);
}

// Opens a chain per id as routing would, by publishing request.routed, and
// waits until approval has opened every one. Returns the seconds it took.
absl::StatusOr<double> PrepareChains(UnaryCaller& caller, const std::vector<std::string>& ids) {
  const absl::Time start = absl::Now();
  const std::string kafka = absl::GetFlag(FLAGS_kafka);
  const std::string topic = Topic(events::kWorkflowsTopic);
  // Routing owns the topic; approval may be the only service running.
  if (absl::Status s =
          kafka::EnsureTopics(kafka, {{.name = topic, .partitions = events::kStreamPartitions}});
      !s.ok()) {
    return s;
  }
  auto producer = kafka::Producer::Create({.bootstrap_servers = kafka,
                                           .client_id = "flywheel-loadtest",
                                           .linger = std::chrono::milliseconds(20)});
  if (!producer.ok()) return producer.status();
  std::atomic<int64_t> failed{0};
  for (const std::string& id : ids) {
    routing::v1::RequestRouted routed;
    routed.set_tenant_id(absl::GetFlag(FLAGS_tenant));
    routed.set_request_id(id);
    routed.set_team_id("content");
    routed.set_approval_tier(common::v1::APPROVAL_TIER_SINGLE_REVIEWER);
    routed.set_approval_policy_id(absl::GetFlag(FLAGS_chain_policy));
    routed.add_approval_steps(absl::GetFlag(FLAGS_step));
    kafka::CloudEvent event{.id = "evt_routed_" + id,
                            .source = "/loadtest",
                            .type = events::kRequestRouted,
                            .time = absl::Now(),
                            .data_content_type = "application/protobuf",
                            .key = id,
                            .data = routed.SerializeAsString()};
    auto record = kafka::EncodeBinary(event, topic);
    if (!record.ok()) return record.status();
    (*producer)->Send(*std::move(record), [&failed](const absl::Status& s, const kafka::Record&) {
      if (!s.ok()) ++failed;
    });
  }
  if (absl::Status s = (*producer)->Flush(std::chrono::seconds(120)); !s.ok()) return s;
  if (failed > 0) return absl::UnavailableError(absl::StrCat(failed.load(), " events not written"));

  // Ask for each chain until approval has it.
  std::vector<std::string> pending = ids;
  const absl::Time give_up = absl::Now() + absl::Minutes(5);
  while (true) {
    std::mutex mu;
    std::vector<std::string> missing;
    for (const std::string& id : pending) {
      caller.Call(Method("GetChain"), ChainRequest<av1::GetChainRequest>(id),
                  [&, id](const ::grpc::Status& status, ::grpc::ByteBuffer&) {
                    if (status.ok()) return;
                    std::lock_guard lock(mu);
                    missing.push_back(id);
                  });
    }
    caller.Drain();
    if (missing.empty()) break;
    if (absl::Now() > give_up) {
      return absl::DeadlineExceededError(
          absl::StrCat(missing.size(), " chains still missing after 5 minutes"));
    }
    absl::SleepFor(absl::Milliseconds(250));
    pending.swap(missing);
  }
  return absl::ToDoubleSeconds(absl::Now() - start);
}

// What a run prints: JSON members, and a line per figure for a person.
class Report {
 public:
  void Add(const std::string& member) {
    if (!json_.empty()) json_ += ", ";
    json_ += member;
  }
  void Number(const char* name, double value) { Add(absl::StrCat("\"", name, "\": ", value)); }
  void Latency(const char* name, Samples& samples) {
    samples.Print(name);
    Add(absl::StrCat("\"", name, "\": {", samples.Json(), "}"));
  }
  void Loop(const char* name, const LoopResult& result, Samples& latency) {
    std::fprintf(stderr, "%-18s %lld ok (%.0f/s), %lld failed in %.1f s\n", name,
                 static_cast<long long>(result.ok), result.rate(),
                 static_cast<long long>(result.failed), result.seconds);
    Add(absl::StrCat("\"", name, "\": {\"achieved_rate\": ", result.rate(), ", \"ok\": ", result.ok,
                     ", \"failed\": ", result.failed, ", \"seconds\": ", result.seconds, ", ",
                     latency.Json(), "}"));
  }
  void Print() const {
    if (absl::GetFlag(FLAGS_json)) std::printf("{%s}\n", json_.c_str());
  }

 private:
  std::string json_;
};

// PrepareChains, its seconds reported; false (and why, on stderr) when it
// failed.
bool Prepare(UnaryCaller& caller, const std::vector<std::string>& ids, Report& report) {
  auto opened = PrepareChains(caller, ids);
  if (!opened.ok()) {
    std::fprintf(stderr, "cannot prepare chains: %s\n", opened.status().ToString().c_str());
    return false;
  }
  report.Number("prepare_seconds", *opened);
  return true;
}

LoopOptions Counted(int64_t calls, double rate) { return {.rate = rate, .calls = calls}; }

int Decide(const std::string& run, Report& report) {
  UnaryCaller caller(absl::GetFlag(FLAGS_approval), absl::GetFlag(FLAGS_concurrency));
  const std::vector<std::string> ids = RequestIds(run, absl::GetFlag(FLAGS_chains));
  if (!Prepare(caller, ids, report)) return 1;
  Samples version_latency, decide_latency;
  const LoopResult versions = RunLoop(
      caller, Counted(ids.size(), 0),
      [&](int64_t n) {
        return Outgoing{Method("SubmitVersion"), VersionRequest(ids[n])};
      },
      version_latency);
  report.Loop("submit_version", versions, version_latency);
  const std::string step = absl::GetFlag(FLAGS_step);
  const LoopResult decided = RunLoop(
      caller, Counted(ids.size(), absl::GetFlag(FLAGS_rate)),
      [&](int64_t n) {
        return Outgoing{Method("Decide"), DecideRequest(ids[n], step, 1)};
      },
      decide_latency);
  report.Loop("decide", decided, decide_latency);
  return versions.failed + decided.failed == 0 ? 0 : 1;
}

int Started(const std::string& run, Report& report) {
  UnaryCaller caller(absl::GetFlag(FLAGS_approval), absl::GetFlag(FLAGS_concurrency));
  const std::vector<std::string> ids = RequestIds(run, absl::GetFlag(FLAGS_chains));
  if (!Prepare(caller, ids, report)) return 1;
  Arrivals started;
  auto follower = FollowTopics(absl::GetFlag(FLAGS_kafka), {Topic(events::kApprovalsTopic)},
                               [&started](const kafka::CloudEvent& event) {
                                 if (event.type != events::kApprovalStepStarted) return;
                                 av1::StepStarted step;
                                 if (step.ParseFromString(event.data)) {
                                   started.Arrived(step.request_id(), absl::Now());
                                 }
                               });
  if (!follower.ok()) {
    std::fprintf(stderr, "cannot follow approvals: %s\n", follower.status().ToString().c_str());
    return 1;
  }
  Samples version_latency;
  const LoopResult versions = RunLoop(
      caller, Counted(ids.size(), absl::GetFlag(FLAGS_rate)),
      [&](int64_t n) {
        return Outgoing{Method("SubmitVersion"), VersionRequest(ids[n])};
      },
      version_latency,
      [&](int64_t n, absl::Time planned, bool, const ::grpc::Status& status, ::grpc::ByteBuffer&) {
        if (status.ok()) started.Submitted(ids[n], planned);
      });
  const absl::Time give_up = absl::Now() + absl::Seconds(30);
  while (started.pending() > 0 && absl::Now() < give_up) absl::SleepFor(absl::Milliseconds(50));
  (*follower)->Stop();
  report.Loop("submit_version", versions, version_latency);
  report.Latency("step_started", started.latency());
  report.Number("never_started", started.pending());
  return versions.failed == 0 && started.pending() == 0 ? 0 : 1;
}

int Verify(const std::string& run, Report& report) {
  // One call at a time: comments on one request would race for its revision.
  UnaryCaller caller(absl::GetFlag(FLAGS_approval), 1);
  const std::string id = RequestIds(run, 1).front();
  if (!Prepare(caller, {id}, report)) return 1;
  ::grpc::ByteBuffer response;
  if (!caller.CallAndWait(Method("SubmitVersion"), VersionRequest(id), response).ok()) return 1;
  auto entries = [&]() -> std::optional<av1::VerifyAuditResponse> {
    av1::VerifyAuditResponse verified;
    if (!caller
             .CallAndWait(Method("VerifyAudit"), ChainRequest<av1::VerifyAuditRequest>(id),
                          response)
             .ok() ||
        !Parse(response, verified)) {
      return std::nullopt;
    }
    return verified;
  };
  auto before = entries();
  if (!before) return 1;
  const int64_t wanted = absl::GetFlag(FLAGS_entries);
  Samples comment_latency;
  const LoopResult comments = RunLoop(
      caller, Counted(std::max<int64_t>(0, wanted - static_cast<int64_t>(before->entries())), 0),
      [&](int64_t n) {
        av1::AddCommentRequest r;
        av1::Comment* c = r.mutable_comment();
        c->set_tenant_id(absl::GetFlag(FLAGS_tenant));
        c->set_request_id(id);
        c->set_version(1);
        c->set_anchor(absl::StrCat("page=1;region=", n % 40, ",", n % 30, ",120,80"));
        c->set_author_id(n % 2 == 0 ? "bea" : "lena");
        c->set_body(absl::StrCat("Comment ", n, ": tighten this sentence and check the figure."));
        return Outgoing{Method("AddComment"), Serialize(r)};
      },
      comment_latency);
  report.Loop("add_comment", comments, comment_latency);
  auto after = entries();
  if (!after) return 1;
  report.Number("entries", after->entries());
  report.Number("intact", after->intact() ? 1 : 0);
  Samples verify_latency;
  const LoopResult verified = RunLoop(
      caller, Counted(absl::GetFlag(FLAGS_calls), 0),
      [&](int64_t) {
        return Outgoing{Method("VerifyAudit"), ChainRequest<av1::VerifyAuditRequest>(id)};
      },
      verify_latency);
  report.Loop("verify_audit", verified, verify_latency);
  return comments.failed + verified.failed == 0 && after->intact() ? 0 : 1;
}

// Work done again after a pause, on a thread of its own, in due order: a
// version for a chain approval has not opened yet (it reads the same
// request.routed the generator reacted to), a decision refused for now.
class Later {
 public:
  Later() : thread_([this] { Run(); }) {}
  ~Later() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    thread_.join();
  }
  void Run(absl::Duration after, std::function<void()> work) {
    std::lock_guard lock(mu_);
    Due due{absl::Now() + after, std::move(work)};
    due_.insert(std::upper_bound(due_.begin(), due_.end(), due,
                                 [](const Due& a, const Due& b) { return a.at < b.at; }),
                std::move(due));
  }

 private:
  struct Due {
    absl::Time at;
    std::function<void()> work;
  };
  void Run() {
    while (true) {
      std::deque<Due> ready;
      {
        std::lock_guard lock(mu_);
        if (stop_) return;
        while (!due_.empty() && due_.front().at <= absl::Now()) {
          ready.push_back(std::move(due_.front()));
          due_.pop_front();
        }
      }
      for (Due& d : ready) d.work();
      absl::SleepFor(absl::Milliseconds(1));
    }
  }

  std::mutex mu_;
  bool stop_ = false;
  std::deque<Due> due_;
  std::thread thread_;
};

// Whether a reaction refused with `status` is worth sending again: the
// server is shedding load or the chain changed under it.
bool Retryable(const ::grpc::Status& status) {
  return status.error_code() == ::grpc::StatusCode::ABORTED ||
         status.error_code() == ::grpc::StatusCode::RESOURCE_EXHAUSTED ||
         status.error_code() == ::grpc::StatusCode::UNAVAILABLE;
}

// When each hop of one request's journey happened.
struct Journey {
  std::optional<absl::Time> planned;
  bool measured = false;
  std::optional<absl::Time> routed, started, completed, advanced;
};

int EndToEnd(const std::string& run, Report& report) {
  const int concurrency = absl::GetFlag(FLAGS_concurrency);
  UnaryCaller intake(absl::GetFlag(FLAGS_intake), concurrency);
  // Reactions to events, sent from the consumer's and `later`'s threads,
  // which wait while as many are in flight as the load itself may have.
  UnaryCaller approval(absl::GetFlag(FLAGS_approval), concurrency);
  Later later;
  std::atomic<int64_t> version_retries{0}, decide_retries{0}, reaction_failures{0};
  absl::Mutex mu;
  absl::flat_hash_map<std::string, Journey> journeys;
  auto at = [&](const std::string& id) -> Journey& { return journeys[id]; };

  auto failed_reaction = [&](const char* what, const ::grpc::Status& status) {
    if (++reaction_failures <= 5) {
      std::fprintf(stderr, "%s failed: %s\n", what, status.error_message().c_str());
    }
  };
  // A version as soon as the request is routed; while approval has not
  // opened the chain (NOT_FOUND) or sheds load, again after 10 ms, 20 ms, ...
  // at most 160 ms. Retries run on `later`'s thread, never on the caller's.
  std::function<void(const std::string&, absl::Duration)> submit_version =
      [&](const std::string& id, absl::Duration backoff) {
        approval.Call(
            Method("SubmitVersion"), VersionRequest(id),
            [&, id, backoff](const ::grpc::Status& status, ::grpc::ByteBuffer&) {
              if (status.error_code() == ::grpc::StatusCode::NOT_FOUND || Retryable(status)) {
                ++version_retries;
                const absl::Duration next = std::min(backoff * 2, absl::Milliseconds(160));
                later.Run(backoff, [&, id, next] { submit_version(id, next); });
              } else if (!status.ok()) {
                failed_reaction("SubmitVersion", status);
              }
            });
      };
  // A decision as soon as the step starts; ABORTED (the chain's last change
  // is still being published, or lost a race) or shed load is retried as
  // the API says, after 5 ms, 10 ms, ... at most 160 ms.
  std::function<void(const std::string&, const std::string&, uint32_t, absl::Duration)> decide =
      [&](const std::string& id, const std::string& step, uint32_t version,
          absl::Duration backoff) {
        approval.Call(
            Method("Decide"), DecideRequest(id, step, version),
            [&, id, step, version, backoff](const ::grpc::Status& status, ::grpc::ByteBuffer&) {
              if (Retryable(status)) {
                ++decide_retries;
                const absl::Duration next = std::min(backoff * 2, absl::Milliseconds(160));
                later.Run(backoff,
                          [&, id, step, version, next] { decide(id, step, version, next); });
              } else if (!status.ok()) {
                failed_reaction("Decide", status);
              }
            });
      };
  auto follower = FollowTopics(
      absl::GetFlag(FLAGS_kafka), {Topic(events::kWorkflowsTopic), Topic(events::kApprovalsTopic)},
      [&](const kafka::CloudEvent& event) {
        const absl::Time now = absl::Now();
        if (event.type == events::kRequestRouted) {
          routing::v1::RequestRouted e;
          if (!e.ParseFromString(event.data)) return;
          {
            absl::MutexLock lock(&mu);
            at(e.request_id()).routed = now;
          }
          submit_version(e.request_id(), absl::Milliseconds(10));
        } else if (event.type == events::kApprovalStepStarted) {
          av1::StepStarted e;
          if (!e.ParseFromString(event.data)) return;
          {
            absl::MutexLock lock(&mu);
            at(e.request_id()).started = now;
          }
          decide(e.request_id(), e.step().step_id(), e.version(), absl::Milliseconds(5));
        } else if (event.type == events::kApprovalCompleted) {
          av1::ApprovalCompleted e;
          if (!e.ParseFromString(event.data)) return;
          absl::MutexLock lock(&mu);
          at(e.request_id()).completed = now;
        } else if (event.type == events::kStageAdvanced) {
          routing::v1::StageAdvanced e;
          if (!e.ParseFromString(event.data) || e.from_stage_id() != "approval") return;
          absl::MutexLock lock(&mu);
          at(e.request_id()).advanced = now;
        }
      });
  if (!follower.ok()) {
    std::fprintf(stderr, "cannot follow the topics: %s\n", follower.status().ToString().c_str());
    return 1;
  }

  const std::string tenant = absl::GetFlag(FLAGS_tenant);
  const std::vector<std::string> fields = {"target_audience=marketing managers"};
  auto make = [&](int64_t n) {
    return Outgoing{kSubmitRequest,
                    Serialize(MakeSubmitRequest(tenant, "blog_post", fields, run, n))};
  };
  auto answered = [&](int64_t, absl::Time planned, bool measured, const ::grpc::Status& status,
                      ::grpc::ByteBuffer& response) {
    intake::v1::SubmitRequestResponse r;
    if (!status.ok() || !Parse(response, r)) return;
    absl::MutexLock lock(&mu);
    Journey& j = at(r.request_id());
    j.planned = planned;
    j.measured = measured;
  };
  auto measured_left = [&](bool all) {
    absl::MutexLock lock(&mu);
    int64_t left = 0;
    for (const auto& [id, j] : journeys) left += j.planned && (all || j.measured) && !j.advanced;
    return left;
  };
  auto wait_for_all = [&](absl::Duration limit, bool all) {
    const absl::Time give_up = absl::Now() + limit;
    while (measured_left(all) > 0 && absl::Now() < give_up) absl::SleepFor(absl::Milliseconds(20));
    return measured_left(all);
  };

  // The pipeline is ready once one request makes it all the way through:
  // the services' consumers may still be joining their groups.
  Samples unused;
  RunLoop(
      intake, Counted(1, 0),
      [&](int64_t) {
        return Outgoing{kSubmitRequest, Serialize(MakeSubmitRequest(tenant, "blog_post", fields,
                                                                    run + "-probe", 0))};
      },
      unused, answered);
  if (wait_for_all(absl::Minutes(2), true) > 0) {
    std::fprintf(stderr, "the probe request never left the approval stage\n");
    return 1;
  }
  {
    absl::MutexLock lock(&mu);
    journeys.clear();
  }

  Samples submit_latency;
  const LoopResult submitted = RunLoop(intake,
                                       {.rate = absl::GetFlag(FLAGS_rate),
                                        .warmup = absl::GetFlag(FLAGS_warmup),
                                        .duration = absl::GetFlag(FLAGS_duration)},
                                       make, submit_latency, answered);
  const int64_t never = wait_for_all(absl::Seconds(60), false);
  (*follower)->Stop();
  approval.Drain();

  Samples routed, started, completed, advanced, routed_to_started;
  {
    absl::MutexLock lock(&mu);
    for (const auto& [id, j] : journeys) {
      if (!j.planned || !j.measured) continue;
      auto add = [&](Samples& samples, const std::optional<absl::Time>& t) {
        if (t) samples.Add(absl::ToDoubleSeconds(*t - *j.planned));
      };
      add(routed, j.routed);
      add(started, j.started);
      add(completed, j.completed);
      add(advanced, j.advanced);
      if (j.routed && j.started) {
        routed_to_started.Add(absl::ToDoubleSeconds(*j.started - *j.routed));
      }
    }
  }
  report.Number("offered_rate", absl::GetFlag(FLAGS_rate));
  report.Loop("submit_request", submitted, submit_latency);
  report.Latency("routed", routed);
  report.Latency("step_started", started);
  report.Latency("completed", completed);
  report.Latency("stage_advanced", advanced);
  // What approval adds once a request is routed: the version's call and
  // the step's start, as the generator sees them.
  report.Latency("routed_to_step_started", routed_to_started);
  report.Number("never_advanced", never);
  report.Number("version_retries", version_retries.load());
  report.Number("decide_retries", decide_retries.load());
  report.Number("reaction_failures", reaction_failures.load());
  return submitted.failed == 0 && never == 0 && reaction_failures == 0 ? 0 : 1;
}

int Run() {
  const std::string run = "lt" + NewRandomId().substr(0, 10);
  const std::string scenario = absl::GetFlag(FLAGS_scenario);
  Report report;
  report.Add(absl::StrCat("\"scenario\": \"", scenario, "\""));
  int code = 2;
  if (scenario == "decide") {
    code = Decide(run, report);
  } else if (scenario == "started") {
    code = Started(run, report);
  } else if (scenario == "verify") {
    code = Verify(run, report);
  } else if (scenario == "e2e") {
    code = EndToEnd(run, report);
  } else {
    std::fprintf(stderr, "--scenario must be decide, started, verify or e2e\n");
    return 2;
  }
  report.Print();
  return code;
}

}  // namespace
}  // namespace flywheel::loadtest

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  // Debian's abseil checks every absl::Mutex for deadlocks; not worth it here.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  return flywheel::loadtest::Run();
}
