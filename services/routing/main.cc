// flywheel-routing: consumes request.submitted and records each request as
// routed in Redis. Configured by a YAML file (--config FILE or
// FLYWHEEL_CONFIG) plus FLYWHEEL_* environment overrides.
#include "flywheel/runtime/service_main.h"
#include "routing_app.h"

int main(int argc, char** argv) {
  return flywheel::runtime::ServiceMain(
      argc, argv,
      {.name = "routing", .needs_redis = true, .start = &flywheel::routing::StartRouting});
}
