#include "journal_writer.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "flywheel/kafka/published.h"

namespace flywheel::scheduler {

asio::awaitable<absl::Status> JournalWriter::Write(std::string key,
                                                   std::optional<std::string> value,
                                                   const std::string& what) {
  std::vector<Entry> entries(1);
  entries[0].key = std::move(key);
  entries[0].value = std::move(value);
  co_return co_await WriteAll(std::move(entries), what);
}

asio::awaitable<absl::Status> JournalWriter::WriteAll(std::vector<Entry> entries,
                                                      const std::string& what) {
  if (entries.empty()) co_return absl::OkStatus();
  std::vector<kafka::Record> records(entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    records[i].topic = topic_;
    records[i].key = std::move(entries[i].key);
    if (entries[i].value) {
      records[i].value = *std::move(entries[i].value);
    } else {
      records[i].tombstone = true;
    }
  }
  absl::Status sent = co_await kafka::Sent(producer_, std::move(records));
  if (sent.ok()) co_return sent;
  co_return absl::UnavailableError(
      absl::StrCat(what, " changed but the journal was not written: ", sent.message()));
}

}  // namespace flywheel::scheduler
