#include "flywheel/async/spawn.h"

#include <cstdlib>
#include <exception>
#include <string>

#include "flywheel/log/log.h"

namespace flywheel::async {

void AbortOnException(std::exception_ptr error) {
  std::string what = "unknown exception";
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
  }
  log::Error("a coroutine threw; aborting", {{"exception", what}});
  std::abort();
}

}  // namespace flywheel::async
