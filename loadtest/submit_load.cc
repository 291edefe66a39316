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
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "flywheel/core/id.h"
#include "flywheel/events/catalog.h"
#include "flywheel/intake/v1/intake_service.grpc.pb.h"
#include "flywheel/kafka/consumer.h"
#include "flywheel/routing/v1/events.pb.h"

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
using intake::v1::SubmitRequestRequest;
using intake::v1::SubmitRequestResponse;

struct Call {
  ::grpc::ClientContext context;
  ::grpc::ByteBuffer response;
  ::grpc::Status status;
  std::unique_ptr<::grpc::ClientAsyncResponseReader<::grpc::ByteBuffer>> reader;
  absl::Time planned;
  bool measured = false;
};

// Latency samples in seconds; exact percentiles over every sample.
class Samples {
 public:
  void Add(double seconds) {
    std::lock_guard lock(mu_);
    values_.push_back(seconds);
  }
  size_t size() const {
    std::lock_guard lock(mu_);
    return values_.size();
  }
  void Clear() {
    std::lock_guard lock(mu_);
    values_.clear();
  }
  // "p50_ms": ..., as JSON members; null when there are no samples.
  std::string Json() {
    std::lock_guard lock(mu_);
    Sort();
    if (values_.empty()) {
      return "\"p50_ms\": null, \"p90_ms\": null, \"p99_ms\": null, \"p999_ms\": null, "
             "\"max_ms\": null, \"samples\": 0";
    }
    char text[256];
    std::snprintf(text, sizeof text,
                  "\"p50_ms\": %.3f, \"p90_ms\": %.3f, \"p99_ms\": %.3f, \"p999_ms\": %.3f, "
                  "\"max_ms\": %.3f, \"samples\": %zu",
                  At(0.5), At(0.9), At(0.99), At(0.999), 1000 * values_.back(), values_.size());
    return text;
  }
  void Print(const char* name) {
    std::lock_guard lock(mu_);
    Sort();
    if (values_.empty()) {
      std::fprintf(stderr, "%-18s no samples\n", name);
      return;
    }
    std::fprintf(
        stderr, "%-18s n=%zu  p50=%.2f ms  p90=%.2f ms  p99=%.2f ms  p99.9=%.2f ms  max=%.2f ms\n",
        name, values_.size(), At(0.5), At(0.9), At(0.99), At(0.999), 1000 * values_.back());
  }

 private:
  void Sort() { std::sort(values_.begin(), values_.end()); }
  // The q-quantile in milliseconds; values_ sorted and not empty.
  double At(double q) const {
    return 1000 * values_[std::min(values_.size() - 1, static_cast<size_t>(q * values_.size()))];
  }

  mutable std::mutex mu_;
  std::vector<double> values_;
};

// Matches submit responses with request.routed events, whichever comes first.
class RoutedTracker {
 public:
  void Submitted(const std::string& id, absl::Time planned) {
    std::lock_guard lock(mu_);
    if (auto it = routed_.find(id); it != routed_.end()) {
      latency_.Add(absl::ToDoubleSeconds(it->second - planned));
      routed_.erase(it);
    } else {
      pending_[id] = planned;
    }
  }
  void Routed(const std::string& id, absl::Time at) {
    std::lock_guard lock(mu_);
    if (auto it = pending_.find(id); it != pending_.end()) {
      latency_.Add(absl::ToDoubleSeconds(at - it->second));
      pending_.erase(it);
    } else {
      routed_[id] = at;
    }
  }
  size_t pending() const {
    std::lock_guard lock(mu_);
    return pending_.size();
  }
  Samples& latency() { return latency_; }

 private:
  mutable std::mutex mu_;
  absl::flat_hash_map<std::string, absl::Time> pending_;
  absl::flat_hash_map<std::string, absl::Time> routed_;
  Samples latency_;
};

