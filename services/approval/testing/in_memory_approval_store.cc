#include "in_memory_approval_store.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace flywheel::approval {

const InMemoryApprovalStore::Stored* InMemoryApprovalStore::Find(
    const std::string& tenant_id, const std::string& request_id) const {
  auto it = records_.find({tenant_id, request_id});
  return it == records_.end() ? nullptr : &it->second;
}

absl::StatusOr<std::optional<ApprovalRecord>> InMemoryApprovalStore::ReadNow(
    const std::string& tenant_id, const std::string& request_id) {
  std::lock_guard lock(mu_);
  if (!fail_with.ok()) return fail_with;
  const Stored* stored = Find(tenant_id, request_id);
  if (stored == nullptr) return std::nullopt;
  ApprovalRecord record{
      .chain = stored->chain,
      .revision = stored->revision,
      .audit_count = stored->audit.size(),
      .unresolved_comments = stored->unresolved,
      .latest_version = stored->versions.empty() ? 0 : stored->versions.rbegin()->first};
  if (!stored->audit.empty()) record.last_audit = stored->audit.back();
  return record;
}

absl::StatusOr<ApprovalStore::WriteOutcome> InMemoryApprovalStore::WriteNow(ApprovalWrite& write) {
  if (absl::Status checked = CheckWrite(write); !checked.ok()) return checked;
  write.chain.set_revision(write.expected_revision + 1);
  std::lock_guard lock(mu_);
  if (!fail_with.ok()) return fail_with;

  // Every check before the first change, as the Redis store's script.
  const Key key{write.tenant_id, write.request_id};
  auto it = records_.find(key);
  const int64_t revision = it == records_.end() ? 0 : it->second.revision;
  if (revision != write.expected_revision) return WriteOutcome::kStale;
  const size_t audit_count = it == records_.end() ? 0 : it->second.audit.size();
  if (!write.audit.empty() && write.audit.front().sequence() != audit_count + 1) {
    return WriteOutcome::kStale;
  }
  const uint32_t latest =
      it == records_.end() || it->second.versions.empty() ? 0 : it->second.versions.rbegin()->first;
  if (write.version.has_value() && write.version->version() != latest + 1) {
    return absl::FailedPreconditionError(absl::StrCat("version ", write.version->version(),
                                                      " does not follow the latest, ", latest));
  }
  if (!write.events.empty() && outbox_.Busy(write.tenant_id, write.request_id)) {
    return WriteOutcome::kOutboxPending;
  }

  Stored& stored = records_[key];
  stored.chain = write.chain;
  stored.revision = write.expected_revision + 1;
  stored.audit.insert(stored.audit.end(), write.audit.begin(), write.audit.end());
  if (write.version.has_value()) stored.versions[write.version->version()] = *write.version;
  for (const v1::Comment& comment : write.comments) {
    auto [old, added] = stored.comments.try_emplace(comment.comment_id(), comment);
    if (added) {
      stored.comment_order.push_back(comment.comment_id());
      if (!comment.resolved()) ++stored.unresolved;
      continue;
    }
    if (!old->second.resolved() && comment.resolved()) --stored.unresolved;
    if (old->second.resolved() && !comment.resolved()) ++stored.unresolved;
    old->second = comment;
  }
  for (const InboxEntry& line : write.inbox_add) {
    Lines& lines = inboxes_[{write.tenant_id, line.approver_id}];
    const std::string member = InboxMember(line);
    if (auto was = lines.due.find(member); was != lines.due.end()) {
      lines.ordered.erase({was->second, member});
    }
    lines.due[member] = line.due_ms;
    lines.ordered.insert({line.due_ms, member});
  }
  for (const InboxEntry& line : write.inbox_remove) {
    auto lines = inboxes_.find({write.tenant_id, line.approver_id});
    if (lines == inboxes_.end()) continue;
    const std::string member = InboxMember(line);
    if (auto was = lines->second.due.find(member); was != lines->second.due.end()) {
      lines->second.ordered.erase({was->second, member});
      lines->second.due.erase(was);
    }
  }
  outbox_.Store(write.tenant_id, write.events);
  return WriteOutcome::kWritten;
}

