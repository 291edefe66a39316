#pragma once

#include <google/protobuf/generated_enum_reflection.h>

#include <string>
#include <string_view>
#include <vector>

#include "flywheel/core/field_errors.h"

namespace google::protobuf {
class EnumDescriptor;
class Message;
}  // namespace google::protobuf

namespace flywheel {

/// Finds every enum value in `message` that its enum does not define: proto3
/// enums are open, so a decoded message keeps any number a sender put there
/// (`business_impact.level: 99`). Walks the whole message by reflection:
/// nested messages, repeated fields, map values and set oneof members.
///
/// Each finding is a violation whose field is the proto path from `message`
/// (`spec.business_impact.level`, `spec.channels[1]`, `inners[0].color`; a map
/// entry is `name.<key>`, like the services' `spec.fields.<key>`) and whose
/// reason names the value and the enum ("99 is not a defined
/// flywheel.intake.v1.ImpactLevel"). Ordered by field number, then index or
/// map key. Pure function; any thread.
std::vector<FieldViolation> UndefinedEnumValues(const google::protobuf::Message& message);

/// For inputs at an API or intake edge, which refuse undefined values: adds
/// `UndefinedEnumValues(message)` to `errors`, each path behind `prefix` and a
/// dot when `prefix` is not empty.
void CheckEnumsDefined(const google::protobuf::Message& message, FieldErrors& errors,
                       std::string_view prefix = "");

/// For events from other Flywheel services, whose producer may be newer:
/// treats undefined values as unspecified, so no decision acts on them. A
/// singular field (or oneof member) is cleared, an undefined element of a
/// repeated field is removed, a map value becomes the enum's default (the
/// `_UNSPECIFIED` one). Returns what it changed, as `UndefinedEnumValues`
/// would have reported it, so the caller can log it.
std::vector<FieldViolation> ClearUndefinedEnums(google::protobuf::Message& message);

/// The name people read and write for enum value `number` of `type`: lower
/// case, without the prefix its `_UNSPECIFIED` value has
/// (`CHAIN_STATUS_CHANGES_REQUESTED` is `changes_requested`). Empty for a
/// number `type` does not define. Any thread.
std::string ShortEnumName(const google::protobuf::EnumDescriptor& type, int number);
/// As above, for a generated enum's value: `ShortEnumName(v1::DECISION_APPROVE)`.
template <typename E>
std::string ShortEnumName(E value) {
  return ShortEnumName(*google::protobuf::GetEnumDescriptor<E>(), static_cast<int>(value));
}

}  // namespace flywheel
