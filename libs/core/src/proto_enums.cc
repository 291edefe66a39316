#include "flywheel/core/proto_enums.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <algorithm>
#include <numeric>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace flywheel {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

bool Defined(const FieldDescriptor& field, int value) {
  return field.enum_type()->FindValueByNumber(value) != nullptr;
}

std::string Reason(const FieldDescriptor& field, int value) {
  return absl::StrCat(value, " is not a defined ", field.enum_type()->full_name());
}

std::string Child(const std::string& path, std::string_view name) {
  return path.empty() ? std::string(name) : path + "." + std::string(name);
}

// The key of a map entry as it appears in a path.
std::string KeyText(const Message& entry) {
  const FieldDescriptor* key = entry.GetDescriptor()->map_key();
  const Reflection* r = entry.GetReflection();
  switch (key->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
      return r->GetString(entry, key);
    case FieldDescriptor::CPPTYPE_INT32:
      return absl::StrCat(r->GetInt32(entry, key));
    case FieldDescriptor::CPPTYPE_INT64:
      return absl::StrCat(r->GetInt64(entry, key));
    case FieldDescriptor::CPPTYPE_UINT32:
      return absl::StrCat(r->GetUInt32(entry, key));
    case FieldDescriptor::CPPTYPE_UINT64:
      return absl::StrCat(r->GetUInt64(entry, key));
    case FieldDescriptor::CPPTYPE_BOOL:
      return r->GetBool(entry, key) ? "true" : "false";
    default:
      return "?";  // Map keys are integers, bools or strings only.
  }
}

// Whether entry `a`'s key sorts before `b`'s: numbers as numbers.
bool KeyLess(const Message& a, const Message& b) {
  const FieldDescriptor* key = a.GetDescriptor()->map_key();
  const Reflection* r = a.GetReflection();
  switch (key->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      return r->GetInt32(a, key) < r->GetInt32(b, key);
    case FieldDescriptor::CPPTYPE_INT64:
      return r->GetInt64(a, key) < r->GetInt64(b, key);
    case FieldDescriptor::CPPTYPE_UINT32:
      return r->GetUInt32(a, key) < r->GetUInt32(b, key);
    case FieldDescriptor::CPPTYPE_UINT64:
      return r->GetUInt64(a, key) < r->GetUInt64(b, key);
    default:
      return KeyText(a) < KeyText(b);
  }
}

// Walks `message` (read-only when `mut` is null, else `mut` is the same
// message and undefined values are treated as unspecified) and reports every
// undefined enum value under `path`.
void Walk(const Message& message, Message* mut, const std::string& path,
          std::vector<FieldViolation>& out);

void WalkMap(const Message& message, Message* mut, const FieldDescriptor& field,
             const std::string& path, std::vector<FieldViolation>& out) {
  const Reflection* r = message.GetReflection();
  const FieldDescriptor* value = field.message_type()->map_value();
  if (value->cpp_type() != FieldDescriptor::CPPTYPE_ENUM &&
      value->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) {
    return;
  }
  // Hash order is arbitrary: report by key.
  std::vector<int> order(static_cast<size_t>(r->FieldSize(message, &field)));
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int a, int b) {
    return KeyLess(r->GetRepeatedMessage(message, &field, a),
                   r->GetRepeatedMessage(message, &field, b));
  });
  for (int i : order) {
    const Message& entry = r->GetRepeatedMessage(message, &field, i);
    const std::string entry_path = Child(path, KeyText(entry));
    Message* mut_entry = mut == nullptr ? nullptr : r->MutableRepeatedMessage(mut, &field, i);
    if (value->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      const Reflection* er = entry.GetReflection();
      if (!er->HasField(entry, value)) continue;
      Walk(er->GetMessage(entry, value),
           mut_entry == nullptr ? nullptr : er->MutableMessage(mut_entry, value), entry_path, out);
      continue;
    }
    const int number = entry.GetReflection()->GetEnumValue(entry, value);
    if (Defined(*value, number)) continue;
    out.push_back({entry_path, Reason(*value, number)});
    if (mut_entry != nullptr) {
      mut_entry->GetReflection()->SetEnumValue(mut_entry, value,
                                               value->default_value_enum()->number());
    }
  }
}