absl::StatusOr<std::vector<v1::AuditEntry>> InMemoryApprovalStore::ListAuditNow(
    const std::string& tenant_id, const std::string& request_id, uint64_t after_sequence,
    size_t limit) {
  std::lock_guard lock(mu_);
  if (!fail_with.ok()) return fail_with;
  std::vector<v1::AuditEntry> out;
  const Stored* stored = Find(tenant_id, request_id);
  if (stored == nullptr || after_sequence >= stored->audit.size()) return out;
  const size_t end = std::min<size_t>(stored->audit.size(), after_sequence + limit);
  out.assign(stored->audit.begin() + static_cast<std::ptrdiff_t>(after_sequence),
             stored->audit.begin() + static_cast<std::ptrdiff_t>(end));
  return out;
}

absl::StatusOr<std::vector<v1::AssetVersion>> InMemoryApprovalStore::ListVersionsNow(
    const std::string& tenant_id, const std::string& request_id, uint32_t before, size_t limit) {
  std::lock_guard lock(mu_);
  if (!fail_with.ok()) return fail_with;
  std::vector<v1::AssetVersion> out;
  const Stored* stored = Find(tenant_id, request_id);
  if (stored == nullptr) return out;
  auto it = before == 0 ? stored->versions.end() : stored->versions.lower_bound(before);
  while (it != stored->versions.begin() && out.size() < limit) {
    --it;
    out.push_back(it->second);
  }
  return out;
}

absl::StatusOr<std::vector<v1::Comment>> InMemoryApprovalStore::ListCommentsNow(
    const std::string& tenant_id, const std::string& request_id,
    const std::string& after_comment_id, size_t limit) {
  std::lock_guard lock(mu_);
  if (!fail_with.ok()) return fail_with;
  std::vector<v1::Comment> out;
  const Stored* stored = Find(tenant_id, request_id);
  if (stored == nullptr) return out;
  const auto& order = stored->comment_order;
  auto it = order.begin();
  if (!after_comment_id.empty()) {
    it = std::find(order.begin(), order.end(), after_comment_id);
    if (it == order.end()) return out;
    ++it;
  }
  for (; it != order.end() && out.size() < limit; ++it) out.push_back(stored->comments.at(*it));
  return out;
}

absl::StatusOr<std::optional<v1::Comment>> InMemoryApprovalStore::GetCommentNow(
    const std::string& tenant_id, const std::string& request_id, const std::string& comment_id) {
  std::lock_guard lock(mu_);
  if (!fail_with.ok()) return fail_with;
  const Stored* stored = Find(tenant_id, request_id);
  if (stored == nullptr) return std::nullopt;
  auto it = stored->comments.find(comment_id);
  if (it == stored->comments.end()) return std::nullopt;
  return it->second;
}

absl::StatusOr<std::vector<InboxEntry>> InMemoryApprovalStore::InboxNow(
    const std::string& tenant_id, const std::string& approver_id, int64_t after_due_ms,
    const std::string& after_member, size_t limit) {
  std::lock_guard lock(mu_);
  if (!fail_with.ok()) return fail_with;
  std::vector<InboxEntry> out;
  auto lines = inboxes_.find({tenant_id, approver_id});
  if (lines == inboxes_.end()) return out;
  const auto& ordered = lines->second.ordered;
  auto it =
      after_member.empty() ? ordered.begin() : ordered.upper_bound({after_due_ms, after_member});
  for (; it != ordered.end() && out.size() < limit; ++it) {
    const size_t slash = it->second.find('/');
    out.push_back(InboxEntry{.approver_id = approver_id,
                             .request_id = it->second.substr(0, slash),
                             .step_id = it->second.substr(slash + 1),
                             .due_ms = it->first});
  }
  return out;
}

absl::StatusOr<int64_t> InMemoryApprovalStore::InboxSizeNow(const std::string& tenant_id,
                                                            const std::string& approver_id) {
  std::lock_guard lock(mu_);
  if (!fail_with.ok()) return fail_with;
  auto lines = inboxes_.find({tenant_id, approver_id});
  return lines == inboxes_.end() ? 0 : static_cast<int64_t>(lines->second.ordered.size());
}

}  // namespace flywheel::approval
