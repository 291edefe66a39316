#include "timers.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "flywheel/async/when_all.h"
#include "flywheel/core/field_errors.h"
#include "flywheel/core/proto_time.h"
#include "flywheel/core/status.h"
#include "flywheel/events/catalog.h"
#include "flywheel/kafka/published.h"

namespace flywheel::scheduler {
namespace {

// How often a change that lost a race with a claim is tried again.
constexpr int kAttempts = 3;

std::string CodeOf(const absl::Status& status) {
  return status.ok() ? "applied" : absl::AsciiStrToLower(absl::StatusCodeToString(status.code()));
}

absl::Status UnknownTimer(const std::string& tenant_id, const std::string& timer_id) {
  return absl::NotFoundError(
      absl::StrCat("tenant '", tenant_id, "' has no timer '", timer_id, "'"));
}

// The escalation delays of a chain: the `after` of every step past the
// breach itself.
std::vector<absl::Duration> DelaysOf(const EscalationChain& chain) {
  std::vector<absl::Duration> delays;
  for (const EscalationStep& step : chain) {
    if (step.after > absl::ZeroDuration()) delays.push_back(step.after);
  }
  return delays;
}

}  // namespace

Timers::Timers(const PolicyHolder& policy, TimerStore& store, kafka::EventPublisher& publisher,
               std::string sla_topic, SchedulerMetrics& metrics, const Clock& clock,
               std::function<void(absl::Time)> on_armed, PublishHook on_publish)
    : policy_(policy),
      store_(store),
      publisher_(publisher),
      sla_topic_(std::move(sla_topic)),
      metrics_(metrics),
      clock_(clock),
      on_armed_(std::move(on_armed)),
      on_publish_(std::move(on_publish)) {}

void Timers::Armed(absl::Time due) const {
  if (on_armed_) on_armed_(due);
}

std::shared_ptr<const BusinessCalendar> Timers::CalendarOf(const std::string& tenant_id,
                                                           const TimerSpec& spec) const {
  std::shared_ptr<const Policy> policy = policy_.Get();
  if (const TenantSchedule* tenant = policy->FindTenant(tenant_id)) {
    if (const BusinessCalendar* calendar = tenant->FindCalendar(spec.calendar_id)) {
      return std::shared_ptr<const BusinessCalendar>(std::move(policy), calendar);
    }
  }
  static const std::shared_ptr<const BusinessCalendar> always_open =
      std::make_shared<const BusinessCalendar>(BusinessCalendar::AlwaysOpen());
  return always_open;
}

std::optional<absl::Time> Timers::BreachDue(const StoredTimer& timer) const {
  if (timer.next.kind == PointKind::kWarning) {
    return CalendarOf(timer.tenant_id, timer.spec)
        ->AddBusinessTime(timer.next.due, timer.spec.duration - timer.spec.warn_after);
  }
  if (timer.next.escalation_level == 0) return timer.next.due;
  return std::nullopt;
}

std::optional<FirePoint> Timers::After(const StoredTimer& timer) const {
  const std::shared_ptr<const BusinessCalendar> calendar = CalendarOf(timer.tenant_id, timer.spec);
  const FirePoint& at = timer.next;
  if (at.kind == PointKind::kWarning) {
    return FirePoint{
        .kind = PointKind::kBreach,
        .escalation_level = 0,
        .due = calendar->AddBusinessTime(at.due, timer.spec.duration - timer.spec.warn_after)};
  }
  const std::vector<absl::Duration>& delays = timer.spec.escalate_after;
  const size_t level = at.escalation_level;
  if (level >= delays.size() || level >= kMaxEscalationLevel) return std::nullopt;
  const absl::Duration since_last =
      delays[level] - (level == 0 ? absl::ZeroDuration() : delays[level - 1]);
  return FirePoint{.kind = PointKind::kBreach,
                   .escalation_level = static_cast<uint32_t>(level + 1),
                   .due = calendar->AddBusinessTime(at.due, since_last)};
}

v1::Timer Timers::ToProto(const StoredTimer& t) const {
  v1::Timer out;
  out.set_tenant_id(t.tenant_id);
  out.set_timer_id(t.timer_id);
  out.set_request_id(t.spec.request_id);
  out.set_kind(t.spec.kind);
  out.set_stage_id(t.spec.stage_id);
  out.set_calendar_id(t.spec.calendar_id);
  *out.mutable_duration() = ToProtoDuration(t.spec.duration);
  *out.mutable_start_time() = ToProtoTime(t.spec.start_time);
  if (t.paused_at) {
    out.set_state(v1::TIMER_STATE_PAUSED);
    // Business time to the breach: to the next point, plus what lies
    // between a warning and the breach.
    absl::Duration left =
        std::max(absl::ZeroDuration(),
                 CalendarOf(t.tenant_id, t.spec)->BusinessTimeBetween(*t.paused_at, t.next.due));
    if (t.next.kind == PointKind::kWarning) left += t.spec.duration - t.spec.warn_after;
    if (t.next.kind == PointKind::kBreach && t.next.escalation_level > 0) {
      left = absl::ZeroDuration();
    }
    *out.mutable_remaining() = ToProtoDuration(left);
    return out;
  }
  if (t.next.kind == PointKind::kWarning) {
    out.set_state(v1::TIMER_STATE_RUNNING);
    *out.mutable_warn_time() = ToProtoTime(t.next.due);
  } else if (t.next.escalation_level == 0) {
    out.set_state(t.spec.warn_after > absl::ZeroDuration() ? v1::TIMER_STATE_WARNED
                                                           : v1::TIMER_STATE_RUNNING);
  } else {
    out.set_state(v1::TIMER_STATE_BREACHED);
    out.set_escalation_level(t.next.escalation_level - 1);
  }
  if (auto due = BreachDue(t)) *out.mutable_due_time() = ToProtoTime(*due);
  return out;
}

kafka::OutgoingEvent Timers::EventOf(const StoredTimer& t) const {
  kafka::OutgoingEvent event;
  event.topic = sla_topic_;
  event.key = t.spec.request_id;
  event.id = FiredEventId(t.tenant_id, t.timer_id, t.next);
  event.time = t.next.due;
  event.extensions = {{"tenant", t.tenant_id}};
  if (t.next.kind == PointKind::kWarning) {
    v1::SlaWarning warning;
    warning.set_tenant_id(t.tenant_id);
    warning.set_request_id(t.spec.request_id);
    warning.set_timer_id(t.timer_id);
    warning.set_kind(t.spec.kind);
    warning.set_stage_id(t.spec.stage_id);
    if (auto due = BreachDue(t)) *warning.mutable_due_time() = ToProtoTime(*due);
    *warning.mutable_remaining() = ToProtoDuration(t.spec.duration - t.spec.warn_after);
    event.type = events::kSlaWarning;
    event.data = warning.SerializeAsString();
    return event;
  }
  v1::SlaBreached breached;
  breached.set_tenant_id(t.tenant_id);
  breached.set_request_id(t.spec.request_id);
  breached.set_timer_id(t.timer_id);
  breached.set_kind(t.spec.kind);
  breached.set_stage_id(t.spec.stage_id);
  *breached.mutable_due_time() = ToProtoTime(t.next.due);
  breached.set_escalation_level(t.next.escalation_level);
  // The policy's words for this level, when the timer's delays are its chain's.
  const std::shared_ptr<const Policy> policy = policy_.Get();
  if (const TenantSchedule* tenant = policy->FindTenant(t.tenant_id)) {
    if (const EscalationChain* chain = tenant->FindEscalation(t.spec.kind, t.spec.stage_id);
        chain != nullptr && DelaysOf(*chain) == t.spec.escalate_after) {
      // A first step at 0 speaks for the breach itself; the others for
      // escalation levels 1, 2, ...
      const bool has_breach_step = !chain->empty() && chain->front().after == absl::ZeroDuration();
      const size_t level = t.next.escalation_level;
      std::optional<size_t> index;
      if (has_breach_step) {
        index = level;
      } else if (level > 0) {
        index = level - 1;
      }
      if (index && *index < chain->size()) {
        breached.set_action((*chain)[*index].action);
        breached.set_target_role((*chain)[*index].target_role);
      }
    }
  }
  event.type = events::kSlaBreached;
  event.data = breached.SerializeAsString();
  return event;
}

asio::awaitable<absl::StatusOr<StoredTimer>> Timers::Read(const std::string& tenant_id,
                                                          const std::string& timer_id) {
  auto found = co_await store_.Get(tenant_id, timer_id);
  if (!found.ok()) co_return found.status();
  if (!found->has_value()) co_return UnknownTimer(tenant_id, timer_id);
  co_return **std::move(found);
}

asio::awaitable<absl::StatusOr<v1::Timer>> Timers::Start(const v1::TimerRequested& request) {
  FieldErrors errors;
  const std::shared_ptr<const Policy> policy = policy_.Get();
  const TenantSchedule* tenant = policy->CheckTenant(request.tenant_id(), "tenant_id", errors);
  if (request.timer_id().empty()) errors.Add("timer_id", "is required");
  if (request.request_id().empty()) errors.Add("request_id", "is required");
  const absl::Duration duration = FromProtoDuration(request.duration());
  if (duration <= absl::ZeroDuration()) {
    errors.Add("duration", "must be a positive budget of business time");
  }
  if (request.warn_fraction() < 0 || request.warn_fraction() >= 1) {
    errors.Add("warn_fraction", "must be in [0, 1); 0 takes the policy's warning share");
  }
  std::vector<absl::Duration> delays;
  for (int i = 0; i < request.escalate_after_size(); ++i) {
    const absl::Duration d = FromProtoDuration(request.escalate_after(i));
    if (d <= absl::ZeroDuration() || (!delays.empty() && d <= delays.back())) {
      errors.Add(absl::StrCat("escalate_after[", i, "]"),
                 "must be positive and later than the one before");
    }
    delays.push_back(d);
  }
  const BusinessCalendar* calendar =
      tenant == nullptr ? nullptr
                        : tenant->CheckCalendar(request.calendar_id(), "calendar_id", errors);
  if (!errors.empty()) {
    metrics_.CountCommand("start", "invalid_argument");
    co_return errors.ToStatus();
  }

  auto existing = co_await store_.Get(request.tenant_id(), request.timer_id());
  if (!existing.ok()) co_return existing.status();
  if (existing->has_value()) {
    metrics_.CountCommand("start", "unchanged");
    co_return ToProto(**existing);
  }

  const absl::Time now = clock_.Now();
  TimerArm arm;
  arm.tenant_id = request.tenant_id();
  arm.timer_id = request.timer_id();
  arm.spec.request_id = request.request_id();
  arm.spec.kind = request.kind();
  arm.spec.stage_id = request.stage_id();
  arm.spec.calendar_id = request.calendar_id();
  arm.spec.duration = duration;
  const double share = request.warn_fraction() > 0 ? request.warn_fraction() : tenant->warn_share;
  arm.spec.warn_after = duration * share;
  if (delays.empty()) {
    if (const EscalationChain* chain = tenant->FindEscalation(request.kind(), request.stage_id())) {
      delays = DelaysOf(*chain);
    }
  }
  arm.spec.escalate_after = delays;
  arm.spec.start_time = now;
  if (arm.spec.warn_after > absl::ZeroDuration()) {
    arm.next = {.kind = PointKind::kWarning,
                .escalation_level = 0,
                .due = calendar->AddBusinessTime(now, arm.spec.warn_after)};
  } else {
    arm.next = {.kind = PointKind::kBreach,
                .escalation_level = 0,
                .due = calendar->AddBusinessTime(now, duration)};
  }
  auto stored = co_await store_.Arm(arm);
  metrics_.CountCommand("start", CodeOf(stored.status()));
  if (!stored.ok()) co_return stored.status();
  Armed(stored->next.due);
  co_return ToProto(*stored);
}

asio::awaitable<absl::StatusOr<v1::Timer>> Timers::Pause(const std::string& tenant_id,
                                                         const std::string& timer_id) {
  auto paused = co_await store_.Pause(tenant_id, timer_id, clock_.Now());
  metrics_.CountCommand("pause", CodeOf(paused.status()));
  if (!paused.ok()) co_return paused.status();
  co_return ToProto(*paused);
}

asio::awaitable<absl::StatusOr<v1::Timer>> Timers::Resume(const std::string& tenant_id,
                                                          const std::string& timer_id) {
  absl::Status last;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    auto timer = co_await Read(tenant_id, timer_id);
    if (!timer.ok()) {
      last = timer.status();
      break;
    }
    if (!timer->paused_at) {
      last = absl::FailedPreconditionError(absl::StrCat("timer '", timer_id, "' is not paused"));
      break;
    }
    const std::shared_ptr<const BusinessCalendar> calendar = CalendarOf(tenant_id, timer->spec);
    const absl::Duration left = std::max(
        absl::ZeroDuration(), calendar->BusinessTimeBetween(*timer->paused_at, timer->next.due));
    FirePoint next = timer->next;
    next.due = calendar->AddBusinessTime(clock_.Now(), left);
    auto resumed = co_await store_.Resume(tenant_id, timer_id, next, timer->revision);
    if (resumed.ok()) {
      metrics_.CountCommand("resume", "applied");
      Armed(resumed->next.due);
      co_return ToProto(*resumed);
    }
    last = resumed.status();
    if (!absl::IsAborted(last)) break;
  }
  metrics_.CountCommand("resume", CodeOf(last));
  co_return last;
}

