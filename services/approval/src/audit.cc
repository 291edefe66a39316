#include "audit.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <openssl/evp.h>

#include <nlohmann/json.hpp>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "flywheel/core/proto_enums.h"
#include "flywheel/core/proto_time.h"

namespace flywheel::approval {
namespace {

std::string Sha256Hex(const std::string& bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &len, EVP_sha256(), nullptr);
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(digest), len));
}

}  // namespace

std::string CanonicalBytes(const v1::AuditEntry& entry) {
  v1::AuditEntry copy = entry;
  copy.clear_entry_sha256();
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    copy.SerializeToCodedStream(&coded);
  }
  return out;
}

std::string EntryHash(const v1::AuditEntry& entry) { return Sha256Hex(CanonicalBytes(entry)); }

v1::AuditEntry Seal(v1::AuditEntry entry, const v1::AuditEntry* last) {
  entry.set_sequence(last == nullptr ? 1 : last->sequence() + 1);
  entry.set_previous_sha256(last == nullptr ? "" : last->entry_sha256());
  entry.set_entry_sha256(EntryHash(entry));
  return entry;
}

const v1::AuditEntry& AuditTrail::Append(v1::AuditEntry entry) {
  entries_.push_back(Seal(std::move(entry), entries_.empty() ? nullptr : &entries_.back()));
  return entries_.back();
}

AuditVerdict Verify(std::span<const v1::AuditEntry> entries) {
  for (size_t i = 0; i < entries.size(); ++i) {
    const v1::AuditEntry& e = entries[i];
    const size_t position = i + 1;
    auto broken = [&](std::string reason) { return AuditVerdict{false, position, reason}; };
    if (EntryHash(e) != e.entry_sha256()) {
      return broken("content does not match its entry_sha256: it was changed after it was written");
    }
    const std::string& expected = i == 0 ? std::string() : entries[i - 1].entry_sha256();
    if (e.previous_sha256() != expected) {
      return broken(i == 0 ? std::string("the first entry links to an earlier one: entries are "
                                         "missing before it")
                           : absl::StrCat("does not follow entry ", i,
                                          ": an entry was removed, inserted or moved here"));
    }
    if (e.sequence() != position) {
      return broken(absl::StrCat("sequence is ", e.sequence(), ", expected ", position));
    }
  }
  return AuditVerdict{};
}

std::string ExportJson(std::span<const v1::AuditEntry> entries) {
  const AuditVerdict verdict = Verify(entries);
  nlohmann::json doc = {
      {"tenant_id", entries.empty() ? "" : entries.front().tenant_id()},
      {"request_id", entries.empty() ? "" : entries.front().request_id()},
      {"intact", verdict.intact},
      {"broken_at", verdict.position},
      {"reason", verdict.reason},
      {"entries", nlohmann::json::array()},
  };
  for (const v1::AuditEntry& e : entries) {
    doc["entries"].push_back({
        {"sequence", e.sequence()},
        {"time",
         absl::FormatTime(absl::RFC3339_full, FromProtoTime(e.time()), absl::UTCTimeZone())},
        {"actor_id", e.actor_id()},
        {"action", ShortEnumName(e.action())},
        {"step_id", e.step_id()},
        {"version", e.version()},
        {"decision", e.decision() == v1::DECISION_UNSPECIFIED ? "" : ShortEnumName(e.decision())},
        {"detail", e.detail()},
        {"previous_sha256", e.previous_sha256()},
        {"entry_sha256", e.entry_sha256()},
    });
  }
  // Proto strings are UTF-8 when they came through a parser; an entry built in
  // memory with other bytes is exported with replacement characters, never an
  // exception.
  return doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace flywheel::approval
