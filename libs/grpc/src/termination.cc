#include "flywheel/grpc/termination.h"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"

namespace flywheel::rpc {
namespace {

sigset_t TerminationSet() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

std::string Errno(const char* what) { return absl::StrCat(what, ": ", std::strerror(errno)); }

// Owns a file descriptor.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// The process-wide wake-up RequestTermination writes to; lives until exit.
int WakeFd() {
  static const int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  return fd;
}

}  // namespace

absl::Status BlockTerminationSignals() {
  const sigset_t set = TerminationSet();
  if (int rc = pthread_sigmask(SIG_BLOCK, &set, nullptr); rc != 0) {
    return absl::InternalError(absl::StrCat("pthread_sigmask: ", std::strerror(rc)));
  }
  return absl::OkStatus();
}

absl::StatusOr<int> WaitForTerminationSignal() {
  sigset_t current;
  if (int rc = pthread_sigmask(SIG_BLOCK, nullptr, &current); rc != 0) {
    return absl::InternalError(absl::StrCat("pthread_sigmask: ", std::strerror(rc)));
  }
  if (sigismember(&current, SIGTERM) != 1 || sigismember(&current, SIGINT) != 1) {
    return absl::FailedPreconditionError(
        "SIGTERM and SIGINT are not blocked in this thread; call BlockTerminationSignals() in "
        "main before starting other threads");
  }
  const int wake = WakeFd();
  if (wake < 0) return absl::InternalError(Errno("eventfd"));

  // signalfd rather than sigwait so one poll() also sees RequestTermination.
  const sigset_t set = TerminationSet();
  Fd signals(signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
  if (signals.get() < 0) return absl::InternalError(Errno("signalfd"));

  while (true) {
    pollfd fds[2] = {{signals.get(), POLLIN, 0}, {wake, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return absl::InternalError(Errno("poll"));
    }
    if (fds[0].revents & POLLIN) {
      signalfd_siginfo info{};
      const ssize_t n = read(signals.get(), &info, sizeof(info));
      if (n == static_cast<ssize_t>(sizeof(info))) return static_cast<int>(info.ssi_signo);
    }
    if (fds[1].revents & POLLIN) {
      uint64_t count = 0;
      // Another waiter may have consumed it first; then keep waiting.
      if (read(wake, &count, sizeof(count)) == static_cast<ssize_t>(sizeof(count))) return 0;
    }
  }
}

void RequestTermination() {
  const int wake = WakeFd();
  if (wake < 0) return;
  const uint64_t one = 1;
  // Cannot fail short of the counter overflowing, which needs 2^64 requests.
  [[maybe_unused]] ssize_t n = write(wake, &one, sizeof(one));
}

}  // namespace flywheel::rpc
