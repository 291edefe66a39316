// flywheel-intake: accepts work requests over gRPC and from the submissions
// topic, keeps them in Redis and publishes their lifecycle events.
// Configured by a YAML file (--config FILE or FLYWHEEL_CONFIG) plus
// FLYWHEEL_* environment overrides; `--validate FILE` checks a policy file.
#include "flywheel/runtime/service_main.h"
#include "intake_app.h"

int main(int argc, char** argv) {
  return flywheel::runtime::ServiceMain(argc, argv,
                                        {.name = "intake",
                                         .needs_redis = true,
                                         .start = &flywheel::intake::StartIntake,
                                         .validate = &flywheel::intake::ValidatePolicyFile});
}