asio::awaitable<absl::StatusOr<v1::Timer>> Timers::Extend(const std::string& tenant_id,
                                                          const std::string& timer_id,
                                                          absl::Duration by) {
  if (by <= absl::ZeroDuration()) {
    metrics_.CountCommand("extend", "invalid_argument");
    FieldErrors errors;
    errors.Add("extend_by", "must be a positive amount of business time");
    co_return errors.ToStatus();
  }
  auto timer = co_await Read(tenant_id, timer_id);
  absl::Status refused = timer.status();
  if (timer.ok() && timer->paused_at) {
    refused = absl::FailedPreconditionError(
        absl::StrCat("timer '", timer_id, "' is paused; resume it before extending it"));
  } else if (timer.ok() && timer->next.kind == PointKind::kBreach &&
             timer->next.escalation_level > 0) {
    refused = absl::FailedPreconditionError(
        absl::StrCat("timer '", timer_id, "' has breached; a breach is not taken back"));
  }
  if (!refused.ok()) {
    metrics_.CountCommand("extend", CodeOf(refused));
    co_return refused;
  }
  TimerArm arm{
      .tenant_id = tenant_id, .timer_id = timer_id, .spec = timer->spec, .next = timer->next};
  arm.spec.duration += by;
  arm.next.due = CalendarOf(tenant_id, timer->spec)->AddBusinessTime(timer->next.due, by);
  if (arm.next.kind == PointKind::kWarning) arm.spec.warn_after += by;
  auto stored = co_await store_.Arm(arm);
  metrics_.CountCommand("extend", CodeOf(stored.status()));
  if (!stored.ok()) co_return stored.status();
  Armed(stored->next.due);
  co_return ToProto(*stored);
}

