#include "flywheel/redis/connection.h"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <mutex>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "flywheel/log/log.h"
#include "flywheel/redis/error.h"
#include "hiredis_handles.h"

namespace flywheel::redis {

using internal::ContextHandle;
using internal::ReplyHandle;

absl::Status ConnectionOptions::Validate() const {
  auto bad = [](const std::string& why) {
    return absl::InvalidArgumentError(absl::StrCat("redis connection options: ", why));
  };
  if (endpoint.host.empty()) return bad("endpoint.host is empty");
  if (endpoint.port < 1 || endpoint.port > 65535) {
    return bad(absl::StrCat("endpoint.port ", endpoint.port, " is not in 1..65535"));
  }
  if (connect_timeout <= absl::ZeroDuration()) return bad("connect_timeout must be positive");
  if (command_timeout <= absl::ZeroDuration()) return bad("command_timeout must be positive");
  if (db < 0) return bad(absl::StrCat("db ", db, " is negative"));
  if (connect_attempts < 1) return bad("connect_attempts must be at least 1");
  if (reconnect_backoff < absl::ZeroDuration()) return bad("reconnect_backoff is negative");
  if (!username.empty() && password.empty()) return bad("username given without a password");
  return absl::OkStatus();
}

struct Connection::State {
  ConnectionOptions options;
  std::string where;           // "host:port" for messages
  ContextHandle ctx;           // null when not connected or broken
  bool was_connected = false;  // so a reconnect can be told from a first connect
};

namespace {

// One connection attempt: TCP connect, timeouts, AUTH, SELECT.
absl::StatusOr<ContextHandle> ConnectOnce(const ConnectionOptions& o, const std::string& where) {
  internal::IgnoreSigpipeOnce();
  ContextHandle ctx(redisConnectWithTimeout(o.endpoint.host.c_str(), o.endpoint.port,
                                            internal::ToTimeval(o.connect_timeout)));
  if (ctx == nullptr) {
    return absl::ResourceExhaustedError(absl::StrCat("redis ", where, ": cannot allocate context"));
  }
  if (ctx->err != 0) {
    return absl::UnavailableError(absl::StrCat("redis ", where, ": cannot connect: ", ctx->errstr));
  }
  if (redisSetTimeout(ctx.get(), internal::ToTimeval(o.command_timeout)) != REDIS_OK) {
    return absl::UnavailableError(
        absl::StrCat("redis ", where, ": cannot set command timeout: ", ctx->errstr));
  }
  redisEnableKeepAlive(ctx.get());  // best effort

  auto run = [&](const std::vector<std::string>& args) -> absl::Status {
    std::vector<const char*> argv;
    std::vector<size_t> argvlen;
    for (const std::string& a : args) {
      argv.push_back(a.data());
      argvlen.push_back(a.size());
    }
    errno = 0;
    ReplyHandle reply(static_cast<redisReply*>(
        redisCommandArgv(ctx.get(), static_cast<int>(argv.size()), argv.data(), argvlen.data())));
    if (reply == nullptr) {
      return internal::ContextErrorToStatus(ctx->err, ctx->errstr, errno, where);
    }
    return internal::ReplyToResult(*reply).status();
  };
  if (!o.password.empty()) {
    std::vector<std::string> auth = {"AUTH"};
    if (!o.username.empty()) auth.push_back(o.username);
    auth.push_back(o.password);
    if (absl::Status s = run(auth); !s.ok()) {
      return absl::Status(s.code(), absl::StrCat("redis ", where, ": AUTH failed: ", s.message()));
    }
  }
  if (o.db != 0) {
    if (absl::Status s = run({"SELECT", std::to_string(o.db)}); !s.ok()) {
      return absl::Status(
          s.code(), absl::StrCat("redis ", where, ": SELECT ", o.db, " failed: ", s.message()));
    }
  }
  return ctx;
}

}  // namespace

Connection::Connection(std::unique_ptr<State> state) : state_(std::move(state)) {}
Connection::Connection(Connection&&) noexcept = default;
Connection& Connection::operator=(Connection&&) noexcept = default;
Connection::~Connection() = default;

absl::StatusOr<Connection> Connection::Connect(ConnectionOptions options) {
  if (absl::Status s = options.Validate(); !s.ok()) return s;
  Connection conn = Deferred(std::move(options));
  if (absl::Status s = conn.EnsureConnected(); !s.ok()) return s;
  return conn;
}

Connection Connection::Deferred(ConnectionOptions options) {
  auto state = std::make_unique<State>();
  state->where = options.endpoint.ToString();
  state->options = std::move(options);
  return Connection(std::move(state));
}

const ConnectionOptions& Connection::options() const { return state_->options; }

bool Connection::broken() const { return state_->ctx == nullptr; }

absl::Status Connection::EnsureConnected() {
  if (state_->ctx != nullptr) return absl::OkStatus();
  const ConnectionOptions& o = state_->options;
  absl::Duration backoff = o.reconnect_backoff;
  absl::Status last;
  for (int attempt = 1; attempt <= o.connect_attempts; ++attempt) {
    absl::StatusOr<ContextHandle> ctx = ConnectOnce(o, state_->where);
    if (ctx.ok()) {
      state_->ctx = *std::move(ctx);
      if (state_->was_connected) {
        log::Info("redis reconnected", {{"server", state_->where}, {"attempt", attempt}});
      }
      state_->was_connected = true;
      return absl::OkStatus();
    }
    last = ctx.status();
    // Only an unreachable server is worth another try; a refused AUTH or a
    // bad db is not going to change.
    if (last.code() != absl::StatusCode::kUnavailable || !ServerErrorCode(last).empty()) break;
    if (attempt < o.connect_attempts) {
      absl::SleepFor(backoff);
      backoff = std::min(backoff * 2, absl::Seconds(1));
    }
  }
  log::Warn(
      "redis unreachable",
      {{"server", state_->where}, {"attempts", o.connect_attempts}, {"error", last.ToString()}});
  return last;
}

absl::StatusOr<Reply> Connection::Command(const std::vector<std::string>& args) {
  if (args.empty()) return absl::InvalidArgumentError("redis command has no arguments");
  if (absl::Status s = EnsureConnected(); !s.ok()) return s;
  std::vector<const char*> argv;
  std::vector<size_t> argvlen;
  argv.reserve(args.size());
  argvlen.reserve(args.size());
  for (const std::string& a : args) {
    argv.push_back(a.data());
    argvlen.push_back(a.size());
  }
  redisContext* ctx = state_->ctx.get();
  errno = 0;
  ReplyHandle reply(static_cast<redisReply*>(
      redisCommandArgv(ctx, static_cast<int>(argv.size()), argv.data(), argvlen.data())));
  if (reply == nullptr) {
    absl::Status s = internal::ContextErrorToStatus(ctx->err, ctx->errstr, errno, state_->where);
    state_->ctx.reset();  // broken: the next call reconnects
    return s;
  }
  return internal::ReplyToResult(*reply);
}

std::vector<absl::StatusOr<Reply>> Connection::Pipeline(
    const std::vector<std::vector<std::string>>& commands) {
  std::vector<absl::StatusOr<Reply>> results(commands.size(), absl::UnknownError("not run"));
  if (commands.empty()) return results;
  if (absl::Status s = EnsureConnected(); !s.ok()) {
    for (size_t i = 0; i < commands.size(); ++i) {
      results[i] =
          commands[i].empty() ? absl::InvalidArgumentError("redis command has no arguments") : s;
    }
    return results;
  }
  redisContext* ctx = state_->ctx.get();
  std::vector<size_t> sent;  // indexes of commands appended, in order
  sent.reserve(commands.size());
  std::vector<const char*> argv;
  std::vector<size_t> argvlen;
  for (size_t i = 0; i < commands.size(); ++i) {
    const std::vector<std::string>& args = commands[i];
    if (args.empty()) {
      results[i] = absl::InvalidArgumentError("redis command has no arguments");
      continue;
    }
    argv.clear();
    argvlen.clear();
    for (const std::string& a : args) {
      argv.push_back(a.data());
      argvlen.push_back(a.size());
    }
    if (redisAppendCommandArgv(ctx, static_cast<int>(argv.size()), argv.data(), argvlen.data()) !=
        REDIS_OK) {
      // Only allocation failure; what was appended is in an unknown state.
      absl::Status s = internal::ContextErrorToStatus(ctx->err, ctx->errstr, 0, state_->where);
      state_->ctx.reset();
      for (size_t j = 0; j < commands.size(); ++j) {
        if (!commands[j].empty()) results[j] = s;
      }
      return results;
    }
    sent.push_back(i);
  }
  for (size_t k = 0; k < sent.size(); ++k) {
    void* raw = nullptr;
    errno = 0;
    if (redisGetReply(ctx, &raw) != REDIS_OK || raw == nullptr) {
      absl::Status s = internal::ContextErrorToStatus(ctx->err, ctx->errstr, errno, state_->where);
      state_->ctx.reset();
      for (size_t rest = k; rest < sent.size(); ++rest) results[sent[rest]] = s;
      return results;
    }
    ReplyHandle reply(static_cast<redisReply*>(raw));
    results[sent[k]] = internal::ReplyToResult(*reply);
  }
  return results;
}

}  // namespace flywheel::redis
