#include "approval_store.h"

#include "absl/strings/str_cat.h"

namespace flywheel::approval {
namespace {

// INVALID_ARGUMENT unless `what` names this write's tenant and request.
absl::Status SameRequest(const ApprovalWrite& write, const std::string& what,
                         const std::string& tenant_id, const std::string& request_id) {
  if (tenant_id == write.tenant_id && request_id == write.request_id) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(what, " belongs to ", tenant_id, "/", request_id,
                                                 ", not to ", write.tenant_id, "/",
                                                 write.request_id));
}

}  // namespace

std::string InboxMember(const InboxEntry& entry) {
  return absl::StrCat(entry.request_id, "/", entry.step_id);
}

absl::Status CheckWrite(const ApprovalWrite& write) {
  if (write.tenant_id.empty()) return absl::InvalidArgumentError("the write has no tenant");
  if (write.request_id.empty()) return absl::InvalidArgumentError("the write has no request");
  if (write.request_id.find('/') != std::string::npos) {
    return absl::InvalidArgumentError("request id " + write.request_id + " has a '/'");
  }
  if (write.expected_revision < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected revision ", write.expected_revision, " is negative"));
  }
  absl::Status status =
      SameRequest(write, "the chain", write.chain.tenant_id(), write.chain.request_id());
  if (!status.ok()) return status;
  for (size_t i = 0; i < write.audit.size(); ++i) {
    const v1::AuditEntry& entry = write.audit[i];
    const std::string what = absl::StrCat("audit entry ", entry.sequence());
    status = SameRequest(write, what, entry.tenant_id(), entry.request_id());
    if (!status.ok()) return status;
    if (entry.sequence() == 0) return absl::InvalidArgumentError("an audit entry has sequence 0");
    if (i > 0 && entry.sequence() != write.audit[i - 1].sequence() + 1) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, " does not follow ", write.audit[i - 1].sequence()));
    }
  }
  if (write.version.has_value()) {
    const std::string what = absl::StrCat("version ", write.version->version());
    status = SameRequest(write, what, write.version->tenant_id(), write.version->request_id());
    if (!status.ok()) return status;
    if (write.version->version() == 0) return absl::InvalidArgumentError("version 0 is no version");
  }
  for (const v1::Comment& comment : write.comments) {
    if (comment.comment_id().empty()) return absl::InvalidArgumentError("a comment has no id");
    status = SameRequest(write, "comment " + comment.comment_id(), comment.tenant_id(),
                         comment.request_id());
    if (!status.ok()) return status;
  }
  for (const auto* lines : {&write.inbox_add, &write.inbox_remove}) {
    for (const InboxEntry& line : *lines) {
      if (line.approver_id.empty() || line.step_id.empty()) {
        return absl::InvalidArgumentError("inbox line " + InboxMember(line) +
                                          " has no approver or step");
      }
      status =
          SameRequest(write, "inbox line " + InboxMember(line), write.tenant_id, line.request_id);
      if (!status.ok()) return status;
    }
  }
  return absl::OkStatus();
}

}  // namespace flywheel::approval
