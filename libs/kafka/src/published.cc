#include "flywheel/kafka/published.h"

#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>
#include <memory>
#include <utility>

namespace flywheel::kafka {

using Ids = absl::StatusOr<std::vector<std::string>>;

asio::awaitable<Ids> Published(EventPublisher& publisher, std::vector<OutgoingEvent> events) {
  return asio::async_initiate<decltype(asio::use_awaitable), void(Ids)>(
      [&publisher](auto handler, std::vector<OutgoingEvent> events) {
        // PublishDone is copyable and the coroutine's handler is not: share it.
        using Handler = decltype(handler);
        auto work = asio::make_work_guard(asio::get_associated_executor(handler));
        auto waiting = std::make_shared<Handler>(std::move(handler));
        publisher.PublishAsync(std::move(events), [waiting, work](Ids ids) mutable {
          // The delivery thread: resume the coroutine where it runs instead.
          asio::post(work.get_executor(), [waiting, ids = std::move(ids)]() mutable {
            std::move (*waiting)(std::move(ids));
          });
        });
      },
      asio::use_awaitable, std::move(events));
}

}  // namespace flywheel::kafka
