#include "in_memory_request_store.h"

namespace flywheel::intake {

absl::StatusOr<RequestStore::CreateResult> InMemoryRequestStore::CreateNow(
    const v1::Request& request, const std::string& spec_fingerprint,
    std::vector<kafka::OutgoingEvent>& events, absl::Duration) {
  std::lock_guard lock(mu_);
  if (!fail_with.ok()) return fail_with;
  const std::string key = request.tenant_id() + "/" + request.idempotency_key();
  if (auto it = keys_.find(key); it != keys_.end()) {
    return CreateResult{it->second.fingerprint == spec_fingerprint ? CreateOutcome::kReplayed
                                                                   : CreateOutcome::kConflict,
                        it->second.request_id};
  }
  keys_[key] = {request.request_id(), spec_fingerprint};
  requests_[request.tenant_id() + "/" + request.request_id()] = request;
  index_[request.tenant_id()][IndexMember(request)] = request.request_id();
  outbox_.Store(request.tenant_id(), events);
  return CreateResult{CreateOutcome::kCreated, request.request_id()};
}

absl::StatusOr<std::optional<RequestStore::KeyUse>> InMemoryRequestStore::FindKeyNow(
    const std::string& tenant_id, const std::string& idempotency_key) {
  std::lock_guard lock(mu_);
  if (!fail_with.ok()) return fail_with;
  auto it = keys_.find(tenant_id + "/" + idempotency_key);
  if (it == keys_.end()) return std::nullopt;
  return KeyUse{.request_id = it->second.request_id, .spec_fingerprint = it->second.fingerprint};
}

absl::StatusOr<std::optional<v1::Request>> InMemoryRequestStore::GetNow(
    const std::string& tenant_id, const std::string& request_id) {
  std::lock_guard lock(mu_);
  if (!fail_with.ok()) return fail_with;
  auto it = requests_.find(tenant_id + "/" + request_id);
  if (it == requests_.end()) return std::nullopt;
  return it->second;
}

absl::StatusOr<RequestStore::ReplaceOutcome> InMemoryRequestStore::ReplaceNow(
    const v1::Request& updated, int64_t expected_revision,
    std::vector<kafka::OutgoingEvent>& events) {
  std::lock_guard lock(mu_);
  if (!fail_with.ok()) return fail_with;
  auto it = requests_.find(updated.tenant_id() + "/" + updated.request_id());
  if (it == requests_.end()) return ReplaceOutcome::kNotFound;
  if (it->second.revision() != expected_revision) return ReplaceOutcome::kStale;
  if (!events.empty() && outbox_.Busy(updated.tenant_id(), updated.request_id())) {
    return ReplaceOutcome::kOutboxPending;
  }
  it->second = updated;
  outbox_.Store(updated.tenant_id(), events);
  return ReplaceOutcome::kReplaced;
}

absl::StatusOr<std::vector<v1::Request>> InMemoryRequestStore::ScanNow(const std::string& tenant_id,
                                                                       const std::string& after,
                                                                       size_t limit) {
  std::lock_guard lock(mu_);
  if (!fail_with.ok()) return fail_with;
  std::vector<v1::Request> out;
  auto index = index_.find(tenant_id);
  if (index == index_.end()) return out;
  const auto& members = index->second;
  auto it = after.empty() ? members.end() : members.lower_bound(after);
  while (it != members.begin() && out.size() < limit) {
    --it;
    out.push_back(requests_.at(tenant_id + "/" + it->second));
  }
  return out;
}

size_t InMemoryRequestStore::size() const {
  std::lock_guard lock(mu_);
  return requests_.size();
}

}  // namespace flywheel::intake
