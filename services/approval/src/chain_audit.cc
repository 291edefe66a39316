#include "chain_audit.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "flywheel/core/proto_enums.h"
#include "flywheel/core/proto_time.h"

namespace flywheel::approval {
namespace {

std::string Format(absl::Time t) { return absl::FormatTime(t, absl::UTCTimeZone()); }

// One entry of `chain`'s trail at `now`; what the fact adds is set by the
// caller.
v1::AuditEntry EntryOf(const v1::ApprovalChain& chain, const std::string& actor,
                       v1::AuditAction action, absl::Time now) {
  v1::AuditEntry e;
  e.set_tenant_id(chain.tenant_id());
  e.set_request_id(chain.request_id());
  *e.mutable_time() = ToProtoTime(now);
  e.set_actor_id(actor);
  e.set_action(action);
  e.set_version(chain.current_version());
  return e;
}

}  // namespace

std::vector<v1::AuditEntry> AuditEntriesFor(const v1::ApprovalChain& chain, const Facts& facts,
                                            const std::string& actor, absl::Time now) {
  std::vector<v1::AuditEntry> out;
  for (const Fact& fact : facts) {
    if (const auto* d = std::get_if<StepDecided>(&fact)) {
      const std::string& by = d->decided_by.empty() ? d->approver_id : d->decided_by;
      v1::AuditEntry& e =
          out.emplace_back(EntryOf(chain, by, v1::AUDIT_ACTION_DECISION_RECORDED, now));
      e.set_step_id(d->step_id);
      e.set_version(d->version);
      e.set_decision(d->decision);
      e.set_detail(d->decided_by.empty() ? d->comment
                                         : absl::StrCat("for ", d->approver_id, ": ", d->comment));
    } else if (const auto* g = std::get_if<Delegated>(&fact)) {
      out.push_back(EntryOf(chain, g->delegator_id, v1::AUDIT_ACTION_DELEGATED, now));
      out.back().set_detail(absl::StrCat("to ", g->delegate_id, " from ", Format(g->valid_from),
                                         " until ", Format(g->valid_until)));
    } else if (const auto* x = std::get_if<Escalated>(&fact)) {
      out.push_back(EntryOf(chain, actor, v1::AUDIT_ACTION_ESCALATED, now));
      out.back().set_step_id(x->step_id);
      out.back().set_detail(absl::StrCat("to ", absl::StrJoin(x->owner_ids, ", ")));
    } else if (const auto* c = std::get_if<ChainCompleted>(&fact)) {
      out.push_back(EntryOf(chain, actor, v1::AUDIT_ACTION_CHAIN_COMPLETED, now));
      out.back().set_step_id(c->step_id);
      out.back().set_version(c->version);
      std::string outcome = ShortEnumName(c->status);
      if (c->status == v1::CHAIN_STATUS_REJECTED) absl::StrAppend(&outcome, ": ", c->reason);
      if (c->auto_approved) absl::StrAppend(&outcome, " automatically: the policy has no steps");
      out.back().set_detail(outcome);
    }
  }
  return out;
}

}  // namespace flywheel::approval
