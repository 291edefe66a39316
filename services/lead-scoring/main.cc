// flywheel-lead-scoring: scores leads from the activity and profiles other
// systems publish (fit and engagement, half-life decay, caps, score
// groups, accounts) and hands qualified leads to sales once, over Kafka and
// gRPC, state in Redis. Configured by a YAML file (--config FILE or
// FLYWHEEL_CONFIG) plus FLYWHEEL_* environment overrides; `--validate FILE`
// checks a policy file.
#include "flywheel/runtime/service_main.h"
#include "lead_scoring_app.h"

int main(int argc, char** argv) {
  return flywheel::runtime::ServiceMain(argc, argv,
                                        {.name = "lead-scoring",
                                         .needs_redis = true,
                                         .start = &flywheel::lead_scoring::StartLeadScoring,
                                         .validate = &flywheel::lead_scoring::ValidatePolicyFile});
}
