// flywheel-scheduler: keeps time for the platform: durable SLA timers in
// Redis, counted in business hours, fired as sla.warning and sla.breached
// with the escalations the policy names; timer requests come from routing
// and approval over Kafka and from anyone over gRPC. Configured by a YAML
// file (--config FILE or FLYWHEEL_CONFIG) plus FLYWHEEL_* environment
// overrides; `--validate FILE` checks a policy file.
#include "flywheel/runtime/service_main.h"
#include "scheduler_app.h"

int main(int argc, char** argv) {
  return flywheel::runtime::ServiceMain(argc, argv,
                                        {.name = "scheduler",
                                         .needs_redis = true,
                                         .start = &flywheel::scheduler::StartScheduler,
                                         .validate = &flywheel::scheduler::ValidatePolicyFile});
}
