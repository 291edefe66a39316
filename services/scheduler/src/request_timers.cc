#include "request_timers.h"

#include <algorithm>

#include "flywheel/core/field_errors.h"
#include "flywheel/core/page_token.h"
#include "flywheel/core/status.h"

namespace flywheel::scheduler {
namespace {

absl::Status RequireRequest(const std::string& request_id) {
  if (!request_id.empty()) return absl::OkStatus();
  FieldErrors errors;
  errors.Add("request_id", "is required");
  return errors.ToStatus();
}

}  // namespace

asio::awaitable<absl::StatusOr<std::vector<v1::Timer>>> RequestTimers::ForEach(
    const std::string& tenant_id, const std::string& request_id, bool pause) {
  FLYWHEEL_CO_RETURN_IF_ERROR(RequireRequest(request_id));
  const std::string first;
  FLYWHEEL_CO_ASSIGN_OR_RETURN(
      std::vector<std::string> ids,
      co_await index_.OfRequest(tenant_id, request_id, first, kMostTimersPerRequest));
  std::vector<v1::Timer> changed;
  for (const std::string& id : ids) {
    absl::StatusOr<v1::Timer> timer;
    if (pause) {
      timer = co_await timers_.Pause(tenant_id, id);
    } else {
      timer = co_await timers_.Resume(tenant_id, id);
    }
    // Gone (the index keeps it a while), or in that state already.
    if (absl::IsNotFound(timer.status()) || absl::IsFailedPrecondition(timer.status())) continue;
    if (!timer.ok()) co_return timer.status();
    changed.push_back(*std::move(timer));
  }
  co_return changed;
}

asio::awaitable<absl::StatusOr<std::vector<v1::Timer>>> RequestTimers::Pause(
    const std::string& tenant_id, const std::string& request_id) {
  co_return co_await ForEach(tenant_id, request_id, true);
}

asio::awaitable<absl::StatusOr<std::vector<v1::Timer>>> RequestTimers::Resume(
    const std::string& tenant_id, const std::string& request_id) {
  co_return co_await ForEach(tenant_id, request_id, false);
}

asio::awaitable<absl::StatusOr<v1::ListTimersResponse>> RequestTimers::List(
    const v1::ListTimersRequest& r) {
  FLYWHEEL_CO_RETURN_IF_ERROR(RequireRequest(r.request_id()));
  FLYWHEEL_CO_ASSIGN_OR_RETURN(const size_t page, PageSizeOf(r.page_size()));
  const absl::Time now = clock_.Now();
  // The cursor is the last timer id shown.
  std::string after;
  if (!r.page_token().empty()) {
    FLYWHEEL_CO_ASSIGN_OR_RETURN(after, DecodePageToken(r.page_token(), r, now));
  }
  auto wanted = [&r](v1::TimerState state) {
    return r.states().empty() ||
           std::find(r.states().begin(), r.states().end(), state) != r.states().end();
  };
  v1::ListTimersResponse out;
  bool more = true;
  while (more && static_cast<size_t>(out.timers_size()) < page) {
    FLYWHEEL_CO_ASSIGN_OR_RETURN(
        std::vector<std::string> ids,
        co_await index_.OfRequest(r.tenant_id(), r.request_id(), after, page));
    more = ids.size() == page;
    for (const std::string& id : ids) {
      after = id;
      auto timer = co_await timers_.Get(r.tenant_id(), id);
      if (absl::IsNotFound(timer.status())) continue;
      if (!timer.ok()) co_return timer.status();
      if (wanted(timer->state())) *out.add_timers() = *std::move(timer);
      if (static_cast<size_t>(out.timers_size()) == page) break;
    }
  }
  if (static_cast<size_t>(out.timers_size()) == page) {
    FLYWHEEL_CO_ASSIGN_OR_RETURN(
        std::vector<std::string> rest,
        co_await index_.OfRequest(r.tenant_id(), r.request_id(), after, 1));
    if (!rest.empty()) out.set_next_page_token(EncodePageToken(r, now, after));
  }
  co_return out;
}

}  // namespace flywheel::scheduler
