#include "slot_timers.h"

#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace flywheel::scheduler {
namespace {

constexpr char kPrefix[] = "publish/";

}  // namespace

std::string SlotTimerId(const SlotPoint& point) {
  return absl::StrCat(kPrefix, point.slot_id, "/", point.revision, "/",
                      absl::ToUnixMillis(point.at));
}

std::optional<SlotPoint> SlotPointOf(const StoredTimer& timer) {
  if (timer.next.kind != PointKind::kPublish) return std::nullopt;
  std::vector<std::string> parts = absl::StrSplit(timer.timer_id, '/');
  SlotPoint point;
  int64_t ms = 0;
  if (parts.size() != 4 || parts[0] + "/" != kPrefix || parts[1].empty() ||
      !absl::SimpleAtoi(parts[2], &point.revision) || !absl::SimpleAtoi(parts[3], &ms)) {
    return std::nullopt;
  }
  point.tenant_id = timer.tenant_id;
  point.slot_id = std::move(parts[1]);
  point.at = absl::FromUnixMillis(ms);
  point.request_id = timer.spec.request_id;
  return point;
}

SlotTimers::SlotTimers(TimerStore& store, std::function<void(absl::Time)> on_armed)
    : store_(store), on_armed_(std::move(on_armed)) {}

asio::awaitable<absl::Status> SlotTimers::Arm(const SlotPoint& point) {
  TimerArm arm;
  arm.tenant_id = point.tenant_id;
  arm.timer_id = SlotTimerId(point);
  arm.spec.request_id = point.request_id;
  arm.spec.start_time = point.at;
  arm.next = {.kind = PointKind::kPublish, .escalation_level = 0, .due = point.at};
  auto stored = co_await store_.Arm(arm);
  if (!stored.ok()) co_return stored.status();
  if (on_armed_) on_armed_(stored->next.due);
  co_return absl::OkStatus();
}

asio::awaitable<absl::Status> SlotTimers::Cancel(const SlotPoint& point) {
  auto cancelled = co_await store_.Cancel(point.tenant_id, SlotTimerId(point));
  co_return cancelled.status();
}

}  // namespace flywheel::scheduler