asio::awaitable<absl::StatusOr<bool>> Timers::Cancel(const std::string& tenant_id,
                                                     const std::string& timer_id) {
  auto cancelled = co_await store_.Cancel(tenant_id, timer_id);
  metrics_.CountCommand("cancel", CodeOf(cancelled.status()));
  co_return cancelled;
}

asio::awaitable<absl::StatusOr<v1::Timer>> Timers::Get(const std::string& tenant_id,
                                                       const std::string& timer_id) {
  auto timer = co_await Read(tenant_id, timer_id);
  if (!timer.ok()) co_return timer.status();
  co_return ToProto(*timer);
}

asio::awaitable<absl::StatusOr<v1::GetRemainingResponse>> Timers::Remaining(
    const std::string& tenant_id, const std::string& timer_id) {
  auto timer = co_await Read(tenant_id, timer_id);
  if (!timer.ok()) co_return timer.status();
  const v1::Timer proto = ToProto(*timer);
  v1::GetRemainingResponse out;
  out.set_state(proto.state());
  if (timer->paused_at) {
    *out.mutable_remaining() = proto.remaining();
    *out.mutable_business_remaining() = proto.remaining();
    co_return out;
  }
  const absl::Time now = clock_.Now();
  if (auto due = BreachDue(*timer)) {
    const std::shared_ptr<const BusinessCalendar> calendar = CalendarOf(tenant_id, timer->spec);
    *out.mutable_due_time() = ToProtoTime(*due);
    *out.mutable_remaining() = ToProtoDuration(*due - now);
    *out.mutable_business_remaining() =
        ToProtoDuration(now <= *due ? calendar->BusinessTimeBetween(now, *due)
                                    : -calendar->BusinessTimeBetween(*due, now));
  }
  co_return out;
}

