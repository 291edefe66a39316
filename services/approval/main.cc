// flywheel-approval: runs approval chains (tiered review steps, asset
// versions, proof comments, inboxes and a verifiable audit trail) from
// routing's plan, over gRPC and Kafka, state in Redis. Configured by a YAML
// file (--config FILE or FLYWHEEL_CONFIG) plus FLYWHEEL_* environment
// overrides; `--validate FILE` checks a policy file.
#include "approval_app.h"
#include "flywheel/runtime/service_main.h"

int main(int argc, char** argv) {
  return flywheel::runtime::ServiceMain(argc, argv,
                                        {.name = "approval",
                                         .needs_redis = true,
                                         .start = &flywheel::approval::StartApproval,
                                         .validate = &flywheel::approval::ValidatePolicyFile});
}
