#include "flywheel/outbox/testing/in_memory_outbox.h"

#include <algorithm>

#include "absl/time/clock.h"

namespace flywheel::outbox::testing {

void InMemoryOutbox::Store(const std::string& tag, std::vector<kafka::OutgoingEvent>& events) {
  std::lock_guard lock(mu_);
  for (kafka::OutgoingEvent& event : events) {
    if (event.id.empty()) event.id = "evt_fake_" + std::to_string(++next_id_);
    if (!event.time) event.time = absl::Now();
    // Kept to the microsecond, as RedisOutbox keeps it (and ce_time carries it).
    event.time = absl::FromUnixMicros(absl::ToUnixMicros(*event.time));
    auto& list = stored_[tag];
    const bool known =
        std::any_of(list.begin(), list.end(), [&](const auto& e) { return e.id == event.id; });
    if (!known) list.push_back(event);
  }
}

bool InMemoryOutbox::Busy(const std::string& tag, const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = stored_.find(tag);
  if (it == stored_.end()) return false;
  return std::any_of(it->second.begin(), it->second.end(),
                     [&](const auto& e) { return e.key == key; });
}

std::vector<kafka::OutgoingEvent> InMemoryOutbox::Stored(const std::string& tag) const {
  std::lock_guard lock(mu_);
  auto it = stored_.find(tag);
  return it == stored_.end() ? std::vector<kafka::OutgoingEvent>() : it->second;
}

absl::Status InMemoryOutbox::Publish(const std::string& tag,
                                     const std::vector<kafka::OutgoingEvent>& events) {
  if (events.empty()) return absl::OkStatus();
  if (auto published = publisher_.PublishAll(events); !published.ok()) {
    return absl::UnavailableError("the events could not be published yet: " +
                                  published.status().ToString());
  }
  Remove(tag, events);
  return absl::OkStatus();
}

absl::Status InMemoryOutbox::Drain(const std::string& tag) {
  const std::vector<kafka::OutgoingEvent> events = Stored(tag);
  if (events.empty()) return absl::OkStatus();
  if (auto published = publisher_.PublishAll(events); !published.ok()) {
    return absl::UnavailableError("the outbox could not publish: " + published.status().ToString());
  }
  Remove(tag, events);
  return absl::OkStatus();
}

void InMemoryOutbox::Remove(const std::string& tag,
                            const std::vector<kafka::OutgoingEvent>& events) {
  std::lock_guard lock(mu_);
  auto& list = stored_[tag];
  for (const kafka::OutgoingEvent& event : events) {
    std::erase_if(list, [&](const auto& e) { return e.id == event.id; });
  }
}

}  // namespace flywheel::outbox::testing
