#include "flywheel/runtime/reloader.h"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "flywheel/log/log.h"
#include "flywheel/metrics/metrics.h"

namespace flywheel::runtime {
namespace {

// Owns a file descriptor.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// What identifies one version of the file. stat() follows symlinks, so a
// ConfigMap update (a swapped `..data` symlink) shows as a new inode.
struct FileVersion {
  dev_t device = 0;
  ino_t inode = 0;
  off_t size = -1;
  timespec modified{};

  bool operator==(const FileVersion& o) const {
    return device == o.device && inode == o.inode && size == o.size &&
           modified.tv_sec == o.modified.tv_sec && modified.tv_nsec == o.modified.tv_nsec;
  }
};

FileVersion VersionOf(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return {};
  return {st.st_dev, st.st_ino, st.st_size, st.st_mtim};
}

bool HangupBlockedHere() {
  sigset_t current;
  pthread_sigmask(SIG_BLOCK, nullptr, &current);
  return sigismember(&current, SIGHUP) == 1;
}

class FileReloader final : public Reloader {
 public:
  FileReloader(Options options, Load load, metrics::Metrics& metrics)
      : options_(std::move(options)),
        load_(std::move(load)),
        reloads_(
            metrics.Counter("flywheel_" + options_.service + "_" + options_.what + "_reloads_total",
                            "Loads of the " + options_.what +
                                " file by result: ok, or refused (the running one stayed).")),
        stop_(eventfd(0, EFD_CLOEXEC)) {}

  ~FileReloader() override {
    if (thread_.joinable()) {
      const uint64_t one = 1;
      (void)!write(stop_.get(), &one, sizeof(one));
      thread_.join();
    }
  }

  absl::Status ReloadNow() override {
    const FileVersion version = VersionOf(options_.path);
    absl::Status status = load_(options_.path);
    reloads_.Add({{"result", status.ok() ? "ok" : "refused"}}).Increment();
    std::lock_guard lock(mu_);
    // Remember the version even when refused, so a broken file is reported
    // once, not on every poll.
    seen_ = version;
    return status;
  }

  void Watch() {
    if (HangupBlockedHere()) {
      sigset_t hangup;
      sigemptyset(&hangup);
      sigaddset(&hangup, SIGHUP);
      hangup_ = std::make_unique<Fd>(signalfd(-1, &hangup, SFD_CLOEXEC));
    }
    thread_ = std::thread([this] { Run(); });
  }

 private:
  // The reloader's thread: waits for SIGHUP, a stop request, or the next poll.
  void Run() {
    pollfd fds[2] = {{stop_.get(), POLLIN, 0}, {hangup_ ? hangup_->get() : -1, POLLIN, 0}};
    const int timeout_ms = static_cast<int>(absl::ToInt64Milliseconds(options_.poll_interval));
    while (true) {
      const int ready = poll(fds, 2, timeout_ms);
      if (ready < 0 && errno == EINTR) continue;
      if (fds[0].revents & POLLIN) return;
      std::string cause;
      if (ready > 0 && (fds[1].revents & POLLIN)) {
        signalfd_siginfo info{};
        (void)!read(hangup_->get(), &info, sizeof(info));
        cause = "SIGHUP";
      } else if (Changed()) {
        cause = "file changed";
      } else {
        continue;
      }
      absl::Status status = ReloadNow();
      if (status.ok()) {
        log::Info(options_.what + " reloaded", {{"file", options_.path}, {"cause", cause}});
      } else {
        log::Error(options_.what + " refused; the running one stays",
                   {{"file", options_.path}, {"cause", cause}, {"error", status.ToString()}});
      }
    }
  }

  bool Changed() {
    const FileVersion version = VersionOf(options_.path);
    std::lock_guard lock(mu_);
    return !(version == seen_);
  }

  Options options_;
  Load load_;
  prometheus::Family<prometheus::Counter>& reloads_;
  Fd stop_;
  std::unique_ptr<Fd> hangup_;
  std::mutex mu_;
  FileVersion seen_;
  std::thread thread_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Reloader>> Reloader::Start(Options options, Load load,
                                                          metrics::Metrics& metrics) {
  if (options.path.empty()) return absl::InvalidArgumentError("policy file path is empty");
  if (options.poll_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("poll interval must be positive");
  }
  auto reloader = std::make_unique<FileReloader>(std::move(options), std::move(load), metrics);
  if (absl::Status first = reloader->ReloadNow(); !first.ok()) return first;
  reloader->Watch();
  return reloader;
}

}  // namespace flywheel::runtime
