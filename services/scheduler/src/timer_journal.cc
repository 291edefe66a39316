#include "timer_journal.h"

#include "absl/strings/str_cat.h"
#include "flywheel/core/status.h"
#include "flywheel/log/log.h"
#include "stored_spec.h"
#include "stored_timer.pb.h"

namespace flywheel::scheduler {

std::string JournalKey(const std::string& tenant_id, const std::string& timer_id) {
  // CheckArm refuses a NUL in the tenant, so the key is unambiguous.
  return absl::StrCat(tenant_id, std::string(1, '\0'), timer_id);
}

std::string EncodeJournaled(const StoredTimer& timer) {
  stored::JournaledTimer journaled;
  journaled.set_tenant_id(timer.tenant_id);
  journaled.set_timer_id(timer.timer_id);
  const TimerArm arm = {.tenant_id = timer.tenant_id,
                        .timer_id = timer.timer_id,
                        .spec = timer.spec,
                        .next = timer.next};
  *journaled.mutable_spec() = PackSpec(arm);
  journaled.set_next_kind(static_cast<uint32_t>(timer.next.kind));
  journaled.set_next_escalation_level(timer.next.escalation_level);
  journaled.set_next_due_ms(absl::ToUnixMillis(timer.next.due));
  if (timer.paused_at) journaled.set_paused_at_ms(absl::ToUnixMillis(*timer.paused_at));
  return journaled.SerializeAsString();
}

absl::StatusOr<StoredTimer> DecodeJournaled(const std::string& value) {
  stored::JournaledTimer journaled;
  if (!journaled.ParseFromString(value) || journaled.next_kind() > 255) {
    return absl::DataLossError(
        absl::StrCat("a journaled timer of ", value.size(), " bytes does not parse"));
  }
  StoredTimer timer;
  timer.tenant_id = journaled.tenant_id();
  timer.timer_id = journaled.timer_id();
  timer.spec = UnpackSpec(journaled.spec(), timer.timer_id);
  timer.next = {.kind = static_cast<PointKind>(journaled.next_kind()),
                .escalation_level = journaled.next_escalation_level(),
                .due = absl::FromUnixMillis(journaled.next_due_ms())};
  if (journaled.has_paused_at_ms())
    timer.paused_at = absl::FromUnixMillis(journaled.paused_at_ms());
  return timer;
}

JournaledTimerStore::JournaledTimerStore(TimerStore& inner, kafka::Producer& producer,
                                         std::string topic)
    : ForwardingTimerStore(inner), journal_(producer, std::move(topic)) {}

asio::awaitable<absl::Status> JournaledTimerStore::Write(const std::string& tenant_id,
                                                         const std::string& timer_id,
                                                         const std::optional<StoredTimer>& timer) {
  std::optional<std::string> value;
  if (timer) value = EncodeJournaled(*timer);
  const std::string what = absl::StrCat("timer '", timer_id, "'");
  co_return co_await journal_.Write(JournalKey(tenant_id, timer_id), std::move(value), what);
}

asio::awaitable<absl::StatusOr<StoredTimer>> JournaledTimerStore::Written(
    absl::StatusOr<StoredTimer> changed) {
  if (!changed.ok()) co_return changed;
  const std::optional<StoredTimer> state = *changed;
  FLYWHEEL_CO_RETURN_IF_ERROR(co_await Write(changed->tenant_id, changed->timer_id, state));
  co_return changed;
}

asio::awaitable<absl::StatusOr<StoredTimer>> JournaledTimerStore::Arm(const TimerArm& arm) {
  auto armed = co_await inner().Arm(arm);
  co_return co_await Written(std::move(armed));
}

asio::awaitable<absl::StatusOr<bool>> JournaledTimerStore::Cancel(const std::string& tenant_id,
                                                                  const std::string& timer_id) {
  auto cancelled = co_await inner().Cancel(tenant_id, timer_id);
  if (!cancelled.ok()) co_return cancelled;
  // Written even when there was no timer: a cancel retried after a failed
  // write still reaches the journal.
  const std::optional<StoredTimer> gone;
  FLYWHEEL_CO_RETURN_IF_ERROR(co_await Write(tenant_id, timer_id, gone));
  co_return cancelled;
}

asio::awaitable<absl::StatusOr<StoredTimer>> JournaledTimerStore::Pause(
    const std::string& tenant_id, const std::string& timer_id, absl::Time now) {
  auto paused = co_await inner().Pause(tenant_id, timer_id, now);
  co_return co_await Written(std::move(paused));
}

asio::awaitable<absl::StatusOr<StoredTimer>> JournaledTimerStore::Resume(
    const std::string& tenant_id, const std::string& timer_id, const FirePoint& next,
    uint32_t expected_revision) {
  auto resumed = co_await inner().Resume(tenant_id, timer_id, next, expected_revision);
  co_return co_await Written(std::move(resumed));
}

asio::awaitable<std::vector<absl::Status>> JournaledTimerStore::CompleteAll(
    const std::vector<Completion>& batch) {
  std::vector<absl::Status> done = co_await inner().CompleteAll(batch);
  // Every completion that stands goes to the journal in one send: a batch
  // waits for one acknowledgement, not one per timer.
  std::vector<JournalWriter::Entry> entries;
  std::vector<size_t> written;
  for (size_t i = 0; i < batch.size(); ++i) {
    if (!done[i].ok()) continue;
    const ClaimedTimer& claimed = *batch[i].claimed;
    JournalWriter::Entry& entry = entries.emplace_back();
    entry.key = JournalKey(claimed.timer.tenant_id, claimed.timer.timer_id);
    if (batch[i].next) {
      StoredTimer after = claimed.timer;
      after.next = *batch[i].next;
      after.paused_at.reset();
      entry.value = EncodeJournaled(after);
    }
    written.push_back(i);
  }
  const std::string what = absl::StrCat(written.size(), " completed timers");
  const absl::Status journaled = co_await journal_.WriteAll(std::move(entries), what);
  if (!journaled.ok()) {
    for (size_t i : written) done[i] = journaled;
  }
  co_return done;
}

asio::awaitable<absl::StatusOr<size_t>> RebuildTimers(
    TimerStore& timers, TimerStore& publish_points,
    const std::map<std::string, std::string>& journal) {
  size_t armed = 0;
  for (const auto& [key, value] : journal) {
    auto timer = DecodeJournaled(value);
    if (!timer.ok()) {
      log::Error("a journaled timer is skipped", {{"error", timer.status().ToString()}});
      continue;
    }
    const TimerArm arm = {.tenant_id = timer->tenant_id,
                          .timer_id = timer->timer_id,
                          .spec = timer->spec,
                          .next = timer->next};
    TimerStore& store = timer->next.kind == PointKind::kPublish ? publish_points : timers;
    auto stored = co_await store.Arm(arm);
    if (!stored.ok()) co_return stored.status();
    if (timer->paused_at) {
      auto paused = co_await store.Pause(timer->tenant_id, timer->timer_id, *timer->paused_at);
      if (!paused.ok()) co_return paused.status();
    }
    ++armed;
  }
  co_return armed;
}

}  // namespace flywheel::scheduler
