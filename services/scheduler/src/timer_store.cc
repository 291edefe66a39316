#include "timer_store.h"

#include "absl/strings/str_cat.h"

namespace flywheel::scheduler {
namespace {

absl::Duration ToStoredDuration(absl::Duration duration) {
  return absl::Milliseconds(absl::ToInt64Milliseconds(duration));
}

std::string PointName(const FirePoint& point) {
  if (point.kind == PointKind::kWarning) return "warning";
  if (point.kind == PointKind::kPublish) return "publish";
  if (point.escalation_level == 0) return "breach";
  return absl::StrCat("escalation", point.escalation_level);
}

}  // namespace

std::string FiredEventId(const std::string& tenant_id, const std::string& timer_id,
                         const FirePoint& point) {
  return absl::StrCat("evt_sla_", tenant_id, "_", timer_id, "_", PointName(point), "_",
                      absl::ToUnixMillis(point.due));
}

absl::Time ToStoredTime(absl::Time time) { return absl::FromUnixMillis(absl::ToUnixMillis(time)); }

TimerArm StoredForm(TimerArm arm) {
  arm.next.due = ToStoredTime(arm.next.due);
  arm.spec.start_time = ToStoredTime(arm.spec.start_time);
  arm.spec.duration = ToStoredDuration(arm.spec.duration);
  arm.spec.warn_after = ToStoredDuration(arm.spec.warn_after);
  for (absl::Duration& after : arm.spec.escalate_after) after = ToStoredDuration(after);
  return arm;
}

absl::Status CheckPoint(const FirePoint& point) {
  if (point.kind != PointKind::kWarning && point.kind != PointKind::kBreach &&
      point.kind != PointKind::kPublish) {
    return absl::InvalidArgumentError("next: unknown point kind");
  }
  if (point.kind != PointKind::kBreach && point.escalation_level != 0) {
    return absl::InvalidArgumentError("next: only a breach has an escalation level");
  }
  if (point.escalation_level > kMaxEscalationLevel) {
    return absl::InvalidArgumentError(absl::StrCat("next: escalation level ",
                                                   point.escalation_level,
                                                   " is above the highest, ", kMaxEscalationLevel));
  }
  return absl::OkStatus();
}

absl::Status CheckArm(const TimerArm& arm) {
  if (arm.tenant_id.empty()) return absl::InvalidArgumentError("tenant_id: empty");
  if (arm.timer_id.empty()) return absl::InvalidArgumentError("timer_id: empty");
  if (arm.tenant_id.find('\0') != std::string::npos) {
    return absl::InvalidArgumentError("tenant_id: contains NUL");
  }
  if (arm.tenant_id.size() + arm.timer_id.size() > 250) {
    return absl::InvalidArgumentError("timer_id: tenant and timer id longer than 250 bytes");
  }
  if (arm.spec.duration < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("spec.duration: negative");
  }
  if (arm.spec.warn_after < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("spec.warn_after: negative");
  }
  for (absl::Duration after : arm.spec.escalate_after) {
    if (after < absl::ZeroDuration()) {
      return absl::InvalidArgumentError("spec.escalate_after: negative");
    }
  }
  return CheckPoint(arm.next);
}

asio::awaitable<absl::Status> TimerStore::Complete(const ClaimedTimer& claimed,
                                                   const std::optional<FirePoint>& next) {
  std::vector<Completion> one(1);
  one[0].claimed = &claimed;
  one[0].next = next;
  std::vector<absl::Status> done = co_await CompleteAll(one);
  if (done.size() != 1) co_return absl::InternalError("CompleteAll of one returned no status");
  co_return done[0];
}

}  // namespace flywheel::scheduler
