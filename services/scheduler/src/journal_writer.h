#pragma once

#include <asio/awaitable.hpp>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "flywheel/kafka/producer.h"

namespace flywheel::scheduler {

/// Writes records to one of the scheduler's compacted journals (raw values,
/// not CloudEvents): a thing's state after a change, or a tombstone when it
/// is gone. What the timer and calendar journals share. Thread-safe, like
/// the producer; coroutines run on the caller's executor.
class JournalWriter {
 public:
  /// `topic` is the full (prefixed) name of the journal.
  JournalWriter(kafka::Producer& producer, std::string topic)
      : producer_(producer), topic_(std::move(topic)) {}

  /// Writes `value` under `key`, a tombstone for nullopt, and returns once
  /// the broker acknowledged it; UNAVAILABLE naming `what` ("timer 't1'")
  /// when it did not: the change it records stands, and the journal misses
  /// it until the next change of the same key.
  asio::awaitable<absl::Status> Write(std::string key, std::optional<std::string> value,
                                      const std::string& what);

  /// One change of a batch: the key and its value, nullopt for a tombstone.
  struct Entry {
    std::string key;
    std::optional<std::string> value;
  };

  /// Writes every entry in one send and returns once the broker acknowledged
  /// them all (the entries of one key stay in order); UNAVAILABLE naming
  /// `what` ("3 timers") when one was not: some may then be written, and
  /// each key the journal missed catches up at its next change. Nothing is
  /// sent for an empty batch.
  asio::awaitable<absl::Status> WriteAll(std::vector<Entry> entries, const std::string& what);

 private:
  kafka::Producer& producer_;
  const std::string topic_;
};

}  // namespace flywheel::scheduler
