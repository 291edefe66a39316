#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "flywheel/config/config.h"

namespace google::protobuf {
class EnumDescriptor;
// Declared as protobuf declares it; every generated enum specialises it.
template <typename E>
const EnumDescriptor* GetEnumDescriptor();
}  // namespace google::protobuf

namespace flywheel::config {

/// A key that a policy file no longer takes, with why and what to do
/// instead: `{"workflow_template", "is chosen in routing's policy now"}`.
struct RetiredKey {
  std::string_view key;
  std::string_view why;
};

class PolicyNode;
namespace internal {
// The non-template part of ReadPolicy (below).
absl::Status RunPolicyRead(std::string_view yaml, std::string_view file,
                           absl::FunctionRef<void(const PolicyNode&)> read);
}  // namespace internal

/// One value of a policy document being read, with its path from the top
/// (`request_types[2].fields[0].key`) and its line. A node may be absent (the
/// key is not there, or is YAML null): reads of an absent node return nullopt
/// or empty and record nothing, so optional keys need no test first.
///
/// Reads never throw and never stop: a value that is set but wrong records a
/// problem, `FILE:LINE: path: what is wrong, got "value"`, and returns
/// nullopt, so one pass reports every problem of a file. A node below a value
/// of the wrong shape (a child of a list where a mapping was expected) is
/// silent: the shape is reported once, not every key under it.
///
/// Cheap to copy (a shared handle). Used inside the function given to
/// `ReadPolicy`/`LoadPolicy` (below); problems recorded after it returned are
/// lost. One thread.
class PolicyNode {
 public:
  /// Present and not null.
  bool IsSet() const;
  explicit operator bool() const { return IsSet(); }
  /// The path from the top of the document; "" for the document itself.
  const std::string& path() const;
  /// 1-based; an absent node has its parent's line.
  int line() const;

  // ---- Mappings and lists -------------------------------------------------

  /// Checks that this is a mapping whose keys are all in `known`: each other
  /// key is a problem at its own line, `unknown key; did you mean 'kind'?`
  /// when one of `known` is close, else `unknown key; expected one of ...`.
  /// A `retired` key that is present gets its own `why` instead. A key given
  /// twice is a problem too. Returns whether this is a mapping (false, and
  /// nothing recorded, when absent).
  bool Keys(std::initializer_list<std::string_view> known,
            std::initializer_list<RetiredKey> retired = {}) const;
  /// The value at `key` of this mapping; absent when not there.
  PolicyNode operator[](std::string_view key) const;
  /// As `operator[]`, and records `is required` (+ `: why`) when absent.
  PolicyNode Required(std::string_view key, std::string_view why = {}) const;
  /// The items of a list, each with `path[i]`; empty when absent. Anything
  /// but a list is a problem (`must be a list`).
  std::vector<PolicyNode> List() const;
  /// As `List`, and an empty list is a problem (`must be a non-empty list`).
  std::vector<PolicyNode> NonEmptyList() const;
  /// Key and value of each entry of a mapping whose keys are the file's own
  /// (team names, template ids), in file order. Both nodes have the path
  /// `path.key`; the key node has the key's line and reads as a string (or an
  /// enum: `sla_by_priority: {P1: expedited}`).
  std::vector<std::pair<PolicyNode, PolicyNode>> Entries() const;

  // ---- Typed reads: nullopt when absent or wrong -------------------------
  // `rules` are config's checks (config.h): InRange(1, 1000), Positive(),
  // OneOf({...}), NonEmpty(), or any callable returning "" or why not.

  /// A non-empty scalar.
  template <typename... Rules>
  std::optional<std::string> String(const Rules&... rules) const {
    return ReadString({Rule<std::string>(rules)...});
  }
  /// A whole number.
  template <typename... Rules>
  std::optional<int64_t> Int(const Rules&... rules) const {
    return ReadInt({Rule<int64_t>(rules)...});
  }
  /// true/false, yes/no, on/off, 1/0, in any case: the same dialect as
  /// `Config`.
  std::optional<bool> Bool() const;
  /// A duration that is not negative: `250ms`, `90s`, `15m`, `2h`, `3d`, and
  /// sums of them (`1h30m`, `1d12h`).
  template <typename... Rules>
  std::optional<absl::Duration> Duration(const Rules&... rules) const {
    return ReadDuration({Rule<absl::Duration>(rules)...});
  }
  /// A list of non-empty strings, each checked by `rules` at its own path;
  /// the good ones.
  template <typename... Rules>
  std::vector<std::string> Strings(const Rules&... rules) const {
    return ReadStrings({Rule<std::string>(rules)...});
  }
  /// A value of protobuf enum `E` by name, with or without the enum's prefix,
  /// in any case: for `flywheel.common.v1.SlaClass`, `rapid_response`,
  /// `RAPID_RESPONSE` and `SLA_CLASS_RAPID_RESPONSE` all read
  /// SLA_CLASS_RAPID_RESPONSE. The zero (`_UNSPECIFIED`) value is refused.
  /// A wrong name: `unknown sla class "slow"; expected rapid_response, ...`.
  template <typename E>
  std::optional<E> Enum() const {
    std::optional<int> number = EnumNumber(*google::protobuf::GetEnumDescriptor<E>());
    if (!number) return std::nullopt;
    return static_cast<E>(*number);
  }
  /// As `Enum`, by descriptor: the value's number.
  std::optional<int> EnumNumber(const google::protobuf::EnumDescriptor& type) const;

