#include "flywheel/grpc/async.h"

namespace flywheel::rpc {

absl::Status Overloaded() {
  return absl::UnavailableError("the server is overloaded; retry with backoff");
}

}  // namespace flywheel::rpc
