// Load generator: sends unary gRPC calls, closed loop (as fast as
// --concurrency allows) or open loop (--rate per second), and reports
// throughput and latency percentiles. --method=submit calls intake's
// SubmitRequest; --method=empty calls flywheel-loadtest-empty's empty method
// through the same code path (a generic stub, the request serialised by us),
// so the two rates compare the servers and nothing else. With --kafka it also
// follows routing's workflows topic and reports submit -> routed latency: from
// the moment a call was due to be sent to the moment its request.routed event
// arrived.
//
// Latency is measured from each call's planned send time, not its actual
// one, so a stalled server cannot hide its stall by slowing the sender down.
// Percentiles are exact: every sample is kept and sorted.
//
// A human summary goes to stderr; with --json, one JSON object to stdout.
#include <cstdio>
#include <mutex>

#include "absl/container/flat_hash_map.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "arrivals.h"
#include "flywheel/core/id.h"
#include "flywheel/events/catalog.h"
#include "flywheel/intake/v1/intake_service.grpc.pb.h"
#include "flywheel/kafka/consumer.h"
#include "flywheel/routing/v1/events.pb.h"
#include "follow_topics.h"
#include "samples.h"
#include "submit_request.h"
#include "unary_caller.h"

ABSL_FLAG(std::string, target, "127.0.0.1:8081", "the server's gRPC address");
ABSL_FLAG(std::string, method, "submit",
          "submit (intake's SubmitRequest) or empty (flywheel-loadtest-empty's method)");
ABSL_FLAG(int64_t, requests, 0, "stop after this many calls (0: run for --warmup + --duration)");
ABSL_FLAG(bool, json, false, "print the results as one JSON object on stdout");
ABSL_FLAG(double, rate, 0, "calls per second; 0 sends as fast as --concurrency allows");
ABSL_FLAG(int, concurrency, 64, "most calls in flight at once");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(20), "how long to measure");
ABSL_FLAG(absl::Duration, warmup, absl::Seconds(3), "load sent before measuring starts");
ABSL_FLAG(std::string, kafka, "", "bootstrap servers; when set, measure submit -> routed too");
ABSL_FLAG(std::string, topic_prefix, "", "the services' kafka.topic_prefix");
ABSL_FLAG(std::string, tenant, "acme", "tenant of every request");
ABSL_FLAG(std::string, request_type, "blog_post", "request type of every request");
ABSL_FLAG(std::vector<std::string>, field, {"target_audience=marketing managers"},
          "request type fields as key=value, comma separated");

namespace flywheel::loadtest {
namespace {

using intake::v1::IntakeService;
using intake::v1::SubmitRequestResponse;

// The bytes of one call's request, and the method it goes to.
class Requests {
 public:
  explicit Requests(std::string run) : run_(std::move(run)) {
    const std::string method = absl::GetFlag(FLAGS_method);
    if (method == "submit") {
      path_ = "/flywheel.intake.v1.IntakeService/SubmitRequest";
    } else if (method == "empty") {
      path_ = "/flywheel.loadtest.EmptyService/Empty";
    }
  }
  bool ok() const { return !path_.empty(); }
  bool submits() const { return path_.find("SubmitRequest") != std::string::npos; }
  const std::string& path() const { return path_; }
  ::grpc::ByteBuffer Make(int64_t n) const {
    if (!submits()) {
      // The empty method's request has no fields: zero bytes, but a buffer
      // with a slice in it, or the server cannot read it.
      ::grpc::Slice empty("");
      return ::grpc::ByteBuffer(&empty, 1);
    }
    return Serialize(MakeSubmitRequest(absl::GetFlag(FLAGS_tenant),
                                       absl::GetFlag(FLAGS_request_type),
                                       absl::GetFlag(FLAGS_field), run_, n));
  }

