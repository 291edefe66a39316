// Serves flywheel.rpctest.TestService/Echo, a unary method that does nothing,
// so a load generator (ghz) measures what the gRPC server itself costs:
//
//   flywheel-grpc-empty-server --mode=sync|callback|coroutine|cq --port=PORT
//
//   sync      rpc::Server, a synchronous service (what services used first)
//   callback  rpc::Server, a callback service answering on gRPC's thread
//   coroutine rpc::Server, a callback service answering from a coroutine
//             (rpc::CoroutineCalls), as intake does
//             (one hand-off per call, what a handler that waits pays)
//   cq        a completion-queue server, one queue and thread per --cq_threads,
//             with the same RED interceptor; no health or reflection
//
// Runs until SIGTERM or SIGINT. Not a test: see docs/notes.md for figures.
#include <grpcpp/grpcpp.h>

#include <asio/awaitable.hpp>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "call_tracker.h"
#include "flywheel/async/io_threads.h"
#include "flywheel/grpc/async.h"
#include "flywheel/grpc/coroutine_calls.h"
#include "flywheel/grpc/server.h"
#include "flywheel/grpc/termination.h"
#include "flywheel/metrics/metrics.h"
#include "grpc_test_service.grpc.pb.h"

ABSL_FLAG(std::string, mode, "callback", "sync, callback, coroutine or cq");
ABSL_FLAG(int, port, 18090, "port on 127.0.0.1");
ABSL_FLAG(int, cq_threads, 2, "completion queues (one thread each) in cq mode");
ABSL_FLAG(int, io_threads, 2, "io threads running the coroutines in coroutine mode");

namespace flywheel::rpc {
namespace {

using rpctest::EchoReply;
using rpctest::EchoRequest;
using rpctest::TestService;

class SyncEcho final : public TestService::Service {
  ::grpc::Status Echo(::grpc::ServerContext*, const EchoRequest* req, EchoReply* reply) override {
    reply->set_text(req->text());
    return ::grpc::Status::OK;
  }
};

class CallbackEcho final : public TestService::CallbackService {
 public:
  // Answers from a coroutine on `io` when given one, else on the gRPC thread.
  explicit CallbackEcho(asio::io_context* io) {
    if (io != nullptr) calls_.emplace(*io);
  }
  ::grpc::ServerUnaryReactor* Echo(::grpc::CallbackServerContext* ctx, const EchoRequest* req,
                                   EchoReply* reply) override {
    if (calls_) return calls_->Run(ctx, reply, Echoed(req));
    return Reply(ctx, reply, absl::StatusOr<EchoReply>(Copy(*req)));
  }

 private:
  static EchoReply Copy(const EchoRequest& req) {
    EchoReply out;
    out.set_text(req.text());
    return out;
  }
  static asio::awaitable<absl::StatusOr<EchoReply>> Echoed(const EchoRequest* req) {
    co_return Copy(*req);
  }

  std::optional<CoroutineCalls> calls_;
};

// The classic completion-queue state machine: one per call in flight.
class CqCall {
 public:
  CqCall(TestService::AsyncService* service, ::grpc::ServerCompletionQueue* cq)
      : service_(service), cq_(cq), responder_(&ctx_) {
    service_->RequestEcho(&ctx_, &request_, &responder_, cq_, cq_, this);
  }
  void Proceed() {
    if (!answered_) {
      new CqCall(service_, cq_);  // Take the next call.
      reply_.set_text(request_.text());
      answered_ = true;
      responder_.Finish(reply_, ::grpc::Status::OK, this);
    } else {
      delete this;
    }
  }

 private:
  TestService::AsyncService* service_;
  ::grpc::ServerCompletionQueue* cq_;
  ::grpc::ServerContext ctx_;
  EchoRequest request_;
  EchoReply reply_;
  ::grpc::ServerAsyncResponseWriter<EchoReply> responder_;
  bool answered_ = false;
};

int ServeCq(const std::string& address, int threads, metrics::Metrics& metrics) {
  TestService::AsyncService service;
  ::grpc::ServerBuilder builder;
  builder.AddListeningPort(address, ::grpc::InsecureServerCredentials());
  builder.RegisterService(&service);
  std::vector<std::unique_ptr<::grpc::experimental::ServerInterceptorFactoryInterface>> creators;
  creators.push_back(
      std::make_unique<RedInterceptorFactory>(std::make_shared<CallTracker>(metrics, "bench")));
  builder.experimental().SetInterceptorCreators(std::move(creators));
  std::vector<std::unique_ptr<::grpc::ServerCompletionQueue>> cqs;
  for (int i = 0; i < threads; ++i) cqs.push_back(builder.AddCompletionQueue());
  std::unique_ptr<::grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr) return 1;
  std::vector<std::thread> pollers;
  for (auto& cq : cqs) {
    pollers.emplace_back([&service, cq = cq.get()] {
      for (int i = 0; i < 64; ++i) new CqCall(&service, cq);
      void* tag;
      bool ok;
      while (cq->Next(&tag, &ok)) {
        if (ok) {
          static_cast<CqCall*>(tag)->Proceed();
        } else {
          delete static_cast<CqCall*>(tag);
        }
      }
    });
  }
  std::printf("serving cq on %s\n", address.c_str());
  std::fflush(stdout);
  (void)WaitForTerminationSignal();
  server->Shutdown();
  for (auto& cq : cqs) cq->Shutdown();
  for (std::thread& t : pollers) t.join();
  return 0;
}

int Main() {
  if (!BlockTerminationSignals().ok()) return 1;
  const std::string mode = absl::GetFlag(FLAGS_mode);
  const std::string address = absl::StrCat("127.0.0.1:", absl::GetFlag(FLAGS_port));
  metrics::Metrics metrics;
  if (mode == "cq") return ServeCq(address, absl::GetFlag(FLAGS_cq_threads), metrics);

  SyncEcho sync;
  std::unique_ptr<async::IoThreads> io;
  if (mode == "coroutine") io = std::make_unique<async::IoThreads>(absl::GetFlag(FLAGS_io_threads));
  CallbackEcho callback(io ? &io->context() : nullptr);
  ::grpc::Service* service = nullptr;
  if (mode == "sync") {
    service = &sync;
  } else if (mode == "callback" || mode == "coroutine") {
    service = &callback;
  } else {
    std::fprintf(stderr, "unknown --mode=%s\n", mode.c_str());
    return 2;
  }
  auto server = Server::Start(
      {.address = address, .service_name = "bench", .drain_timeout = absl::Seconds(1)}, {service},
      metrics);
  if (!server.ok()) {
    std::fprintf(stderr, "%s\n", server.status().ToString().c_str());
    return 1;
  }
  std::printf("serving %s on %s\n", mode.c_str(), address.c_str());
  std::fflush(stdout);
  (void)WaitForTerminationSignal();
  (*server)->Shutdown();
  return 0;
}

}  // namespace
}  // namespace flywheel::rpc

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return flywheel::rpc::Main();
}