absl::StatusOr<absl::Time> Timers::ComputeDue(const std::string& tenant_id,
                                              const std::string& calendar_id, absl::Time start,
                                              absl::Duration duration) const {
  const std::shared_ptr<const Policy> policy = policy_.Get();
  FieldErrors errors;
  const TenantSchedule* tenant = policy->CheckTenant(tenant_id, "tenant_id", errors);
  const BusinessCalendar* calendar =
      tenant == nullptr ? nullptr : tenant->CheckCalendar(calendar_id, "calendar_id", errors);
  if (duration < absl::ZeroDuration()) errors.Add("business_duration", "must not be negative");
  if (!errors.empty()) return errors.ToStatus();
  return calendar->AddBusinessTime(start, duration);
}

asio::awaitable<absl::Status> Timers::Apply(const v1::TimerRequested& request) {
  absl::Status status;
  switch (request.action()) {
    case v1::TIMER_ACTION_START:
      status = (co_await Start(request)).status();
      break;
    case v1::TIMER_ACTION_PAUSE:
      status = (co_await Pause(request.tenant_id(), request.timer_id())).status();
      break;
    case v1::TIMER_ACTION_RESUME:
      status = (co_await Resume(request.tenant_id(), request.timer_id())).status();
      break;
    case v1::TIMER_ACTION_CANCEL:
      status = (co_await Cancel(request.tenant_id(), request.timer_id())).status();
      break;
    default: {
      metrics_.CountCommand("unspecified", "invalid_argument");
      FieldErrors errors;
      errors.Add("action", "must be START, PAUSE, RESUME or CANCEL");
      co_return errors.ToStatus();
    }
  }
  // A command for a timer that is gone, or already in the state asked for,
  // has nothing left to do.
  if (absl::IsNotFound(status) || absl::IsFailedPrecondition(status)) co_return absl::OkStatus();
  co_return status;
}