  /// Records `FILE:LINE: path: what` for a check of the caller's own
  /// (`unknown team "video"`, `duplicate tenant "acme"`).
  void Problem(std::string_view what) const;

 private:
  friend absl::Status internal::RunPolicyRead(std::string_view, std::string_view,
                                              absl::FunctionRef<void(const PolicyNode&)>);
  struct Impl;
  explicit PolicyNode(std::shared_ptr<const Impl> impl);

  std::optional<std::string> ReadString(const std::vector<Rule<std::string>>& rules) const;
  std::optional<int64_t> ReadInt(const std::vector<Rule<int64_t>>& rules) const;
  std::optional<absl::Duration> ReadDuration(const std::vector<Rule<absl::Duration>>& rules) const;
  std::vector<std::string> ReadStrings(const std::vector<Rule<std::string>>& rules) const;
  // The scalar text when set and a scalar; records `reason` when set but not.
  std::optional<std::string> Scalar(std::string_view reason) const;
  PolicyNode Child(std::string_view key) const;

  std::shared_ptr<const Impl> impl_;
};

namespace internal {
absl::StatusOr<std::string> ReadPolicyFile(const std::string& path);
}  // namespace internal

/// Reads one reviewable YAML policy document with a function of the caller's
/// that walks it from the top and returns what it built:
///
///   absl::StatusOr<Policy> ParsePolicy(const std::string& yaml) {
///     return config::ReadPolicy(yaml, "<inline>", [](const config::PolicyNode& root) {
///       Policy p;
///       root.Keys({"tenants", "limit"});
///       p.tenants = root.Required("tenants").Strings();
///       p.limit = root["limit"].Int(config::InRange(1, 100)).value_or(10);
///       return p;
///     });
///   }
///
/// Returns what `read` returned when it recorded no problem. Otherwise
/// INVALID_ARGUMENT, also for text that is not YAML, whose message is
/// `invalid policy, N problems:` followed by every problem on a line of its
/// own, ordered by line:
///
///   FILE:LINE: path.to.key: what is wrong      (a value or key)
///   FILE:LINE: what is wrong                   (the document itself)
///   FILE:LINE: invalid YAML: what the parser says, where it stopped
///
/// `file` names the text in problems. Pure; any thread.
template <typename Read>
auto ReadPolicy(std::string_view yaml, std::string_view file, Read read)
    -> absl::StatusOr<std::invoke_result_t<Read&, const PolicyNode&>> {
  std::optional<std::invoke_result_t<Read&, const PolicyNode&>> out;
  absl::Status status =
      internal::RunPolicyRead(yaml, file, [&](const PolicyNode& root) { out.emplace(read(root)); });
  if (!status.ok()) return status;
  return *std::move(out);
}

/// Reads the file at `path`, then as `ReadPolicy` with `path` as the name:
/// what `--validate FILE` and a policy reloader call.
///
/// A file that cannot be read (missing, no permission, a directory) is
/// FAILED_PRECONDITION, `policy file FILE: cannot open: No such file or
/// directory`, for every service: not INVALID_ARGUMENT, because nothing is
/// wrong with the text, and not NOT_FOUND, which our APIs keep for entities.
/// (`Config::Load` uses the same code for a config file.)
template <typename Read>
auto LoadPolicy(const std::string& path, Read read)
    -> absl::StatusOr<std::invoke_result_t<Read&, const PolicyNode&>> {
  absl::StatusOr<std::string> text = internal::ReadPolicyFile(path);
  if (!text.ok()) return text.status();
  return ReadPolicy(*text, path, std::move(read));
}

}  // namespace flywheel::config
