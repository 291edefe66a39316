#include "in_memory_timer_store.h"

#include <algorithm>
#include <tuple>

#include "absl/strings/str_cat.h"

namespace flywheel::scheduler {

size_t InMemoryTimerStore::size() const {
  std::lock_guard lock(mu_);
  return timers_.size();
}

absl::StatusOr<StoredTimer> InMemoryTimerStore::ArmNow(const TimerArm& given) {
  if (absl::Status checked = CheckArm(given); !checked.ok()) return checked;
  const TimerArm arm = StoredForm(given);
  std::lock_guard lock(mu_);
  if (!fail_with.ok()) return fail_with;
  Entry& entry = timers_[{arm.tenant_id, arm.timer_id}];
  entry = {.timer = {.tenant_id = arm.tenant_id,
                     .timer_id = arm.timer_id,
                     .spec = arm.spec,
                     .next = arm.next,
                     .revision = ++last_revision_}};
  return entry.timer;
}

absl::StatusOr<bool> InMemoryTimerStore::CancelNow(const std::string& tenant_id,
                                                   const std::string& timer_id) {
  std::lock_guard lock(mu_);
  if (!fail_with.ok()) return fail_with;
  return timers_.erase({tenant_id, timer_id}) == 1;
}

absl::StatusOr<StoredTimer> InMemoryTimerStore::PauseNow(const std::string& tenant_id,
                                                         const std::string& timer_id,
                                                         absl::Time now) {
  std::lock_guard lock(mu_);
  if (!fail_with.ok()) return fail_with;
  auto it = timers_.find({tenant_id, timer_id});
  if (it == timers_.end()) return absl::NotFoundError("no timer " + timer_id);
  Entry& entry = it->second;
  if (entry.timer.paused_at.has_value()) {
    return absl::FailedPreconditionError(timer_id + " is paused already");
  }
  entry.timer.paused_at = ToStoredTime(now);
  entry.timer.revision = ++last_revision_;
  entry.lease_until.reset();
  return entry.timer;
}

absl::StatusOr<StoredTimer> InMemoryTimerStore::ResumeNow(const std::string& tenant_id,
                                                          const std::string& timer_id,
                                                          const FirePoint& next,
                                                          uint32_t expected_revision) {
  if (absl::Status checked = CheckPoint(next); !checked.ok()) return checked;
  std::lock_guard lock(mu_);
  if (!fail_with.ok()) return fail_with;
  auto it = timers_.find({tenant_id, timer_id});
  if (it == timers_.end()) return absl::NotFoundError("no timer " + timer_id);
  Entry& entry = it->second;
  if (!entry.timer.paused_at.has_value()) {
    return absl::FailedPreconditionError(timer_id + " is not paused");
  }
  if (entry.timer.revision != expected_revision) {
    return absl::AbortedError(
        absl::StrCat(timer_id, " changed since revision ", expected_revision));
  }
  entry.timer.paused_at.reset();
  entry.timer.next = next;
  entry.timer.next.due = ToStoredTime(next.due);
  entry.timer.revision = ++last_revision_;
  return entry.timer;
}

absl::StatusOr<std::optional<StoredTimer>> InMemoryTimerStore::GetNow(const std::string& tenant_id,
                                                                      const std::string& timer_id) {
  std::lock_guard lock(mu_);
  if (!fail_with.ok()) return fail_with;
  auto it = timers_.find({tenant_id, timer_id});
  if (it == timers_.end()) return std::nullopt;
  return it->second.timer;
}

absl::StatusOr<std::vector<ClaimedTimer>> InMemoryTimerStore::ClaimNow(absl::Time now, size_t max,
                                                                       absl::Duration lease) {
  if (lease <= absl::ZeroDuration()) return absl::InvalidArgumentError("lease: must be positive");
  std::lock_guard lock(mu_);
  if (!fail_with.ok()) return fail_with;
  const absl::Time at = ToStoredTime(now);
  std::vector<Entry*> due;
  for (auto& [key, entry] : timers_) {
    if (entry.timer.paused_at.has_value()) continue;
    const bool ready =
        entry.lease_until.has_value() ? *entry.lease_until <= at : entry.timer.next.due <= at;
    if (ready) due.push_back(&entry);
  }
  auto earlier = [](const Entry* a, const Entry* b) {
    return std::tie(a->timer.next.due, a->timer.tenant_id, a->timer.timer_id) <
           std::tie(b->timer.next.due, b->timer.tenant_id, b->timer.timer_id);
  };
  std::sort(due.begin(), due.end(), earlier);
  if (due.size() > std::min(max, kMaxClaimBatch)) due.resize(std::min(max, kMaxClaimBatch));
  std::vector<ClaimedTimer> out;
  const absl::Time until = ToStoredTime(now + lease);
  for (Entry* entry : due) {
    entry->lease_until = until;
    entry->timer.revision = ++last_revision_;
    out.push_back({.timer = entry->timer, .lease_until = until});
  }
  return out;
}

absl::Status InMemoryTimerStore::CompleteNow(const ClaimedTimer& claimed,
                                             const std::optional<FirePoint>& next) {
  if (next.has_value()) {
    if (absl::Status checked = CheckPoint(*next); !checked.ok()) return checked;
  }
  std::lock_guard lock(mu_);
  if (!fail_with.ok()) return fail_with;
  const StoredTimer& timer = claimed.timer;
  auto it = timers_.find({timer.tenant_id, timer.timer_id});
  if (it == timers_.end() || !it->second.lease_until.has_value() ||
      it->second.timer.revision != timer.revision) {
    return absl::AbortedError(absl::StrCat("the claim of ", timer.timer_id, " at revision ",
                                           timer.revision, " no longer holds it"));
  }
  if (!next.has_value()) {
    timers_.erase(it);
    return absl::OkStatus();
  }
  Entry& entry = it->second;
  entry.lease_until.reset();
  entry.timer.next = *next;
  entry.timer.next.due = ToStoredTime(next->due);
  entry.timer.revision = ++last_revision_;
  return absl::OkStatus();
}

absl::StatusOr<std::optional<absl::Time>> InMemoryTimerStore::NextDueNow() {
  std::lock_guard lock(mu_);
  if (!fail_with.ok()) return fail_with;
  std::optional<absl::Time> earliest;
  for (const auto& [key, entry] : timers_) {
    if (entry.timer.paused_at.has_value()) continue;
    const absl::Time at = entry.lease_until.value_or(entry.timer.next.due);
    if (!earliest.has_value() || at < *earliest) earliest = at;
  }
  return earliest;
}

}  // namespace flywheel::scheduler
