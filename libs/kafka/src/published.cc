#include "flywheel/kafka/published.h"

#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>
#include <memory>
#include <mutex>
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

asio::awaitable<absl::Status> Sent(Producer& producer, std::vector<Record> records) {
  return asio::async_initiate<decltype(asio::use_awaitable), void(absl::Status)>(
      [&producer](auto handler, std::vector<Record> records) {
        using Handler = decltype(handler);
        // What the delivery callbacks share: the coroutine's handler, how
        // many records are unacknowledged, the first failure.
        struct Waiting {
          Waiting(Handler h, size_t n)
              : handler(std::move(h)),
                work(asio::make_work_guard(asio::get_associated_executor(handler))),
                left(n) {}
          Handler handler;
          asio::executor_work_guard<asio::associated_executor_t<Handler>> work;
          std::mutex mu;
          size_t left;
          absl::Status status;
        };
        auto waiting = std::make_shared<Waiting>(std::move(handler), records.size());
        auto resume = [waiting] {
          asio::post(waiting->work.get_executor(),
                     [waiting] { std::move(waiting->handler)(std::move(waiting->status)); });
        };
        if (records.empty()) return resume();
        for (Record& record : records) {
          // The delivery thread, or the caller's when the record is refused at once.
          producer.Send(std::move(record),
                        [waiting, resume](const absl::Status& st, const Record&) {
                          std::lock_guard lock(waiting->mu);
                          if (!st.ok() && waiting->status.ok()) waiting->status = st;
                          if (--waiting->left == 0) resume();
                        });
        }
      },
      asio::use_awaitable, std::move(records));
}

}  // namespace flywheel::kafka
