#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace flywheel::redis {

/// One reply from Redis as a plain value, independent of hiredis. A top-level
/// error reply never becomes a `Reply` (it becomes an `absl::Status`, see
/// error.h); `kError` appears only as an element of an array (for example one
/// failed command inside an `EXEC` result). Copyable; no thread rules.
class Reply {
 public:
  enum class Type { kNil, kInteger, kString, kStatus, kArray, kError };

  /// A nil reply (`$-1` or `*-1`).
  Reply() = default;

  static Reply Nil() { return Reply(); }
  static Reply Integer(int64_t value);
  /// A bulk string; may hold any bytes, including NUL.
  static Reply String(std::string value);
  /// A simple status such as `OK` or `PONG`.
  static Reply Status(std::string value);
  static Reply Array(std::vector<Reply> elements);
  /// An error nested inside an array; `message` is the server's text.
  static Reply Error(std::string message);

  Type type() const { return type_; }
  bool is_nil() const { return type_ == Type::kNil; }
  bool is_integer() const { return type_ == Type::kInteger; }
  bool is_string() const { return type_ == Type::kString; }
  bool is_status() const { return type_ == Type::kStatus; }
  bool is_array() const { return type_ == Type::kArray; }
  bool is_error() const { return type_ == Type::kError; }

  /// Unchecked accessors: the value for the matching type, a default value
  /// (0, empty) for any other type.
  int64_t integer() const { return integer_; }
  /// Bytes of a string, status or error reply.
  const std::string& str() const { return str_; }
  const std::vector<Reply>& elements() const { return elements_; }

  /// Checked conversions: FAILED_PRECONDITION naming both types when the
  /// reply is of another type.
  absl::StatusOr<int64_t> AsInteger() const;
  /// The bytes of a string or status reply.
  absl::StatusOr<std::string> AsString() const;
  /// The elements of an array reply; a nil reply gives an empty vector.
  absl::StatusOr<std::vector<Reply>> AsArray() const;

  /// A short human-readable form for logs and test failures; binary bytes are
  /// escaped.
  std::string DebugString() const;

  bool operator==(const Reply&) const = default;

 private:
  Type type_ = Type::kNil;
  int64_t integer_ = 0;
  std::string str_;
  std::vector<Reply> elements_;
};

/// `nil`, `integer`, `string`, `status`, `array` or `error`.
const char* TypeName(Reply::Type type);

}  // namespace flywheel::redis
