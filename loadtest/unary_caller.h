// Unary gRPC calls for the load generators: a generic stub, so every method
// goes through the same code path and only the servers differ, and a loop
// that sends them closed (as fast as the calls in flight allow) or open (at
// a fixed rate, each call timed from its planned send, so a stalled server
// cannot hide its stall by slowing the sender down).
#pragma once

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/codegen/proto_utils.h>

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/time/time.h"
#include "samples.h"

namespace flywheel::loadtest {

/// Serialises a request for a generic call.
template <typename Message>
::grpc::ByteBuffer Serialize(const Message& message) {
  ::grpc::ByteBuffer buffer;
  bool own = false;
  (void)::grpc::SerializationTraits<Message>::Serialize(message, &buffer, &own);
  return buffer;
}

/// Reads a generic call's response; false when it is not a `Message`.
template <typename Message>
bool Parse(::grpc::ByteBuffer& buffer, Message& out) {
  return ::grpc::SerializationTraits<Message>::Deserialize(&buffer, &out).ok();
}

/// Sends unary calls on one channel and hands each answer to its callback on
/// one receiver thread. At most `limit` calls are in flight: `Call` waits for
/// room. Thread-safe.
class UnaryCaller {
 public:
  using Done = std::function<void(const ::grpc::Status&, ::grpc::ByteBuffer& response)>;

  UnaryCaller(const std::string& target, int limit);
  ~UnaryCaller();
  UnaryCaller(const UnaryCaller&) = delete;
  UnaryCaller& operator=(const UnaryCaller&) = delete;

  /// Sends `request` to `path` (`/package.Service/Method`) with a 10 s
  /// deadline; `done` runs once it is answered or failed. Must not be called
  /// from a `done` callback while the caller is full.
  void Call(const std::string& path, ::grpc::ByteBuffer request, Done done) {
    Reserve();
    Send(path, std::move(request), std::move(done));
  }
  /// `Call` in two halves: `Reserve` waits for room, `Send` sends in it.
  void Reserve();
  void Send(const std::string& path, ::grpc::ByteBuffer request, Done done);
  /// Sends one call and waits for its answer; a failure is printed on stderr.
  ::grpc::Status CallAndWait(const std::string& path, ::grpc::ByteBuffer request,
                             ::grpc::ByteBuffer& response);
  /// Waits until every call sent so far is answered.
  void Drain();
  /// Calls that failed.
  int64_t failed() const { return failed_.load(); }

 private:
  struct InFlight;
  void Receive();

  std::shared_ptr<::grpc::Channel> channel_;
  ::grpc::GenericStub stub_;
  ::grpc::CompletionQueue queue_;
  const int limit_;
  std::mutex mu_;
  std::condition_variable room_;
  int in_flight_ = 0;
  std::atomic<int64_t> failed_{0};
  std::thread receiver_;
};

/// How `RunLoop` paces its calls.
struct LoopOptions {
  /// Calls per second; 0 sends as fast as the caller's limit allows.
  double rate = 0;
  /// Stop after this many calls, every one measured; 0 runs for warmup +
  /// duration and measures the calls planned after the warm-up.
  int64_t calls = 0;
  absl::Duration warmup = absl::Seconds(3);
  absl::Duration duration = absl::Seconds(20);
};

/// What `RunLoop` measured.
struct LoopResult {
  int64_t ok = 0;
  int64_t failed = 0;
  /// The measured window.
  double seconds = 0;
  /// Answered calls per second over the window.
  double rate() const { return seconds > 0 ? ok / seconds : 0; }
};

/// One call of a loop: where it goes and what it sends.
struct Outgoing {
  std::string path;
  ::grpc::ByteBuffer request;
};

/// Sends calls 0, 1, 2, ... made by `make(n)`: call n is planned at
/// start + n / rate (open loop) or when there is room (closed loop). Each
/// measured call's latency, from its planned send to its answer, goes to
/// `latency`; `answered(n, planned, measured, status, response)` runs on the
/// receiver thread for every call. The first few failures are printed on
/// stderr. Returns once every call is answered.
LoopResult RunLoop(UnaryCaller& caller, const LoopOptions& options,
                   const std::function<Outgoing(int64_t)>& make, Samples& latency,
                   const std::function<void(int64_t, absl::Time, bool, const ::grpc::Status&,
                                            ::grpc::ByteBuffer&)>& answered = nullptr);

}  // namespace flywheel::loadtest
