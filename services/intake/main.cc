// flywheel-intake: accepts work requests over gRPC and publishes
// request.submitted. Configured by a YAML file (--config FILE or
// FLYWHEEL_CONFIG) plus FLYWHEEL_* environment overrides.
#include "flywheel/runtime/service_main.h"
#include "intake_app.h"

int main(int argc, char** argv) {
  return flywheel::runtime::ServiceMain(
      argc, argv,
      {.name = "intake", .needs_redis = false, .start = &flywheel::intake::StartIntake});
}
