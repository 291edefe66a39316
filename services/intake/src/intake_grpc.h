#pragma once

#include "flywheel/intake/v1/intake_service.grpc.pb.h"
#include "intake.h"

namespace flywheel::intake {

/// The gRPC edge: translates calls to `Intake` and statuses back. Methods not
/// overridden answer UNIMPLEMENTED.
class IntakeGrpc final : public v1::IntakeService::Service {
 public:
  explicit IntakeGrpc(Intake& intake) : intake_(intake) {}

  ::grpc::Status SubmitRequest(::grpc::ServerContext* context,
                               const v1::SubmitRequestRequest* request,
                               v1::SubmitRequestResponse* response) override;

 private:
  Intake& intake_;
};

}  // namespace flywheel::intake
