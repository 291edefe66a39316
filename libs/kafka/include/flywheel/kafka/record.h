#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"

namespace flywheel::kafka {

/// One Kafka record header. Kafka allows repeated keys; lookups take the last.
struct Header {
  std::string key;
  std::string value;

  bool operator==(const Header&) const = default;
};

/// A Kafka record as the project sees it: plain values, no librdkafka types.
struct Record {
  std::string topic;
  int32_t partition = -1;  ///< -1 until the broker has placed the record.
  int64_t offset = -1;     ///< -1 until the broker has placed the record.
  std::string key;
  std::string value;
  /// Sent with a null value instead of `value`: in a compacted topic, the
  /// key's deletion. Consumers see a null value as an empty one.
  bool tombstone = false;
  std::vector<Header> headers;
  /// The record's Kafka timestamp as the broker reports it on consume: when
  /// the producer created it (CreateTime, the default) or when the broker
  /// appended it (LogAppendTime). Nullopt when the broker gave none. Not sent
  /// by `Producer`: librdkafka stamps the time of `Send`.
  std::optional<absl::Time> timestamp;

  /// The value of the last header named `key`, if any.
  std::optional<std::string_view> header(std::string_view key) const;
};

}  // namespace flywheel::kafka
