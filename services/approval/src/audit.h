#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "flywheel/approval/v1/resources.pb.h"

namespace flywheel::approval {

/// The bytes an audit entry's hash covers: the deterministic protobuf
/// encoding of `entry` with `entry_sha256` cleared (so `previous_sha256`,
/// the link to the entry before, is covered). Pure; any thread.
std::string CanonicalBytes(const v1::AuditEntry& entry);

/// Lower-case hex SHA-256 of `CanonicalBytes(entry)`.
std::string EntryHash(const v1::AuditEntry& entry);

/// `entry` made the next entry after `last` (null for a request's first):
/// its sequence, `previous_sha256` (`last`'s `entry_sha256`) and
/// `entry_sha256` set; every other field as given. What a store appends,
/// knowing only its trail's last entry. Pure; any thread.
v1::AuditEntry Seal(v1::AuditEntry entry, const v1::AuditEntry* last);

/// A request's append-only trail held in memory: entries are only ever
/// added at the end, sealed. Not thread-safe.
class AuditTrail {
 public:
  AuditTrail() = default;
  /// Seals `entry` after the last one and appends it; returns it as stored.
  const v1::AuditEntry& Append(v1::AuditEntry entry);
  const std::vector<v1::AuditEntry>& entries() const { return entries_; }

 private:
  std::vector<v1::AuditEntry> entries_;
};

/// What `Verify` found.
struct AuditVerdict {
  bool intact = true;
  /// 1-based position in the trail of the first entry that is broken; 0 when
  /// intact.
  size_t position = 0;
  /// Why it is broken, for people: "content does not match its
  /// entry_sha256", "does not follow entry 4", "sequence is 6, expected 5".
  std::string reason;
};

/// Checks a trail as read back, from the first entry: each entry's hash
/// matches its content (a changed entry), links to the entry before it (a
/// removed, inserted or moved entry), and has its position as sequence.
/// Reports the first break. Pure; any thread.
AuditVerdict Verify(std::span<const v1::AuditEntry> entries);

/// The trail as a JSON document, for export: `{"tenant_id", "request_id",
/// "intact", "broken_at", "reason", "entries": [{"sequence", "time"
/// (RFC 3339, UTC), "actor_id", "action", "step_id", "version", "decision",
/// "detail", "previous_sha256", "entry_sha256"}]}`, enum values as
/// lower-case names without prefix (`decision_recorded`, `approve`), the
/// verdict of `Verify` included so a reader needs no second call.
std::string ExportJson(std::span<const v1::AuditEntry> entries);

}  // namespace flywheel::approval