SubmitRequestRequest MakeRequest(const std::string& run, int64_t n) {
  SubmitRequestRequest r;
  r.set_tenant_id(absl::GetFlag(FLAGS_tenant));
  r.set_idempotency_key(run + "-" + std::to_string(n));
  auto* spec = r.mutable_spec();
  spec->set_request_type_id(absl::GetFlag(FLAGS_request_type));
  spec->set_title("Load test request " + std::to_string(n));
  spec->set_description("Generated by flywheel-loadtest-submit.");
  spec->mutable_requester()->set_user_id("loadtest");
  spec->mutable_requester()->set_team("marketing");
  spec->mutable_due_time()->set_seconds(absl::ToUnixSeconds(absl::Now() + absl::Hours(24 * 10)));
  for (const std::string& field : absl::GetFlag(FLAGS_field)) {
    const size_t eq = field.find('=');
    if (eq != std::string::npos)
      (*spec->mutable_fields())[field.substr(0, eq)] = field.substr(eq + 1);
  }
  return r;
}

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
    ::grpc::ByteBuffer buffer;
    bool own = false;
    (void)::grpc::SerializationTraits<SubmitRequestRequest>::Serialize(MakeRequest(run_, n),
                                                                       &buffer, &own);
    return buffer;
  }

 private:
  std::string run_;
  std::string path_;
};

std::string RequestIdOf(::grpc::ByteBuffer& response) {
  SubmitRequestResponse parsed;
  if (!::grpc::SerializationTraits<SubmitRequestResponse>::Deserialize(&response, &parsed).ok()) {
    return "";
  }
  return parsed.request_id();
}

