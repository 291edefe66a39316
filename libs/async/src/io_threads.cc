#include "flywheel/async/io_threads.h"

#include <algorithm>

namespace flywheel::async {

IoThreads::IoThreads(int threads)
    : context_(std::max(threads, 1)), keep_running_(asio::make_work_guard(context_)) {
  for (int i = 0; i < std::max(threads, 1); ++i) {
    threads_.emplace_back([this] { context_.run(); });
  }
}

IoThreads::~IoThreads() { Stop(); }

void IoThreads::Stop() {
  keep_running_.reset();
  context_.stop();
  for (std::thread& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
  threads_.clear();
}

}  // namespace flywheel::async
