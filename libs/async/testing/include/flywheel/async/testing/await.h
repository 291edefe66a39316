#pragma once

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <utility>

#include "flywheel/async/io_threads.h"
#include "flywheel/async/spawn.h"

/// For unit tests of code written as coroutines: one io thread for the
/// whole test binary, and a call that runs a coroutine to completion.
///
///   auto response = async::testing::Await(intake.Submit(request));
namespace flywheel::async::testing {

/// The test binary's io context, run by one thread until exit.
inline asio::io_context& TestIo() {
  static IoThreads* io = new IoThreads(1);  // never destroyed: runs until exit
  return io->context();
}

/// Runs `task` on `TestIo()` and returns its result.
template <typename T>
T Await(asio::awaitable<T> task) {
  return BlockOn(TestIo(), std::move(task));
}

}  // namespace flywheel::async::testing
