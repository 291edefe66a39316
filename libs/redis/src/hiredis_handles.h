#pragma once

// Private to libs/redis: the only place besides the .cc files that sees
// hiredis. RAII handles for hiredis objects and conversions of what hiredis
// returns into the project's types.

#include <hiredis/hiredis.h>

#include <memory>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "flywheel/redis/reply.h"

namespace flywheel::redis::internal {

struct ContextDeleter {
  void operator()(redisContext* c) const { redisFree(c); }
};
using ContextHandle = std::unique_ptr<redisContext, ContextDeleter>;

struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using ReplyHandle = std::unique_ptr<redisReply, ReplyDeleter>;

/// A reply tree as a `Reply`; an error (at any depth) becomes `Reply::Error`.
Reply ConvertReply(const redisReply& reply);

/// A top-level reply as a result: an error reply becomes a status through
/// `ServerErrorToStatus`, anything else a `Reply`.
absl::StatusOr<Reply> ReplyToResult(const redisReply& reply);

/// The status for a context whose `err` is set. `saved_errno` is errno right
/// after the failing call (tells a timeout from other I/O errors);
/// `where` names the endpoint. Always UNAVAILABLE except for hiredis OOM
/// (RESOURCE_EXHAUSTED).
absl::Status ContextErrorToStatus(int err, std::string_view errstr, int saved_errno,
                                  std::string_view where);

/// Ignores SIGPIPE once per process when nobody installed a handler, so a
/// write to a reset socket fails with EPIPE instead of killing the process.
void IgnoreSigpipeOnce();

/// A positive duration as a timeval (at least 1 ms).
struct timeval ToTimeval(absl::Duration d);

}  // namespace flywheel::redis::internal
