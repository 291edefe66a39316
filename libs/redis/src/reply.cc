#include "flywheel/redis/reply.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace flywheel::redis {

Reply Reply::Integer(int64_t value) {
  Reply r;
  r.type_ = Type::kInteger;
  r.integer_ = value;
  return r;
}

Reply Reply::String(std::string value) {
  Reply r;
  r.type_ = Type::kString;
  r.str_ = std::move(value);
  return r;
}

Reply Reply::Status(std::string value) {
  Reply r;
  r.type_ = Type::kStatus;
  r.str_ = std::move(value);
  return r;
}

Reply Reply::Array(std::vector<Reply> elements) {
  Reply r;
  r.type_ = Type::kArray;
  r.elements_ = std::move(elements);
  return r;
}

Reply Reply::Error(std::string message) {
  Reply r;
  r.type_ = Type::kError;
  r.str_ = std::move(message);
  return r;
}

const char* TypeName(Reply::Type type) {
  switch (type) {
    case Reply::Type::kNil:
      return "nil";
    case Reply::Type::kInteger:
      return "integer";
    case Reply::Type::kString:
      return "string";
    case Reply::Type::kStatus:
      return "status";
    case Reply::Type::kArray:
      return "array";
    case Reply::Type::kError:
      return "error";
  }
  return "unknown";
}

namespace {
absl::Status WrongType(Reply::Type want, const Reply& got) {
  return absl::FailedPreconditionError(absl::StrCat("redis reply is ", TypeName(got.type()),
                                                    ", expected ", TypeName(want), ": ",
                                                    got.DebugString()));
}
}  // namespace

absl::StatusOr<int64_t> Reply::AsInteger() const {
  if (type_ != Type::kInteger) return WrongType(Type::kInteger, *this);
  return integer_;
}

absl::StatusOr<std::string> Reply::AsString() const {
  if (type_ != Type::kString && type_ != Type::kStatus) return WrongType(Type::kString, *this);
  return str_;
}

absl::StatusOr<std::vector<Reply>> Reply::AsArray() const {
  if (type_ == Type::kNil) return std::vector<Reply>{};
  if (type_ != Type::kArray) return WrongType(Type::kArray, *this);
  return elements_;
}

std::string Reply::DebugString() const {
  switch (type_) {
    case Type::kNil:
      return "(nil)";
    case Type::kInteger:
      return absl::StrCat("(integer) ", integer_);
    case Type::kString:
      return absl::StrCat("\"", absl::CHexEscape(str_), "\"");
    case Type::kStatus:
      return absl::StrCat("+", absl::CHexEscape(str_));
    case Type::kError:
      return absl::StrCat("(error) ", absl::CHexEscape(str_));
    case Type::kArray: {
      std::string out = "[";
      for (size_t i = 0; i < elements_.size(); ++i) {
        if (i > 0) out += ", ";
        out += elements_[i].DebugString();
      }
      out += "]";
      return out;
    }
  }
  return "?";
}

}  // namespace flywheel::redis
