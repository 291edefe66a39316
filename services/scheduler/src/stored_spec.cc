#include "stored_spec.h"

namespace flywheel::scheduler {

stored::StoredSpec PackSpec(const TimerArm& arm) {
  const TimerSpec& spec = arm.spec;
  stored::StoredSpec packed;
  const bool request_is_prefix = !spec.request_id.empty() &&
                                 spec.request_id.find('/') == std::string::npos &&
                                 arm.timer_id.starts_with(spec.request_id + "/");
  if (!request_is_prefix) packed.set_request_id(spec.request_id);
  packed.set_kind(spec.kind);
  packed.set_stage_id(spec.stage_id);
  packed.set_calendar_id(spec.calendar_id);
  packed.set_duration_ms(absl::ToInt64Milliseconds(spec.duration));
  packed.set_warn_after_ms(absl::ToInt64Milliseconds(spec.warn_after));
  for (absl::Duration after : spec.escalate_after) {
    packed.add_escalate_after_ms(absl::ToInt64Milliseconds(after));
  }
  packed.set_start_ms(absl::ToUnixMillis(spec.start_time));
  return packed;
}

TimerSpec UnpackSpec(const stored::StoredSpec& packed, const std::string& timer_id) {
  TimerSpec spec;
  spec.request_id =
      packed.has_request_id() ? packed.request_id() : timer_id.substr(0, timer_id.find('/'));
  spec.kind = static_cast<common::v1::TimerKind>(packed.kind());
  spec.stage_id = packed.stage_id();
  spec.calendar_id = packed.calendar_id();
  spec.duration = absl::Milliseconds(packed.duration_ms());
  spec.warn_after = absl::Milliseconds(packed.warn_after_ms());
  for (int64_t after : packed.escalate_after_ms()) {
    spec.escalate_after.push_back(absl::Milliseconds(after));
  }
  spec.start_time = absl::FromUnixMillis(packed.start_ms());
  return spec;
}

}  // namespace flywheel::scheduler
