#pragma once

#include "absl/status/status.h"
#include "flywheel/kafka/cloud_event.h"

namespace google::protobuf {
class Message;
}

namespace flywheel::kafka {

/// Reads an event's data into `out`: the serialized protobuf of a binary-mode
/// event, or the proto3 JSON form when the data content type is JSON (a
/// structured-mode event from another system). INVALID_ARGUMENT naming the
/// expected message when the data is neither, so a handler can dead-letter
/// the record with a reason a person can act on.
absl::Status DecodeData(const CloudEvent& event, google::protobuf::Message& out);

}  // namespace flywheel::kafka