 private:
  std::string run_;
  std::string path_;
};

std::string RequestIdOf(::grpc::ByteBuffer& response) {
  SubmitRequestResponse parsed;
  return Parse(response, parsed) ? parsed.request_id() : "";
}

int Run() {
  const double rate = absl::GetFlag(FLAGS_rate);
  const int concurrency = absl::GetFlag(FLAGS_concurrency);
  const std::string run = "lt-" + NewRandomId().substr(0, 10);
  const Requests requests(run);
  if (!requests.ok()) {
    std::fprintf(stderr, "--method must be submit or empty\n");
    return 2;
  }

  Arrivals routed;
  std::unique_ptr<kafka::Consumer> follower;
  if (const std::string kafka = absl::GetFlag(FLAGS_kafka); !kafka.empty()) {
    const std::string topic = absl::GetFlag(FLAGS_topic_prefix) + events::kWorkflowsTopic;
    auto consumer = FollowTopics(kafka, {topic}, [&routed](const kafka::CloudEvent& event) {
      if (event.type != events::kRequestRouted) return;
      routing::v1::RequestRouted routed_event;
      if (routed_event.ParseFromString(event.data)) {
        routed.Arrived(routed_event.request_id(), absl::Now());
      }
    });
    if (!consumer.ok()) {
      std::fprintf(stderr, "cannot follow %s: %s\n", topic.c_str(),
                   consumer.status().ToString().c_str());
      return 1;
    }
    follower = *std::move(consumer);
  }

  UnaryCaller caller(absl::GetFlag(FLAGS_target), concurrency);
  if (follower) {
    // The pipeline is ready once one request makes it all the way through:
    // routing's consumer may still be joining its group when intake answers.
    ::grpc::ByteBuffer probe;
    const ::grpc::Status status = caller.CallAndWait(requests.path(), requests.Make(-1), probe);
    if (!status.ok()) return 1;
    routed.Submitted(RequestIdOf(probe), absl::Now());
    const absl::Time give_up = absl::Now() + absl::Seconds(120);
    while (routed.pending() > 0 && absl::Now() < give_up) absl::SleepFor(absl::Milliseconds(20));
    if (routed.pending() > 0) {
      std::fprintf(stderr, "the probe request was never routed\n");
      return 1;
    }
    routed.latency().Clear();
  }

  Samples call_latency;
  const LoopOptions options{.rate = rate,
                            .calls = absl::GetFlag(FLAGS_requests),
                            .warmup = absl::GetFlag(FLAGS_warmup),
                            .duration = absl::GetFlag(FLAGS_duration)};
  const LoopResult result = RunLoop(
      caller, options,
      [&](int64_t n) {
        return Outgoing{requests.path(), requests.Make(n)};
      },
      call_latency,
      [&](int64_t, absl::Time planned, bool measured, const ::grpc::Status& status,
          ::grpc::ByteBuffer& response) {
        if (follower && measured && status.ok()) routed.Submitted(RequestIdOf(response), planned);
      });

  if (follower) {
    const absl::Time give_up = absl::Now() + absl::Seconds(30);
    while (routed.pending() > 0 && absl::Now() < give_up) absl::SleepFor(absl::Milliseconds(50));
    follower->Stop();
  }

  std::fprintf(stderr, "mode               %s, concurrency %d, %s\n",
               rate > 0 ? ("open loop at " + std::to_string(static_cast<int>(rate)) + "/s").c_str()
                        : "closed loop",
               concurrency, requests.path().c_str());
  std::fprintf(stderr, "measured           %.1f s\n", result.seconds);
  std::fprintf(stderr, "answered ok        %lld (%.0f/s), failed %lld\n",
               static_cast<long long>(result.ok), result.rate(),
               static_cast<long long>(result.failed));
  call_latency.Print("call");
  if (follower) {
    routed.latency().Print("submit -> routed");
    std::fprintf(stderr, "never routed       %zu\n", routed.pending());
  }
  if (absl::GetFlag(FLAGS_json)) {
    std::string offered = rate > 0 ? std::to_string(rate) : "null";
    std::printf(
        "{\"method\": \"%s\", \"offered_rate\": %s, \"achieved_rate\": %.1f, "
        "\"concurrency\": %d, \"seconds\": %.3f, \"ok\": %lld, \"failed\": %lld, %s",
        requests.path().c_str(), offered.c_str(), result.rate(), concurrency, result.seconds,
        static_cast<long long>(result.ok), static_cast<long long>(result.failed),
        call_latency.Json().c_str());
    if (follower) {
      std::printf(", \"routed\": {%s, \"never_routed\": %zu}", routed.latency().Json().c_str(),
                  routed.pending());
    }
    std::printf("}\n");
  }
  return caller.failed() == 0 ? 0 : 1;
}

}  // namespace
}  // namespace flywheel::loadtest

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  // Debian's abseil checks every absl::Mutex for deadlocks; not worth it here.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  return flywheel::loadtest::Run();
}
