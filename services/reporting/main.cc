// flywheel-reporting: folds every workflow and lead event into aggregates
// in Redis and answers operational and campaign queries, exports and the
// weekly operations report over gRPC. Configured by a YAML file (--config
// FILE or FLYWHEEL_CONFIG) plus FLYWHEEL_* environment overrides.
#include "flywheel/runtime/service_main.h"
#include "reporting_app.h"

int main(int argc, char** argv) {
  return flywheel::runtime::ServiceMain(
      argc, argv,
      {.name = "reporting", .needs_redis = true, .start = &flywheel::reporting::StartReporting});
}
