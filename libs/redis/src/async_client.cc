#include "flywheel/redis/async_client.h"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <asio/use_awaitable.hpp>
#include <chrono>
#include <list>
#include <utility>

#include "absl/functional/any_invocable.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "flywheel/core/status.h"
#include "flywheel/log/log.h"
#include "flywheel/redis/error.h"
#include "hiredis_handles.h"

namespace flywheel::redis {
namespace {

using Clock = std::chrono::steady_clock;
using Done = absl::AnyInvocable<void(absl::StatusOr<Reply>) &&>;

// Wraps an asio completion handler so that calling it from the connection's
// strand resumes the waiting coroutine on its own executor, later, never
// inside a hiredis callback.
template <typename Handler>
Done ResumeOn(Handler handler) {
  auto work = asio::make_work_guard(asio::get_associated_executor(handler));
  return
      [handler = std::move(handler), work = std::move(work)](absl::StatusOr<Reply> result) mutable {
        auto executor = work.get_executor();
        asio::post(executor, [handler = std::move(handler), result = std::move(result)]() mutable {
          std::move(handler)(std::move(result));
        });
      };
}

}  // namespace

// One hiredis asynchronous connection, and everything that touches it, on
// one strand: hiredis is not thread-safe. hiredis calls the adapter hooks
// (AddRead, ...) to say which readiness it waits for; the channel waits for
// it on the socket with asio and hands it back to hiredis.
class AsyncClient::Channel {
 public:
  Channel(asio::io_context& context, const ConnectionOptions& options)
      : options_(options),
        where_(absl::StrCat(options.endpoint.host, ":", options.endpoint.port)),
        strand_(asio::make_strand(context)),
        socket_(strand_),
        timer_(strand_) {}

  ~Channel() {
    // The context's threads have stopped: nothing else touches the channel.
    if (ctx_ != nullptr) redisAsyncFree(ctx_);
  }

  void Send(std::vector<std::string> args, Done done) {
    asio::post(strand_, [this, args = std::move(args), done = std::move(done)]() mutable {
      Issue(args, std::move(done));
    });
  }

 private:
  struct Pending {
    Clock::time_point deadline;
    Done done;
  };

  // The strand, from here on.

  void Issue(const std::vector<std::string>& args, Done done) {
    if (ctx_ == nullptr) {
      if (absl::Status connected = Connect(); !connected.ok()) {
        std::move(done)(connected);
        return;
      }
    }
    Enqueue(args, std::move(done));
  }

  void Enqueue(const std::vector<std::string>& args, Done done) {
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    argv.reserve(args.size());
    lens.reserve(args.size());
    for (const std::string& arg : args) {
      argv.push_back(arg.data());
      lens.push_back(arg.size());
    }
    auto deadline = Clock::now() + absl::ToChronoNanoseconds(options_.command_timeout);
    Pending& pending = pending_.emplace_back(Pending{deadline, std::move(done)});
    // No privdata: replies come in the order sent, so each is pending_.front().
    if (redisAsyncCommandArgv(ctx_, &Channel::OnReply, nullptr, static_cast<int>(args.size()),
                              argv.data(), lens.data()) != REDIS_OK) {
      Done failed = std::move(pending.done);
      pending_.pop_back();
      std::move(failed)(
          absl::UnavailableError(absl::StrCat("redis ", where_, ": cannot send: ", ctx_->errstr)));
      return;
    }
    ArmTimer();
  }

  absl::Status Connect() {
    if (!last_failure_.ok() && Clock::now() < retry_after_) return last_failure_;
    internal::IgnoreSigpipeOnce();
    redisAsyncContext* ac =
        redisAsyncConnect(options_.endpoint.host.c_str(), options_.endpoint.port);
    if (ac == nullptr) return Failed(absl::ResourceExhaustedError("redis: cannot allocate"));
    if (ac->err != 0) {
      absl::Status why =
          absl::UnavailableError(absl::StrCat("redis ", where_, ": cannot connect: ", ac->errstr));
      redisAsyncFree(ac);
      return Failed(why);
    }
    ++generation_;
    socket_.assign(ac->c.fd);
    ac->data = this;
    ac->ev.data = this;
    ac->ev.addRead = [](void* self) { static_cast<Channel*>(self)->WantRead(true); };
    ac->ev.delRead = [](void* self) { static_cast<Channel*>(self)->WantRead(false); };
    ac->ev.addWrite = [](void* self) { static_cast<Channel*>(self)->WantWrite(true); };
    ac->ev.delWrite = [](void* self) { static_cast<Channel*>(self)->WantWrite(false); };
    ac->ev.cleanup = [](void* self) { static_cast<Channel*>(self)->Detach(); };
    redisAsyncSetConnectCallback(ac, &Channel::OnConnect);
    ctx_ = ac;
    broken_ = absl::OkStatus();
    // Sent first on the connection, so they run before any command.
    if (!options_.password.empty()) {
      std::vector<std::string> auth = {"AUTH"};
      if (!options_.username.empty()) auth.push_back(options_.username);
      auth.push_back(options_.password);
      Enqueue(auth, SetupStep("AUTH"));
    }
    if (options_.db != 0) Enqueue({"SELECT", std::to_string(options_.db)}, SetupStep("SELECT"));
    return absl::OkStatus();
  }