void WalkRepeated(const Message& message, Message* mut, const FieldDescriptor& field,
                  const std::string& path, std::vector<FieldViolation>& out) {
  const Reflection* r = message.GetReflection();
  const int size = r->FieldSize(message, &field);
  if (field.cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
    for (int i = 0; i < size; ++i) {
      Walk(r->GetRepeatedMessage(message, &field, i),
           mut == nullptr ? nullptr : r->MutableRepeatedMessage(mut, &field, i),
           absl::StrCat(path, "[", i, "]"), out);
    }
    return;
  }
  std::vector<int> kept;
  for (int i = 0; i < size; ++i) {
    const int number = r->GetRepeatedEnumValue(message, &field, i);
    if (Defined(field, number)) {
      kept.push_back(number);
    } else {
      out.push_back({absl::StrCat(path, "[", i, "]"), Reason(field, number)});
    }
  }
  if (mut != nullptr && kept.size() != static_cast<size_t>(size)) {
    r->ClearField(mut, &field);
    for (int number : kept) r->AddEnumValue(mut, &field, number);
  }
}

void Walk(const Message& message, Message* mut, const std::string& path,
          std::vector<FieldViolation>& out) {
  const Reflection* r = message.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  r->ListFields(message, &fields);  // Set fields only, by number.
  for (const FieldDescriptor* field : fields) {
    const bool is_enum = field->cpp_type() == FieldDescriptor::CPPTYPE_ENUM;
    const bool is_message = field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE;
    if (!is_enum && !is_message) continue;
    const std::string field_path = Child(path, field->name());
    if (field->is_map()) {
      WalkMap(message, mut, *field, field_path, out);
    } else if (field->is_repeated()) {
      WalkRepeated(message, mut, *field, field_path, out);
    } else if (is_message) {
      Walk(r->GetMessage(message, field), mut == nullptr ? nullptr : r->MutableMessage(mut, field),
           field_path, out);
    } else if (const int number = r->GetEnumValue(message, field); !Defined(*field, number)) {
      out.push_back({field_path, Reason(*field, number)});
      if (mut != nullptr) r->ClearField(mut, field);
    }
  }
}

}  // namespace

std::vector<FieldViolation> UndefinedEnumValues(const Message& message) {
  std::vector<FieldViolation> out;
  Walk(message, nullptr, "", out);
  return out;
}

void CheckEnumsDefined(const Message& message, FieldErrors& errors, std::string_view prefix) {
  for (const FieldViolation& v : UndefinedEnumValues(message)) {
    errors.Add(prefix.empty() ? v.field : std::string(prefix) + "." + v.field, v.reason);
  }
}

std::vector<FieldViolation> ClearUndefinedEnums(Message& message) {
  std::vector<FieldViolation> out;
  Walk(message, &message, "", out);
  return out;
}

std::string ShortEnumName(const google::protobuf::EnumDescriptor& type, int number) {
  const google::protobuf::EnumValueDescriptor* value = type.FindValueByNumber(number);
  if (value == nullptr) return "";
  std::string prefix;
  if (const auto* zero = type.FindValueByNumber(0); zero != nullptr) {
    constexpr std::string_view kUnspecified = "UNSPECIFIED";
    if (zero->name().ends_with(kUnspecified)) {
      prefix = zero->name().substr(0, zero->name().size() - kUnspecified.size());
    }
  }
  std::string name = value->name();
  if (!prefix.empty() && name.starts_with(prefix) && name.size() > prefix.size()) {
    name = name.substr(prefix.size());
  }
  return absl::AsciiStrToLower(name);
}

}  // namespace flywheel
