#include "in_memory_slot_store.h"

#include <algorithm>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "flywheel/core/proto_time.h"

namespace flywheel::scheduler {
namespace {

bool Earlier(const v1::PublishingSlot& a, const v1::PublishingSlot& b) {
  return std::make_tuple(PublishTimeOf(a), a.slot_id()) <
         std::make_tuple(PublishTimeOf(b), b.slot_id());
}

// The slot as stores keep it: time to the millisecond, no holds.
v1::PublishingSlot StoredForm(v1::PublishingSlot slot) {
  *slot.mutable_publish_time() = ToProtoTime(PublishTimeOf(slot));
  slot.clear_holds();
  return slot;
}

}  // namespace

Obstacles InMemorySlotStore::ObstaclesOf(const v1::PublishingSlot& slot,
                                         absl::Duration min_gap) const {
  Obstacles out;
  const absl::Time at = PublishTimeOf(slot);
  const absl::Duration gap = absl::Milliseconds(absl::ToInt64Milliseconds(min_gap));
  for (const auto& [key, other] : slots_) {
    if (key.first != slot.tenant_id() || other.slot_id() == slot.slot_id()) continue;
    if (other.destination() != slot.destination() || !Occupies(other.status())) continue;
    if (absl::AbsDuration(PublishTimeOf(other) - at) < gap) out.too_close.push_back(other);
  }
  std::sort(out.too_close.begin(), out.too_close.end(), Earlier);
  for (const auto& [key, blackout] : blackouts_) {
    if (key.first == slot.tenant_id() && Covers(blackout, at, slot.channel(), slot.destination())) {
      out.blackouts.push_back(blackout);
    }
  }
  return out;
}

std::vector<v1::PublishingSlot> InMemorySlotStore::Sorted(const std::string& tenant_id,
                                                          absl::Time from, absl::Time to) const {
  std::vector<v1::PublishingSlot> out;
  for (const auto& [key, slot] : slots_) {
    const absl::Time at = PublishTimeOf(slot);
    if (key.first == tenant_id && at >= from && at < to) out.push_back(slot);
  }
  std::sort(out.begin(), out.end(), Earlier);
  return out;
}

asio::awaitable<absl::StatusOr<Obstacles>> InMemorySlotStore::Check(const v1::PublishingSlot& slot,
                                                                    absl::Duration min_gap) {
  std::lock_guard lock(mu_);
  if (!fail_with.ok()) co_return fail_with;
  co_return ObstaclesOf(slot, min_gap);
}

asio::awaitable<absl::StatusOr<PutOutcome>> InMemorySlotStore::Put(
    const v1::PublishingSlot& given, int64_t expected_revision,
    std::optional<absl::Duration> check_gap) {
  if (absl::Status checked = CheckSlotIdentity(given); !checked.ok()) co_return checked;
  const v1::PublishingSlot slot = StoredForm(given);
  std::lock_guard lock(mu_);
  if (!fail_with.ok()) co_return fail_with;
  const Key key{slot.tenant_id(), slot.slot_id()};
  auto it = slots_.find(key);
  PutOutcome out;
  if (expected_revision == 0 && it != slots_.end()) {
    out.slot = it->second;
    out.existed = true;
    co_return out;
  }
  if (expected_revision != 0) {
    if (it == slots_.end()) co_return absl::NotFoundError("no slot " + slot.slot_id());
    if (it->second.revision() != expected_revision) {
      co_return absl::AbortedError(
          absl::StrCat(slot.slot_id(), " changed since revision ", expected_revision));
    }
  }
  if (check_gap.has_value()) {
    out.obstacles = ObstaclesOf(slot, *check_gap);
    if (!out.obstacles.empty()) co_return out;
  }
  slots_[key] = slot;
  out.slot = slot;
  co_return out;
}

asio::awaitable<absl::StatusOr<std::optional<v1::PublishingSlot>>> InMemorySlotStore::Get(
    const std::string& tenant_id, const std::string& slot_id) {
  std::lock_guard lock(mu_);
  if (!fail_with.ok()) co_return fail_with;
  auto it = slots_.find({tenant_id, slot_id});
  if (it == slots_.end()) co_return std::nullopt;
  co_return it->second;
}

asio::awaitable<absl::StatusOr<std::vector<v1::PublishingSlot>>> InMemorySlotStore::List(
    const std::string& tenant_id, absl::Time from, absl::Time to, absl::Time after_time,
    const std::string& after_id, size_t limit) {
  std::lock_guard lock(mu_);
  if (!fail_with.ok()) co_return fail_with;
  std::vector<v1::PublishingSlot> out;
  const absl::Time after = ToSlotTime(after_time);
  for (v1::PublishingSlot& slot : Sorted(tenant_id, ToSlotTime(from), ToSlotTime(to))) {
    if (out.size() >= limit) break;
    if (!after_id.empty() &&
        std::make_tuple(PublishTimeOf(slot), slot.slot_id()) <= std::make_tuple(after, after_id)) {
      continue;
    }
    out.push_back(std::move(slot));
  }
  co_return out;
}

asio::awaitable<absl::StatusOr<std::vector<v1::PublishingSlot>>> InMemorySlotStore::OnDestination(
    const std::string& tenant_id, const std::string& destination, absl::Time from, absl::Time to) {
  std::lock_guard lock(mu_);
  if (!fail_with.ok()) co_return fail_with;
  std::vector<v1::PublishingSlot> out;
  for (v1::PublishingSlot& slot : Sorted(tenant_id, ToSlotTime(from), ToSlotTime(to))) {
    if (slot.destination() == destination && Occupies(slot.status())) {
      out.push_back(std::move(slot));
    }
  }
  co_return out;
}

asio::awaitable<absl::StatusOr<std::vector<v1::PublishingSlot>>> InMemorySlotStore::PutBlackout(
    const v1::Blackout& given) {
  if (absl::Status checked = CheckBlackoutIdentity(given); !checked.ok()) co_return checked;
  v1::Blackout blackout = given;
  *blackout.mutable_range()->mutable_start_time() =
      ToProtoTime(ToSlotTime(FromProtoTime(given.range().start_time())));
  *blackout.mutable_range()->mutable_end_time() =
      ToProtoTime(ToSlotTime(FromProtoTime(given.range().end_time())));
  std::lock_guard lock(mu_);
  if (!fail_with.ok()) co_return fail_with;
  blackouts_[{blackout.tenant_id(), blackout.blackout_id()}] = blackout;
  std::vector<v1::PublishingSlot> held;
  for (v1::PublishingSlot& slot :
       Sorted(blackout.tenant_id(), FromProtoTime(blackout.range().start_time()),
              FromProtoTime(blackout.range().end_time()))) {
    if (slot.status() == v1::SLOT_STATUS_RESERVED &&
        Covers(blackout, PublishTimeOf(slot), slot.channel(), slot.destination())) {
      held.push_back(std::move(slot));
    }
  }
  co_return held;
}

asio::awaitable<absl::StatusOr<bool>> InMemorySlotStore::DeleteBlackout(
    const std::string& tenant_id, const std::string& blackout_id) {
  std::lock_guard lock(mu_);
  if (!fail_with.ok()) co_return fail_with;
  co_return blackouts_.erase({tenant_id, blackout_id}) == 1;
}

asio::awaitable<absl::StatusOr<std::vector<v1::Blackout>>> InMemorySlotStore::Blackouts(
    const std::string& tenant_id) {
  std::lock_guard lock(mu_);
  if (!fail_with.ok()) co_return fail_with;
  std::vector<v1::Blackout> out;
  for (const auto& [key, blackout] : blackouts_) {
    if (key.first == tenant_id) out.push_back(blackout);
  }
  std::sort(out.begin(), out.end(), [](const v1::Blackout& a, const v1::Blackout& b) {
    return std::make_tuple(FromProtoTime(a.range().start_time()), a.blackout_id()) <
           std::make_tuple(FromProtoTime(b.range().start_time()), b.blackout_id());
  });
  co_return out;
}

asio::awaitable<absl::Status> InMemorySlotStore::SetApproved(const std::string& tenant_id,
                                                             const std::string& request_id,
                                                             std::optional<uint32_t> version) {
  std::lock_guard lock(mu_);
  if (!fail_with.ok()) co_return fail_with;
  if (version) {
    approved_[{tenant_id, request_id}] = *version;
  } else {
    approved_.erase({tenant_id, request_id});
  }
  co_return absl::OkStatus();
}

asio::awaitable<absl::StatusOr<std::optional<uint32_t>>> InMemorySlotStore::ApprovedVersion(
    const std::string& tenant_id, const std::string& request_id) {
  std::lock_guard lock(mu_);
  if (!fail_with.ok()) co_return fail_with;
  auto it = approved_.find({tenant_id, request_id});
  if (it == approved_.end()) co_return std::nullopt;
  co_return it->second;
}

}  // namespace flywheel::scheduler