  absl::Status Failed(absl::Status why) {
    last_failure_ = why;
    retry_after_ = Clock::now() + absl::ToChronoNanoseconds(options_.reconnect_backoff);
    return why;
  }

  // A refused AUTH or SELECT breaks the connection: every command behind it
  // would run as the wrong user or on the wrong database.
  Done SetupStep(const char* what) {
    return [this, what](absl::StatusOr<Reply> result) {
      if (result.ok() || ctx_ == nullptr) return;
      absl::Status why(
          result.status().code(),
          absl::StrCat("redis ", where_, ": ", what, " failed: ", result.status().message()));
      asio::post(strand_, [this, why, generation = generation_] {
        if (generation == generation_) Break(Failed(why));  // and wait before the next try
      });
    };
  }

  // Ends the connection: every command waiting on it fails with `why`. The
  // next command reconnects at once.
  void Break(absl::Status why) {
    if (ctx_ == nullptr) return;
    broken_ = std::move(why);
    redisAsyncFree(ctx_);  // runs every callback (no reply), then Detach
  }

  // hiredis's cleanup hook: the context is going away.
  void Detach() {
    ctx_ = nullptr;
    ++generation_;  // waits still queued belong to the old socket
    reading_ = writing_ = read_waiting_ = write_waiting_ = false;
    if (socket_.is_open()) socket_.release();  // hiredis closes the fd
  }

  static void OnConnect(const redisAsyncContext* ac, int status) {
    auto* self = static_cast<Channel*>(ac->data);
    if (status == REDIS_OK) {
      self->last_failure_ = absl::OkStatus();
      return;
    }
    // hiredis frees the context after this returns, failing what waits.
    self->broken_ = self->Failed(absl::UnavailableError(
        absl::StrCat("redis ", self->where_, ": cannot connect: ", ac->errstr)));
  }

  static void OnReply(redisAsyncContext* ac, void* raw_reply, void* /*privdata*/) {
    auto* self = static_cast<Channel*>(ac->data);
    auto* reply = static_cast<redisReply*>(raw_reply);
    // Replies come in the order commands were sent.
    Pending& pending = self->pending_.front();
    Done done = std::move(pending.done);
    self->pending_.pop_front();
    if (reply != nullptr) {
      std::move(done)(internal::ReplyToResult(*reply));
      return;
    }
    if (!self->broken_.ok()) {
      std::move(done)(self->broken_);
    } else if (ac->err != 0) {
      std::move(done)(internal::ContextErrorToStatus(ac->err, ac->errstr, 0, self->where_));
    } else {
      std::move(done)(absl::UnavailableError(
          absl::StrCat("redis ", self->where_, ": connection closed before the reply")));
    }
  }

  void WantRead(bool want) {
    reading_ = want;
    if (want && !read_waiting_) WaitFor(asio::posix::stream_descriptor::wait_read);
  }
  void WantWrite(bool want) {
    writing_ = want;
    if (want && !write_waiting_) WaitFor(asio::posix::stream_descriptor::wait_write);
  }

  void WaitFor(asio::posix::stream_descriptor::wait_type type) {
    const bool read = type == asio::posix::stream_descriptor::wait_read;
    (read ? read_waiting_ : write_waiting_) = true;
    socket_.async_wait(type, [this, read, type, generation = generation_](std::error_code ec) {
      if (generation != generation_) return;
      (read ? read_waiting_ : write_waiting_) = false;
      if (ec || ctx_ == nullptr || !(read ? reading_ : writing_)) return;
      if (read) {
        redisAsyncHandleRead(ctx_);
      } else {
        redisAsyncHandleWrite(ctx_);
      }
      // hiredis may have freed the context, or asked for the other event.
      if (generation == generation_ && (read ? reading_ : writing_) &&
          !(read ? read_waiting_ : write_waiting_)) {
        WaitFor(type);
      }
    });
  }