int Run() {
  const double rate = absl::GetFlag(FLAGS_rate);
  const int concurrency = absl::GetFlag(FLAGS_concurrency);
  const int64_t max_requests = absl::GetFlag(FLAGS_requests);
  const std::string run = "lt-" + NewRandomId().substr(0, 10);
  const Requests requests(run);
  if (!requests.ok()) {
    std::fprintf(stderr, "--method must be submit or empty\n");
    return 2;
  }

  RoutedTracker routed;
  std::unique_ptr<kafka::Consumer> follower;
  if (const std::string kafka = absl::GetFlag(FLAGS_kafka); !kafka.empty()) {
    const std::string topic = absl::GetFlag(FLAGS_topic_prefix) + events::kWorkflowsTopic;
    auto consumer = kafka::Consumer::Create({.bootstrap_servers = kafka,
                                             .group_id = run,
                                             .topics = {topic},
                                             .dead_letter_topic = topic + ".loadtest-unused",
                                             .handler_name = "loadtest.routed",
                                             .properties = {{"auto.offset.reset", "latest"}}},
                                            [&routed](const kafka::ConsumedEvent& consumed) {
                                              if (consumed.event.type != events::kRequestRouted)
                                                return absl::OkStatus();
                                              routing::v1::RequestRouted event;
                                              if (event.ParseFromString(consumed.event.data)) {
                                                routed.Routed(event.request_id(), absl::Now());
                                              }
                                              return absl::OkStatus();
                                            });
    if (!consumer.ok() || !(*consumer)->Start().ok()) {
      std::fprintf(stderr, "cannot follow %s\n", topic.c_str());
      return 1;
    }
    follower = *std::move(consumer);
    const absl::Time give_up = absl::Now() + absl::Seconds(30);
    while (!follower->HasAssignment() && absl::Now() < give_up) {
      absl::SleepFor(absl::Milliseconds(50));
    }
    // The assignment is in place; give the fetcher a moment to resolve
    // "latest" before load starts, or the first events could be skipped.
    absl::SleepFor(absl::Seconds(2));
  }

  auto channel =
      ::grpc::CreateChannel(absl::GetFlag(FLAGS_target), ::grpc::InsecureChannelCredentials());
  ::grpc::GenericStub stub(channel);
  ::grpc::CompletionQueue queue;
  Samples call_latency;
  std::atomic<int64_t> ok{0}, failed{0};
  std::mutex mu;
  std::condition_variable room;
  int in_flight = 0;

  // Receives completions: the only thread that touches finished calls.
  std::thread receiver([&] {
    void* tag;
    bool fine;
    while (queue.Next(&tag, &fine)) {
      std::unique_ptr<Call> call(static_cast<Call*>(tag));
      const absl::Time now = absl::Now();
      if (call->status.ok()) {
        if (call->measured) {
          ++ok;
          call_latency.Add(absl::ToDoubleSeconds(now - call->planned));
          if (follower) routed.Submitted(RequestIdOf(call->response), call->planned);
        }
      } else {
        ++failed;
        if (failed < 5)
          std::fprintf(stderr, "call failed: %s\n", call->status.error_message().c_str());
      }
      std::lock_guard lock(mu);
      --in_flight;
      room.notify_one();
    }
  });

  auto start_call = [&](int64_t n, absl::Time planned, bool measured) {
    auto* call = new Call;
    call->planned = planned;
    call->measured = measured;
    call->context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    call->reader = stub.PrepareUnaryCall(&call->context, requests.path(), requests.Make(n), &queue);
    call->reader->StartCall();
    call->reader->Finish(&call->response, &call->status, call);
  };

  if (follower) {
    // The pipeline is ready once one request makes it all the way through:
    // routing's consumer may still be joining its group when intake answers.
    ::grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    ::grpc::ByteBuffer probe;
    ::grpc::Status status;
    ::grpc::CompletionQueue probe_queue;
    auto reader = stub.PrepareUnaryCall(&context, requests.path(), requests.Make(-1), &probe_queue);
    reader->StartCall();
    reader->Finish(&probe, &status, nullptr);
    void* tag;
    bool fine;
    probe_queue.Next(&tag, &fine);
    probe_queue.Shutdown();
    while (probe_queue.Next(&tag, &fine)) {
    }
    if (!status.ok()) {
      std::fprintf(stderr, "probe request failed: %s\n", status.error_message().c_str());
      return 1;
    }
    routed.Submitted(RequestIdOf(probe), absl::Now());
    const absl::Time give_up = absl::Now() + absl::Seconds(120);
    while (routed.pending() > 0 && absl::Now() < give_up) absl::SleepFor(absl::Milliseconds(20));
    if (routed.pending() > 0) {
      std::fprintf(stderr, "the probe request was never routed\n");
      return 1;
    }
    routed.latency().Clear();
  }

  const absl::Time start = absl::Now();
  const bool counted = max_requests > 0;
  // A counted run measures every call, from the first.
  const absl::Time measure_from = counted ? start : start + absl::GetFlag(FLAGS_warmup);
  const absl::Time end =
      counted ? absl::InfiniteFuture() : measure_from + absl::GetFlag(FLAGS_duration);
  int64_t n = 0;
  for (; !counted || n < max_requests; ++n) {
    absl::Time planned = rate > 0 ? start + absl::Seconds(n / rate) : absl::Now();
    if (planned >= end) break;
    if (rate > 0 && planned > absl::Now()) absl::SleepFor(planned - absl::Now());
    {
      std::unique_lock lock(mu);
      room.wait(lock, [&] { return in_flight < concurrency; });
      ++in_flight;
    }
    if (rate <= 0) planned = absl::Now();
    start_call(n, planned, planned >= measure_from);
  }
  {
    std::unique_lock lock(mu);
    room.wait(lock, [&] { return in_flight == 0; });
  }
  queue.Shutdown();
  receiver.join();
  const double seconds = absl::ToDoubleSeconds((counted ? absl::Now() : end) - measure_from);

  if (follower) {
    const absl::Time give_up = absl::Now() + absl::Seconds(30);
    while (routed.pending() > 0 && absl::Now() < give_up) absl::SleepFor(absl::Milliseconds(50));
    follower->Stop();
  }

  std::fprintf(stderr, "mode               %s, concurrency %d, %s\n",
               rate > 0 ? ("open loop at " + std::to_string(static_cast<int>(rate)) + "/s").c_str()
                        : "closed loop",
               concurrency, requests.path().c_str());
  std::fprintf(stderr, "measured           %.1f s after %.0f s warm-up\n", seconds,
               counted ? 0.0 : absl::ToDoubleSeconds(absl::GetFlag(FLAGS_warmup)));
  std::fprintf(stderr, "answered ok        %lld (%.0f/s), failed %lld\n",
               static_cast<long long>(ok.load()), ok.load() / seconds,
               static_cast<long long>(failed.load()));
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
        requests.path().c_str(), offered.c_str(), ok.load() / seconds, concurrency, seconds,
        static_cast<long long>(ok.load()), static_cast<long long>(failed.load()),
        call_latency.Json().c_str());
    if (follower) {
      std::printf(", \"routed\": {%s, \"never_routed\": %zu}", routed.latency().Json().c_str(),
                  routed.pending());
    }
    std::printf("}\n");
  }
  return failed.load() == 0 ? 0 : 1;
}

}  // namespace
}  // namespace flywheel::loadtest

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  // Debian's abseil checks every absl::Mutex for deadlocks; not worth it here.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  return flywheel::loadtest::Run();
}
