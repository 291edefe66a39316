#pragma once

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "flywheel/kafka/record.h"

namespace flywheel::kafka {

/// Media type of every protobuf payload the platform publishes.
inline constexpr char kProtobufContentType[] = "application/protobuf";
/// Media type of a structured-mode CloudEvent.
inline constexpr char kStructuredContentType[] = "application/cloudevents+json";

/// A CloudEvents 1.0 event. `data` holds the payload bytes: a serialized
/// protobuf message for the platform's own events, JSON text for
/// structured-mode events whose data was JSON.
struct CloudEvent {
  std::string id;
  std::string source;
  std::string type;
  std::string spec_version = "1.0";
  std::optional<absl::Time> time;
  std::string data_content_type;
  std::string subject;
  /// The Kafka record key: the aggregate id (request id, lead id), so one
  /// aggregate stays ordered on one partition.
  std::string key;
  std::string data;
  /// Extension attributes, without the `ce_` prefix.
  std::map<std::string, std::string> extensions;
};

/// Encodes `event` in the CloudEvents Kafka protocol binding, binary mode:
/// attributes in `ce_*` headers, `content-type` for the data, data as value.
/// Fails with INVALID_ARGUMENT when id, source or type is empty.
absl::StatusOr<Record> EncodeBinary(const CloudEvent& event, std::string topic);

/// Decodes a record in binary mode (a `ce_specversion` header is present) or
/// structured mode (`content-type: application/cloudevents+json`, JSON with
/// `data` or `data_base64`). Fails with INVALID_ARGUMENT and the reason when
/// the record is neither, or a required attribute is missing or malformed.
absl::StatusOr<CloudEvent> Decode(const Record& record);

/// `Decode`, moving a binary-mode record's key and value into the event
/// instead of copying them: on success they are left empty in `record`; on
/// failure `record` is untouched. What a consumer's hot path uses.
absl::StatusOr<CloudEvent> DecodeTakingPayload(Record& record);

/// RFC 3339 text for `time`, in UTC with microseconds (`2026-01-02T03:04:05.123456Z`).
std::string FormatRfc3339(absl::Time time);
/// Parses RFC 3339 text with any offset.
absl::StatusOr<absl::Time> ParseRfc3339(const std::string& text);

}  // namespace flywheel::kafka