asio::awaitable<absl::StatusOr<ClaimedBatch>> Timers::ClaimDue(size_t max, absl::Duration lease) {
  const absl::Time asked = clock_.Now();
  auto claimed = co_await store_.Claim(asked, max, lease);
  if (!claimed.ok()) co_return claimed.status();
  if (!claimed->empty()) metrics_.ObserveClaim(clock_.Now() - asked);
  ClaimedBatch batch;
  batch.claimed = claimed->size();
  if (!claimed->empty()) batch.fire = Fire(*std::move(claimed));
  co_return std::move(batch);
}

asio::awaitable<absl::Status> Timers::Fire(std::vector<ClaimedTimer> claimed) {
  // Publish points ask the publishing calendar, all at once; one that
  // fails stays claimed and fires again when its lease ends.
  std::vector<asio::awaitable<absl::StatusOr<std::optional<kafka::OutgoingEvent>>>> asked;
  for (const ClaimedTimer& c : claimed) {
    if (c.timer.next.kind == PointKind::kPublish && on_publish_) {
      asked.push_back(on_publish_(c.timer));
    }
  }
  std::vector<absl::StatusOr<std::optional<kafka::OutgoingEvent>>> decided =
      co_await async::WhenAll(std::move(asked));
  std::vector<kafka::OutgoingEvent> events;
  events.reserve(claimed.size());
  std::vector<const ClaimedTimer*> settled;
  settled.reserve(claimed.size());
  size_t next_decision = 0;
  for (const ClaimedTimer& c : claimed) {
    if (c.timer.next.kind != PointKind::kPublish) {
      events.push_back(EventOf(c.timer));
    } else if (on_publish_) {
      absl::StatusOr<std::optional<kafka::OutgoingEvent>>& d = decided[next_decision++];
      if (!d.ok()) continue;
      if (d->has_value()) events.push_back(**std::move(d));
    }
    settled.push_back(&c);
  }
  const absl::Time publishing = clock_.Now();
  auto published = co_await kafka::Published(publisher_, std::move(events));
  // Unpublished points stay claimed until their lease ends, then fire again
  // under the same ids.
  if (!published.ok()) co_return published.status();
  const absl::Time sent = clock_.Now();
  metrics_.ObservePublish(sent - publishing);
  std::vector<Completion> completions;
  completions.reserve(settled.size());
  for (const ClaimedTimer* c : settled) {
    const FirePoint& point = c->timer.next;
    metrics_.CountFired(point);
    metrics_.ObserveFireLag(sent - point.due);
    Completion completion;
    completion.claimed = c;
    if (point.kind != PointKind::kPublish) completion.next = After(c->timer);
    completions.push_back(std::move(completion));
  }
  std::vector<absl::Status> completed = co_await store_.CompleteAll(completions);
  metrics_.ObserveCompletion(clock_.Now() - sent);
  for (const absl::Status& one : completed) {
    // ABORTED: the timer changed since the claim (re-armed, paused,
    // cancelled); its new state stands.
    if (!one.ok() && !absl::IsAborted(one)) co_return one;
  }
  for (const auto& d : decided) {
    if (!d.ok()) co_return d.status();
  }
  co_return absl::OkStatus();
}

asio::awaitable<absl::StatusOr<std::optional<absl::Time>>> Timers::NextDue() {
  co_return co_await store_.NextDue();
}

}  // namespace flywheel::scheduler
