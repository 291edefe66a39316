#include "flywheel/runtime/periodic.h"

#include <condition_variable>
#include <mutex>
#include <thread>

#include "absl/time/clock.h"
#include "flywheel/log/log.h"

namespace flywheel::runtime {

struct Periodic::State {
  std::string name;
  absl::Duration interval;
  std::function<void()> task;
  std::mutex mu;
  std::condition_variable wake;
  bool stopping = false;
  std::thread thread;
};

std::unique_ptr<Periodic> Periodic::Start(std::string name, absl::Duration interval,
                                          std::function<void()> task) {
  auto state = std::make_shared<State>();
  state->name = std::move(name);
  state->interval = interval;
  state->task = std::move(task);
  state->thread = std::thread([s = state.get()] {
    std::unique_lock lock(s->mu);
    while (!s->wake.wait_for(lock, absl::ToChronoNanoseconds(s->interval),
                             [s] { return s->stopping; })) {
      lock.unlock();
      s->task();
      lock.lock();
    }
  });
  log::Debug("periodic task started",
             {{"task", state->name}, {"interval_ms", absl::ToInt64Milliseconds(interval)}});
  return std::unique_ptr<Periodic>(new Periodic(std::move(state)));
}

Periodic::Periodic(std::shared_ptr<State> state) : state_(std::move(state)) {}

Periodic::~Periodic() { Stop(); }

void Periodic::Stop() {
  {
    std::lock_guard lock(state_->mu);
    state_->stopping = true;
  }
  state_->wake.notify_all();
  if (state_->thread.joinable()) state_->thread.join();
}

}  // namespace flywheel::runtime
