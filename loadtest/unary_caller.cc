#include "unary_caller.h"

#include <atomic>
#include <cstdio>

#include "absl/time/clock.h"

namespace flywheel::loadtest {

struct UnaryCaller::InFlight {
  ::grpc::ClientContext context;
  ::grpc::ByteBuffer response;
  ::grpc::Status status;
  std::unique_ptr<::grpc::ClientAsyncResponseReader<::grpc::ByteBuffer>> reader;
  std::string path;
  Done done;
};

UnaryCaller::UnaryCaller(const std::string& target, int limit)
    : channel_(::grpc::CreateChannel(target, ::grpc::InsecureChannelCredentials())),
      stub_(channel_),
      limit_(limit),
      receiver_([this] { Receive(); }) {}

UnaryCaller::~UnaryCaller() {
  Drain();
  queue_.Shutdown();
  receiver_.join();
}

void UnaryCaller::Reserve() {
  std::unique_lock lock(mu_);
  room_.wait(lock, [&] { return in_flight_ < limit_; });
  ++in_flight_;
}

void UnaryCaller::Send(const std::string& path, ::grpc::ByteBuffer request, Done done) {
  auto* call = new InFlight;
  call->path = path;
  call->done = std::move(done);
  call->context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  call->reader = stub_.PrepareUnaryCall(&call->context, path, request, &queue_);
  call->reader->StartCall();
  call->reader->Finish(&call->response, &call->status, call);
}

::grpc::Status UnaryCaller::CallAndWait(const std::string& path, ::grpc::ByteBuffer request,
                                        ::grpc::ByteBuffer& response) {
  std::mutex mu;
  std::condition_variable answered;
  bool done = false;
  ::grpc::Status status;
  Call(path, std::move(request), [&](const ::grpc::Status& s, ::grpc::ByteBuffer& r) {
    std::lock_guard lock(mu);
    status = s;
    response = r;
    done = true;
    answered.notify_one();
  });
  std::unique_lock lock(mu);
  answered.wait(lock, [&] { return done; });
  if (!status.ok()) {
    std::fprintf(stderr, "%s failed: %s\n", path.c_str(), status.error_message().c_str());
  }
  return status;
}

void UnaryCaller::Drain() {
  std::unique_lock lock(mu_);
  room_.wait(lock, [&] { return in_flight_ == 0; });
}

void UnaryCaller::Receive() {
  void* tag;
  bool fine;
  while (queue_.Next(&tag, &fine)) {
    std::unique_ptr<InFlight> call(static_cast<InFlight*>(tag));
    if (!call->status.ok()) ++failed_;
    if (call->done) call->done(call->status, call->response);
    std::lock_guard lock(mu_);
    --in_flight_;
    room_.notify_all();
  }
}

LoopResult RunLoop(UnaryCaller& caller, const LoopOptions& options,
                   const std::function<Outgoing(int64_t)>& make, Samples& latency,
                   const std::function<void(int64_t, absl::Time, bool, const ::grpc::Status&,
                                            ::grpc::ByteBuffer&)>& answered) {
  std::atomic<int64_t> ok{0}, failed{0}, printed{0};
  const absl::Time start = absl::Now();
  const bool counted = options.calls > 0;
  // A counted run measures every call, from the first.
  const absl::Time measure_from = counted ? start : start + options.warmup;
  const absl::Time end = counted ? absl::InfiniteFuture() : measure_from + options.duration;
  for (int64_t n = 0; !counted || n < options.calls; ++n) {
    absl::Time planned = options.rate > 0 ? start + absl::Seconds(n / options.rate) : absl::Now();
    if (planned >= end) break;
    if (options.rate > 0 && planned > absl::Now()) absl::SleepFor(planned - absl::Now());
    Outgoing call = make(n);
    caller.Reserve();
    if (options.rate <= 0) planned = absl::Now();
    const bool measured = planned >= measure_from;
    caller.Send(
        call.path, std::move(call.request),
        [&, n, planned, measured](const ::grpc::Status& status, ::grpc::ByteBuffer& response) {
          if (!status.ok() && printed++ < 5) {
            std::fprintf(stderr, "call %lld failed: %s\n", static_cast<long long>(n),
                         status.error_message().c_str());
          }
          if (measured) {
            if (status.ok()) {
              ++ok;
              latency.Add(absl::ToDoubleSeconds(absl::Now() - planned));
            } else {
              ++failed;
            }
          }
          if (answered) answered(n, planned, measured, status, response);
        });
  }
  caller.Drain();
  LoopResult result;
  result.ok = ok.load();
  result.failed = failed.load();
  result.seconds = absl::ToDoubleSeconds((counted ? absl::Now() : end) - measure_from);
  return result;
}

}  // namespace flywheel::loadtest