  // One timer watches the oldest command: replies arrive in order, so when
  // it is late every command is.
  void ArmTimer() {
    if (timer_armed_ || pending_.empty()) return;
    timer_armed_ = true;
    timer_.expires_at(pending_.front().deadline);
    timer_.async_wait([this](std::error_code ec) {
      timer_armed_ = false;
      if (ec) return;
      if (!pending_.empty() && pending_.front().deadline <= Clock::now()) {
        Break(absl::UnavailableError(absl::StrCat("redis ", where_, ": no reply within ",
                                                  absl::FormatDuration(options_.command_timeout))));
      }
      ArmTimer();
    });
  }

  const ConnectionOptions options_;
  const std::string where_;
  asio::strand<asio::io_context::executor_type> strand_;
  asio::posix::stream_descriptor socket_;
  asio::steady_timer timer_;
  redisAsyncContext* ctx_ = nullptr;
  uint64_t generation_ = 0;  // bumped for each context, and when it goes
  bool reading_ = false, writing_ = false;
  bool read_waiting_ = false, write_waiting_ = false;
  bool timer_armed_ = false;
  std::list<Pending> pending_;  // in the order sent
  absl::Status broken_;         // why the connection is being ended
  absl::Status last_failure_;   // the last failed connect
  Clock::time_point retry_after_{};
};

absl::StatusOr<std::unique_ptr<AsyncClient>> AsyncClient::Create(asio::io_context& context,
                                                                 AsyncClientOptions options) {
  FLYWHEEL_RETURN_IF_ERROR(options.connection.Validate());
  if (options.connections < 1) {
    return absl::InvalidArgumentError("redis async client: connections must be at least 1");
  }
  return std::unique_ptr<AsyncClient>(new AsyncClient(context, std::move(options)));
}

AsyncClient::AsyncClient(asio::io_context& context, AsyncClientOptions options)
    : options_(std::move(options)) {
  for (size_t i = 0; i < options_.connections; ++i) {
    channels_.push_back(std::make_unique<Channel>(context, options_.connection));
  }
}

AsyncClient::~AsyncClient() = default;

AsyncClient::Channel& AsyncClient::Next() {
  return *channels_[next_.fetch_add(1, std::memory_order_relaxed) % channels_.size()];
}

asio::awaitable<absl::StatusOr<Reply>> AsyncClient::Command(std::vector<std::string> args) {
  if (args.empty()) co_return absl::InvalidArgumentError("redis command is empty");
  Channel& channel = Next();
  co_return co_await asio::async_initiate<decltype(asio::use_awaitable),
                                          void(absl::StatusOr<Reply>)>(
      [&channel](auto handler, std::vector<std::string> args) {
        channel.Send(std::move(args), ResumeOn(std::move(handler)));
      },
      asio::use_awaitable, std::move(args));
}

asio::awaitable<absl::StatusOr<Reply>> AsyncClient::Eval(const ScriptRegistry& scripts,
                                                         std::string name,
                                                         std::vector<std::string> keys,
                                                         std::vector<std::string> args) {
  absl::StatusOr<std::string> sha1 = scripts.Sha1(name);
  if (!sha1.ok()) co_return sha1.status();
  std::vector<std::string> command = {"EVALSHA", *sha1, std::to_string(keys.size())};
  command.reserve(command.size() + keys.size() + args.size());
  for (std::string& key : keys) command.push_back(std::move(key));
  for (std::string& arg : args) command.push_back(std::move(arg));
  absl::StatusOr<Reply> result = co_await Command(command);
  if (result.ok() || ServerErrorCode(result.status()) != "NOSCRIPT") co_return result;
  // A server restarted, failed over or flushed since the script was loaded:
  // sent again with its source, which Redis also caches (SCRIPT LOAD then
  // EVALSHA would lose to a flush by another client between the two).
  command[0] = "EVAL";
  command[1] = *scripts.Source(name);
  co_return co_await Command(std::move(command));
}

}  // namespace flywheel::redis
