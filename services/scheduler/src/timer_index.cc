#include "timer_index.h"

#include <openssl/sha.h>

#include "absl/strings/str_cat.h"
#include "flywheel/core/status.h"

namespace flywheel::scheduler {
namespace {

// How many sorted sets the index is spread over.
constexpr uint32_t kIndexBuckets = 4096;

std::string RequestOf(const std::string& tenant_id, const std::string& request_id) {
  return absl::StrCat(tenant_id, std::string(1, '\0'), request_id, std::string(1, '\0'));
}

}  // namespace

TimerIndex::TimerIndex(redis::AsyncClient& redis, std::string key_prefix)
    : redis_(redis), key_prefix_(std::move(key_prefix)) {}

std::string TimerIndex::KeyOf(const std::string& tenant_id, const std::string& request_id) const {
  const std::string name = RequestOf(tenant_id, request_id);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(name.data()), name.size(), digest);
  const uint32_t bucket = ((uint32_t{digest[0]} << 8) | digest[1]) % kIndexBuckets;
  return absl::StrCat(key_prefix_, "sched:req:", bucket);
}

asio::awaitable<absl::Status> TimerIndex::Add(const std::string& tenant_id,
                                              const std::string& request_id,
                                              const std::string& timer_id) {
  std::vector<std::string> command = {"ZADD", KeyOf(tenant_id, request_id), "0",
                                      RequestOf(tenant_id, request_id) + timer_id};
  auto reply = co_await redis_.Command(std::move(command));
  co_return reply.status();
}

asio::awaitable<absl::Status> TimerIndex::Remove(const std::string& tenant_id,
                                                 const std::string& request_id,
                                                 const std::string& timer_id) {
  std::vector<std::string> command = {"ZREM", KeyOf(tenant_id, request_id),
                                      RequestOf(tenant_id, request_id) + timer_id};
  auto reply = co_await redis_.Command(std::move(command));
  co_return reply.status();
}

asio::awaitable<absl::StatusOr<std::vector<std::string>>> TimerIndex::OfRequest(
    const std::string& tenant_id, const std::string& request_id, const std::string& after,
    size_t limit) {
  const std::string request = RequestOf(tenant_id, request_id);
  // The request's members sort between `request` and `request` with its
  // last NUL raised to 0x01.
  std::string end = request;
  end.back() = '\x01';
  std::vector<std::string> command = {"ZRANGEBYLEX",
                                      KeyOf(tenant_id, request_id),
                                      after.empty() ? "[" + request : "(" + request + after,
                                      "(" + end,
                                      "LIMIT",
                                      "0",
                                      absl::StrCat(limit)};
  FLYWHEEL_CO_ASSIGN_OR_RETURN(redis::Reply reply, co_await redis_.Command(std::move(command)));
  if (!reply.is_array()) {
    co_return absl::InternalError("ZRANGEBYLEX returned " + reply.DebugString());
  }
  std::vector<std::string> timers;
  for (const redis::Reply& member : reply.elements()) {
    if (member.is_string() && member.str().size() > request.size()) {
      timers.push_back(member.str().substr(request.size()));
    }
  }
  co_return timers;
}

asio::awaitable<absl::StatusOr<StoredTimer>> IndexedTimerStore::Arm(const TimerArm& arm) {
  FLYWHEEL_CO_RETURN_IF_ERROR(
      co_await index_.Add(arm.tenant_id, arm.spec.request_id, arm.timer_id));
  co_return co_await inner().Arm(arm);
}

asio::awaitable<absl::StatusOr<bool>> IndexedTimerStore::Cancel(const std::string& tenant_id,
                                                                const std::string& timer_id) {
  auto timer = co_await inner().Get(tenant_id, timer_id);
  if (!timer.ok()) co_return timer.status();
  auto cancelled = co_await inner().Cancel(tenant_id, timer_id);
  if (!cancelled.ok() || !timer->has_value()) co_return cancelled;
  FLYWHEEL_CO_RETURN_IF_ERROR(
      co_await index_.Remove(tenant_id, (*timer)->spec.request_id, timer_id));
  co_return cancelled;
}

asio::awaitable<absl::Status> IndexedTimerStore::Complete(const ClaimedTimer& claimed,
                                                          const std::optional<FirePoint>& next) {
  FLYWHEEL_CO_RETURN_IF_ERROR(co_await inner().Complete(claimed, next));
  if (next) co_return absl::OkStatus();
  co_return co_await index_.Remove(claimed.timer.tenant_id, claimed.timer.spec.request_id,
                                   claimed.timer.timer_id);
}

}  // namespace flywheel::scheduler
