#include "journal_writer.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "flywheel/kafka/published.h"

namespace flywheel::scheduler {

asio::awaitable<absl::Status> JournalWriter::Write(std::string key,
                                                   std::optional<std::string> value,
                                                   const std::string& what) {
  std::vector<kafka::Record> records(1);
  records[0].topic = topic_;
  records[0].key = std::move(key);
  if (value) {
    records[0].value = *std::move(value);
  } else {
    records[0].tombstone = true;
  }
  absl::Status sent = co_await kafka::Sent(producer_, std::move(records));
  if (sent.ok()) co_return sent;
  co_return absl::UnavailableError(
      absl::StrCat(what, " changed but its journal was not written: ", sent.message()));
}

}  // namespace flywheel::scheduler
