// flywheel-routing: turns submitted requests into owned, tracked workflows.
// Configured by a YAML file (--config FILE or FLYWHEEL_CONFIG) plus
// FLYWHEEL_* environment overrides; `routing.policy_file` names the routing
// policy (templates, teams, rules). `--validate FILE` checks a policy file.
#include "flywheel/runtime/service_main.h"
#include "routing_app.h"

int main(int argc, char** argv) {
  return flywheel::runtime::ServiceMain(argc, argv,
                                        {.name = "routing",
                                         .needs_redis = true,
                                         .start = &flywheel::routing::StartRouting,
                                         .validate = &flywheel::routing::ValidatePolicyFile});
}
