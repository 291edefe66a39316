// flywheel-routing: consumes request.submitted and records each request as
// routed in Redis. Configured by a YAML file (--config FILE or
// FLYWHEEL_CONFIG) plus FLYWHEEL_* environment overrides.
#include "routing_app.h"
#include "flywheel/runtime/service_main.h"

int main(int argc, char** argv) {
  return flywheel::runtime::ServiceMain(argc, argv, "routing", /*needs_redis=*/true,
                                        &flywheel::routing::StartRouting);
}
