#include "recurring_journal.h"

#include "absl/strings/str_cat.h"
#include "calendar_journal.h"
#include "flywheel/core/status.h"

namespace flywheel::scheduler {

JournaledRecurringStore::JournaledRecurringStore(RecurringStore& inner, kafka::Producer& producer,
                                                 std::string topic)
    : inner_(inner), journal_(producer, std::move(topic)) {}

asio::awaitable<absl::Status> JournaledRecurringStore::WriteCurrent(
    const std::string& tenant_id, const std::string& recurrence_id) {
  FLYWHEEL_CO_ASSIGN_OR_RETURN(std::optional<v1::RecurringWork> work,
                               co_await inner_.Get(tenant_id, recurrence_id));
  std::optional<std::string> value;
  if (work) {
    FLYWHEEL_CO_ASSIGN_OR_RETURN(std::optional<absl::Time> filed,
                                 co_await inner_.LastFiled(tenant_id, recurrence_id));
    value = EncodeJournaledWork(*work, filed);
  }
  const std::string what = absl::StrCat("recurring work '", recurrence_id, "'");
  co_return co_await journal_.Write(
      CalendarJournalKey(CalendarRecord::kRecurring, tenant_id, recurrence_id), std::move(value),
      what);
}

asio::awaitable<absl::StatusOr<v1::RecurringWork>> JournaledRecurringStore::Put(
    const v1::RecurringWork& work, int64_t expected_revision) {
  auto stored = co_await inner_.Put(work, expected_revision);
  if (!stored.ok()) co_return stored;
  FLYWHEEL_CO_RETURN_IF_ERROR(co_await WriteCurrent(work.tenant_id(), work.recurrence_id()));
  co_return stored;
}

asio::awaitable<absl::StatusOr<std::optional<v1::RecurringWork>>> JournaledRecurringStore::Get(
    const std::string& tenant_id, const std::string& recurrence_id) {
  co_return co_await inner_.Get(tenant_id, recurrence_id);
}

asio::awaitable<absl::StatusOr<std::vector<v1::RecurringWork>>> JournaledRecurringStore::List(
    const std::string& tenant_id, const std::string& after_id, size_t limit) {
  co_return co_await inner_.List(tenant_id, after_id, limit);
}

asio::awaitable<absl::StatusOr<bool>> JournaledRecurringStore::Delete(
    const std::string& tenant_id, const std::string& recurrence_id) {
  auto deleted = co_await inner_.Delete(tenant_id, recurrence_id);
  if (!deleted.ok()) co_return deleted;
  // Written even when there was none: a retried delete still reaches the
  // journal.
  const std::string what = absl::StrCat("recurring work '", recurrence_id, "'");
  FLYWHEEL_CO_RETURN_IF_ERROR(co_await journal_.Write(
      CalendarJournalKey(CalendarRecord::kRecurring, tenant_id, recurrence_id), std::nullopt,
      what));
  co_return deleted;
}

asio::awaitable<absl::StatusOr<std::optional<absl::Time>>> JournaledRecurringStore::LastFiled(
    const std::string& tenant_id, const std::string& recurrence_id) {
  co_return co_await inner_.LastFiled(tenant_id, recurrence_id);
}

asio::awaitable<absl::StatusOr<bool>> JournaledRecurringStore::Advance(
    const std::string& tenant_id, const std::string& recurrence_id, absl::Time from,
    std::optional<absl::Time> to) {
  auto moved = co_await inner_.Advance(tenant_id, recurrence_id, from, to);
  if (!moved.ok() || !*moved) co_return moved;
  FLYWHEEL_CO_RETURN_IF_ERROR(co_await WriteCurrent(tenant_id, recurrence_id));
  co_return moved;
}

asio::awaitable<absl::Status> JournaledRecurringStore::Restore(const v1::RecurringWork& work,
                                                               std::optional<absl::Time> filed) {
  co_return co_await inner_.Restore(work, filed);
}

}  // namespace flywheel::scheduler
