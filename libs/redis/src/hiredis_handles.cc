#include "hiredis_handles.h"

#include <cerrno>
#include <csignal>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "flywheel/redis/error.h"

namespace flywheel::redis::internal {

Reply ConvertReply(const redisReply& reply) {
  switch (reply.type) {
    case REDIS_REPLY_STRING:
      return Reply::String(std::string(reply.str, reply.len));
    case REDIS_REPLY_STATUS:
      return Reply::Status(std::string(reply.str, reply.len));
    case REDIS_REPLY_ERROR:
      return Reply::Error(std::string(reply.str, reply.len));
    case REDIS_REPLY_INTEGER:
      return Reply::Integer(reply.integer);
    case REDIS_REPLY_ARRAY: {
      std::vector<Reply> elements;
      elements.reserve(reply.elements);
      for (size_t i = 0; i < reply.elements; ++i) {
        elements.push_back(reply.element[i] != nullptr ? ConvertReply(*reply.element[i])
                                                       : Reply::Nil());
      }
      return Reply::Array(std::move(elements));
    }
    case REDIS_REPLY_NIL:
    default:
      return Reply::Nil();
  }
}

absl::StatusOr<Reply> ReplyToResult(const redisReply& reply) {
  if (reply.type == REDIS_REPLY_ERROR) {
    return ServerErrorToStatus(std::string_view(reply.str != nullptr ? reply.str : "", reply.len));
  }
  return ConvertReply(reply);
}

absl::Status ContextErrorToStatus(int err, std::string_view errstr, int saved_errno,
                                  std::string_view where) {
  std::string w(where);
  std::string text(errstr);
  switch (err) {
    case REDIS_ERR_IO:
      if (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK) {
        return absl::UnavailableError(absl::StrCat("redis ", w, ": timed out (", text, ")"));
      }
      return absl::UnavailableError(absl::StrCat("redis ", w, ": I/O error: ", text));
    case REDIS_ERR_EOF:
      return absl::UnavailableError(absl::StrCat("redis ", w, ": connection closed: ", text));
    case REDIS_ERR_PROTOCOL:
      return absl::UnavailableError(absl::StrCat("redis ", w, ": protocol error: ", text));
    case REDIS_ERR_OOM:
      return absl::ResourceExhaustedError(absl::StrCat("redis ", w, ": out of memory: ", text));
    default:
      return absl::UnavailableError(absl::StrCat("redis ", w, ": ", text));
  }
}

// hiredis writes with write(2): a write to a socket the server reset raises
// SIGPIPE, which by default kills the process. Ignore it (only when nobody
// installed a handler) so the write fails with EPIPE and becomes UNAVAILABLE.
void IgnoreSigpipeOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction current {};
    if (sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) {
      struct sigaction ignore {};
      ignore.sa_handler = SIG_IGN;
      sigemptyset(&ignore.sa_mask);
      sigaction(SIGPIPE, &ignore, nullptr);
    }
  });
}

struct timeval ToTimeval(absl::Duration d) {
  if (d < absl::Milliseconds(1)) d = absl::Milliseconds(1);
  return absl::ToTimeval(d);
}

}  // namespace flywheel::redis::internal
