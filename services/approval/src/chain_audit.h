#pragma once

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "chain.h"
#include "flywheel/approval/v1/resources.pb.h"

namespace flywheel::approval {

/// The audit entries the facts of one chain operation call for, in order and
/// not yet sealed (give them to `AuditTrail::Append` or `Seal`):
///
/// - a decision: DECISION_RECORDED by whoever gave it, its comment as
///   detail, prefixed `for <approver>: ` when a delegate gave it;
/// - a delegation: DELEGATED by the delegator, `to <delegate> from <time>
///   until <time>`;
/// - an escalation: ESCALATED by `actor`, `to <owners>`;
/// - the chain's end: CHAIN_COMPLETED by `actor`, `approved`, `cancelled`,
///   or `rejected: <reason>`.
///
/// Steps starting and stopping are not audited: they follow from these.
/// The chain's creation, versions and comments are the service's to record
/// (it knows the submitter and the asset). `actor` is who caused the
/// operation (the deciding principal, or a service name for an escalation).
/// Pure; any thread.
std::vector<v1::AuditEntry> AuditEntriesFor(const v1::ApprovalChain& chain, const Facts& facts,
                                            const std::string& actor, absl::Time now);

}  // namespace flywheel::approval
