#include <memory>
#include <mutex>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "flywheel/core/id.h"
#include "flywheel/core/status.h"
#include "flywheel/kafka/published.h"
#include "flywheel/log/log.h"
#include "flywheel/outbox/outbox.h"
#include "flywheel/redis/async_client.h"
#include "flywheel/redis/pool.h"
#include "flywheel/redis/script_registry.h"
#include "outbox_metrics.h"
#include "stored_event.pb.h"

namespace flywheel::outbox {

// The last three KEYS of a state script are the tag's events hash, queue and
// busy hash; its ARGV end with (id, stored event, aggregate key) per event,
// then the first event's score, then the number of events. Scores are
// microseconds plus the event's index, so one change's events keep their
// order and later changes sort after earlier ones.
const char RedisOutbox::kLua[] = R"lua(
local function flywheel_outbox_keys()
  return KEYS[#KEYS - 2], KEYS[#KEYS - 1], KEYS[#KEYS]
end
local function flywheel_outbox_busy(aggregate)
  local _, _, busy = flywheel_outbox_keys()
  return redis.call('HEXISTS', busy, aggregate) == 1
end
local function flywheel_outbox_put()
  local events, queue, busy = flywheel_outbox_keys()
  local n = tonumber(ARGV[#ARGV])
  local score = tonumber(ARGV[#ARGV - 1])
  local base = #ARGV - 1 - 3 * n
  for i = 0, n - 1 do
    local id = ARGV[base + 3 * i]
    if redis.call('HSETNX', events, id, ARGV[base + 3 * i + 1]) == 1 then
      redis.call('ZADD', queue, score + i, id)
      redis.call('HINCRBY', busy, ARGV[base + 3 * i + 2], 1)
    end
  end
end
)lua";

namespace {

constexpr absl::Duration kAcquireTimeout = absl::Seconds(2);

// KEYS: events, queue, busy. ARGV: (id, aggregate key) pairs of published
// events. Removes each once.
constexpr char kRemoveScript[] = R"lua(
for i = 1, #ARGV, 2 do
  if redis.call('HDEL', KEYS[1], ARGV[i]) == 1 then
    redis.call('ZREM', KEYS[2], ARGV[i])
    if redis.call('HINCRBY', KEYS[3], ARGV[i + 1], -1) <= 0 then
      redis.call('HDEL', KEYS[3], ARGV[i + 1])
    end
  end
end
return 1
)lua";

// KEYS: events, queue. ARGV: highest score, limit, how many to pass over
// first. Returns the stored events in publishing order as
// {id, stored event, score, ...}.
constexpr char kReadScript[] = R"lua(
local ids = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'WITHSCORES', 'LIMIT', ARGV[3], ARGV[2])
local out = {}
for i = 1, #ids, 2 do
  local stored = redis.call('HGET', KEYS[1], ids[i])
  if stored then
    out[#out + 1] = ids[i]
    out[#out + 1] = stored
    out[#out + 1] = ids[i + 1]
  end
end
return out
)lua";

// KEYS: lease. ARGV: token. Deletes the lease only if this relay holds it.
constexpr char kReleaseScript[] = R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
)lua";

int64_t Micros(absl::Time time) { return absl::ToUnixMicros(time); }

kafka::OutgoingEvent FromStored(const internal::StoredEvent& stored) {
  kafka::OutgoingEvent event{.topic = stored.topic(),
                             .type = stored.type(),
                             .key = stored.key(),
                             .data = stored.data(),
                             .subject = stored.subject(),
                             .id = stored.id(),
                             .time = absl::FromUnixMicros(stored.time_micros())};
  event.extensions.insert(stored.extensions().begin(), stored.extensions().end());
  return event;
}

absl::Status NoAsyncClient() {
  return absl::FailedPreconditionError(
      "this outbox has no asynchronous Redis client; construct it with one");
}

// ARGV of kRemoveScript.
std::vector<std::string> RemoveArgs(const std::vector<kafka::OutgoingEvent>& events) {
  std::vector<std::string> args;
  args.reserve(2 * events.size());
  for (const kafka::OutgoingEvent& event : events) {
    args.insert(args.end(), {event.id, event.key});
  }
  return args;
}

// What one kReadScript call found.
struct StoredBatch {
  std::vector<kafka::OutgoingEvent> events;
  // When each of `events` was stored.
  std::vector<absl::Time> stored;
};

// The events this process is publishing now, by id: claimed just before
// they are handed to the publisher, released once their removal from Redis
// has answered or their publish failed. However old such an event is, its
// publish may still be acknowledged, so the relay leaves it to that publish.
// Shared with its claims: a publish suspended when the service stops may be
// destroyed with the io context, after the outbox. Thread-safe.
class InFlight : public std::enable_shared_from_this<InFlight> {
 public:
  // What one publish claimed; released when destroyed. Move-only.
  class Claim {
   public:
    Claim() = default;
    Claim(std::shared_ptr<InFlight> owner, std::vector<std::string> ids)
        : owner_(std::move(owner)), ids_(std::move(ids)) {}
    Claim(Claim&& other) noexcept
        : owner_(std::exchange(other.owner_, nullptr)), ids_(std::move(other.ids_)) {}
    Claim& operator=(Claim&& other) noexcept {
      if (this != &other) {
        Release();
        owner_ = std::exchange(other.owner_, nullptr);
        ids_ = std::move(other.ids_);
      }
      return *this;
    }
    ~Claim() { Release(); }

   private:
    void Release() {
      if (owner_ != nullptr) owner_->Release(ids_);
      owner_ = nullptr;
    }
    std::shared_ptr<InFlight> owner_;
    std::vector<std::string> ids_;
  };

  // Claims every one of `events`, for the first publish after a change or a
  // Drain: they are published whoever else is publishing them.
  Claim Take(const std::vector<kafka::OutgoingEvent>& events) {
    std::vector<std::string> ids;
    ids.reserve(events.size());
    std::lock_guard lock(mu_);
    for (const kafka::OutgoingEvent& event : events) {
      ++count_[event.id];
      ids.push_back(event.id);
    }
    return Claim(shared_from_this(), std::move(ids));
  }

  // For the relay: claims those of `events` (in publishing order) that no
  // publish in this process holds, and marks them in `free`. An event whose
  // aggregate (key) has an earlier event held, now or on an earlier page
  // (`held_keys`), is left too, so the relay does not put it ahead.
  Claim TakeFree(const std::vector<kafka::OutgoingEvent>& events,
                 absl::flat_hash_set<std::string>& held_keys, std::vector<bool>& free) {
    std::vector<std::string> ids;
    free.assign(events.size(), false);
    std::lock_guard lock(mu_);
    for (size_t i = 0; i < events.size(); ++i) {
      const kafka::OutgoingEvent& event = events[i];
      if (count_.contains(event.id) || held_keys.contains(event.key)) {
        held_keys.insert(event.key);
        continue;
      }
      ++count_[event.id];
      ids.push_back(event.id);
      free[i] = true;
    }
    return Claim(shared_from_this(), std::move(ids));
  }

 private:
  void Release(const std::vector<std::string>& ids) {
    std::lock_guard lock(mu_);
    for (const std::string& id : ids) {
      auto it = count_.find(id);
      if (it != count_.end() && --it->second <= 0) count_.erase(it);
    }
  }

  std::mutex mu_;
  // Publishes holding each id (a retried change may publish one twice).
  absl::flat_hash_map<std::string, int> count_;  // guarded by mu_
};

absl::StatusOr<StoredBatch> ParseStored(const std::string& tag, const redis::Reply& reply) {
  FLYWHEEL_ASSIGN_OR_RETURN(std::vector<redis::Reply> items, reply.AsArray());
  StoredBatch batch;
  for (size_t i = 0; i + 2 < items.size(); i += 3) {
    internal::StoredEvent stored;
    if (!stored.ParseFromString(items[i + 1].str())) {
      // Written by this library, so this is corruption: say so and
      // leave it, rather than publish something wrong.
      log::Error("outbox holds an event that does not parse",
                 {{"tag", tag}, {"event_id", items[i].str()}});
      continue;
    }
    batch.stored.push_back(
        absl::FromUnixMicros(static_cast<int64_t>(std::stod(items[i + 2].str()))));
    batch.events.push_back(FromStored(stored));
  }
  return batch;
}

}  // namespace

class RedisOutbox::Impl {
 public:
  Impl(redis::Pool& pool, kafka::EventPublisher& publisher, RedisOutboxOptions options,
       metrics::Metrics& metrics, const Clock& clock, redis::AsyncClient* async)
      : pool_(pool),
        async_(async),
        publisher_(publisher),
        options_(std::move(options)),
        metrics_(metrics),
        clock_(clock),
        instance_(NewRandomId("relay")) {
    // Fixed, valid scripts under distinct names: registering cannot fail.
    (void)scripts_.Register("outbox_remove", kRemoveScript);
    (void)scripts_.Register("outbox_read", kReadScript);
    (void)scripts_.Register("outbox_release", kReleaseScript);
  }

  std::string Key(const std::string& tag, const char* what) const {
    return absl::StrCat(options_.key_prefix, "outbox:{", tag, "}:", what);
  }
  std::string TagsKey() const { return options_.key_prefix + "outbox:tags"; }

  absl::StatusOr<ScriptArgs> ForScript(const std::string& tag,
                                       std::vector<kafka::OutgoingEvent>& events) {
    FLYWHEEL_RETURN_IF_ERROR(Remember(tag));
    return Encode(tag, events);
  }

  asio::awaitable<absl::StatusOr<ScriptArgs>> Prepared(const std::string& tag,
                                                       std::vector<kafka::OutgoingEvent>& events) {
    if (!Known(tag)) {
      if (async_ == nullptr) co_return NoAsyncClient();
      std::vector<std::string> add = {"SADD", TagsKey(), tag};
      absl::StatusOr<redis::Reply> added = co_await async_->Command(std::move(add));
      if (!added.ok()) co_return added.status();
      Learn(tag);
    }
    co_return Encode(tag, events);
  }

  ScriptArgs Encode(const std::string& tag, std::vector<kafka::OutgoingEvent>& events) {
    const absl::Time now = clock_.Now();
    ScriptArgs out{.keys = {Key(tag, "events"), Key(tag, "queue"), Key(tag, "busy")}};
    for (kafka::OutgoingEvent& event : events) {
      if (event.id.empty()) event.id = NewRandomId("evt");
      if (!event.time) event.time = now;
      // What is stored, so the events the caller publishes and those the
      // relay publishes carry the same time.
      event.time = absl::FromUnixMicros(Micros(*event.time));
      internal::StoredEvent stored;
      stored.set_topic(event.topic);
      stored.set_type(event.type);
      stored.set_key(event.key);
      stored.set_data(event.data);
      stored.set_subject(event.subject);
      stored.mutable_extensions()->insert(event.extensions.begin(), event.extensions.end());
      stored.set_id(event.id);
      stored.set_time_micros(Micros(*event.time));
      out.args.insert(out.args.end(), {event.id, stored.SerializeAsString(), event.key});
    }
    out.args.push_back(absl::StrCat(Micros(now)));
    out.args.push_back(absl::StrCat(events.size()));
    return out;
  }

  absl::Status Publish(const std::string& tag, const std::vector<kafka::OutgoingEvent>& events) {
    if (events.empty()) return absl::OkStatus();
    const InFlight::Claim claim = in_flight_->Take(events);
    if (auto published = publisher_.PublishAll(events); !published.ok()) {
      return PublishFailed(tag, events.size(), published.status());
    }
    if (absl::Status removed = Remove(tag, events); !removed.ok()) LeftStored(tag, removed);
    return absl::OkStatus();
  }

  asio::awaitable<absl::Status> Published(const std::string& tag,
                                          std::vector<kafka::OutgoingEvent> events) {
    if (events.empty()) co_return absl::OkStatus();
    if (async_ == nullptr) co_return NoAsyncClient();
    // Held until the removal has answered: however slow the broker's ack,
    // this process's relay does not publish these again meanwhile.
    const InFlight::Claim claim = in_flight_->Take(events);
    auto published = co_await kafka::Published(publisher_, events);
    if (!published.ok()) co_return PublishFailed(tag, events.size(), published.status());
    absl::StatusOr<redis::Reply> removed =
        co_await async_->Eval(scripts_, "outbox_remove", Keys(tag), RemoveArgs(events));
    if (!removed.ok()) LeftStored(tag, removed.status());
    co_return absl::OkStatus();
  }

  absl::Status Drain(const std::string& tag) {
    RelayReport report;
    absl::Status drained = PublishStored(tag, absl::InfiniteFuture(), Mode::kDrain, report);
    if (!drained.ok()) metrics_.CountPublishFailure();
    return drained;
  }

  // Drain's loop for coroutines: read a batch, publish it, remove it.
  asio::awaitable<absl::Status> Drained(const std::string& tag) {
    if (async_ == nullptr) co_return NoAsyncClient();
    RelayReport report;
    while (true) {
      // gcc 12 cannot take a braced list inside co_await: name them first.
      std::vector<std::string> read_keys = {Key(tag, "events"), Key(tag, "queue")};
      std::vector<std::string> read_args = {"+inf", absl::StrCat(options_.batch), "0"};
      absl::StatusOr<redis::Reply> reply = co_await async_->Eval(
          scripts_, "outbox_read", std::move(read_keys), std::move(read_args));
      if (!reply.ok()) co_return reply.status();
      absl::StatusOr<StoredBatch> batch = ParseStored(tag, *reply);
      if (!batch.ok()) co_return batch.status();
      if (batch->events.empty()) co_return absl::OkStatus();
      const InFlight::Claim claim = in_flight_->Take(batch->events);
      auto published = co_await kafka::Published(publisher_, batch->events);
      if (!published.ok()) {
        metrics_.CountPublishFailure();
        co_return Unpublished(*batch, published.status(), report);
      }
      absl::StatusOr<redis::Reply> removed =
          co_await async_->Eval(scripts_, "outbox_remove", Keys(tag), RemoveArgs(batch->events));
      if (!removed.ok()) co_return removed.status();
      Relayed(tag, batch->events, report);
      if (batch->events.size() < options_.batch) co_return absl::OkStatus();
    }
  }

  absl::StatusOr<RelayReport> RelayOnce() {
    std::vector<std::string> tags;
    {
      FLYWHEEL_ASSIGN_OR_RETURN(auto conn, pool_.Acquire(kAcquireTimeout));
      FLYWHEEL_ASSIGN_OR_RETURN(redis::Reply reply, conn->Command({"SMEMBERS", TagsKey()}));
      FLYWHEEL_ASSIGN_OR_RETURN(std::vector<redis::Reply> members, reply.AsArray());
      for (const redis::Reply& member : members) {
        FLYWHEEL_ASSIGN_OR_RETURN(std::string tag, member.AsString());
        tags.push_back(std::move(tag));
      }
    }
    const absl::Time now = clock_.Now();
    RelayReport report;
    for (const std::string& tag : tags) {
      FLYWHEEL_ASSIGN_OR_RETURN(bool leased, TakeLease(tag));
      if (!leased) continue;  // another replica relays this tag now
      absl::Status published = PublishStored(tag, now - options_.grace, Mode::kRelay, report);
      (void)ReleaseLease(tag);
      if (!published.ok() && published.code() != absl::StatusCode::kUnavailable) return published;
    }
    metrics_.RecordRelayPass(report.relayed, report.left, report.oldest);
    return report;
  }

 private:
  // Records `tag` for the relay once per process.
  absl::Status Remember(const std::string& tag) {
    if (Known(tag)) return absl::OkStatus();
    FLYWHEEL_ASSIGN_OR_RETURN(auto conn, pool_.Acquire(kAcquireTimeout));
    FLYWHEEL_RETURN_IF_ERROR(conn->Command({"SADD", TagsKey(), tag}).status());
    Learn(tag);
    return absl::OkStatus();
  }
  bool Known(const std::string& tag) {
    std::lock_guard lock(mu_);
    return known_tags_.contains(tag);
  }
  void Learn(const std::string& tag) {
    std::lock_guard lock(mu_);
    known_tags_.insert(tag);
  }

  // The events, queue and busy keys of a tag, as kRemoveScript takes them.
  std::vector<std::string> Keys(const std::string& tag) const {
    return {Key(tag, "events"), Key(tag, "queue"), Key(tag, "busy")};
  }

  absl::Status Remove(const std::string& tag, const std::vector<kafka::OutgoingEvent>& events) {
    FLYWHEEL_ASSIGN_OR_RETURN(auto conn, pool_.Acquire(kAcquireTimeout));
    return scripts_.Eval(*conn, "outbox_remove", Keys(tag), RemoveArgs(events)).status();
  }

  absl::Status PublishFailed(const std::string& tag, size_t events, const absl::Status& why) {
    metrics_.CountPublishFailure();
    log::Warn("outbox publish failed; the relay publishes the events later",
              {{"tag", tag}, {"events", static_cast<int64_t>(events)}, {"error", why.ToString()}});
    return absl::UnavailableError("the events could not be published yet: " + why.ToString());
  }

  // Published but still stored: the relay publishes them again under the
  // same ids, which consumers deduplicate.
  static void LeftStored(const std::string& tag, const absl::Status& why) {
    log::Warn("outbox could not remove published events",
              {{"tag", tag}, {"error", why.ToString()}});
  }

  absl::Status Unpublished(const StoredBatch& batch, const absl::Status& why,
                           RelayReport& report) const {
    report.left += static_cast<int>(batch.events.size());
    if (!batch.stored.empty()) {
      report.oldest = std::max(report.oldest, clock_.Now() - batch.stored.front());
    }
    return absl::UnavailableError("the outbox could not publish: " + why.ToString());
  }

  static void Relayed(const std::string& tag, const std::vector<kafka::OutgoingEvent>& events,
                      RelayReport& report) {
    report.relayed += static_cast<int>(events.size());
    for (const kafka::OutgoingEvent& event : events) {
      log::Info("outbox relayed an event",
                {{"tag", tag}, {"event_id", event.id}, {"type", event.type}, {"key", event.key}});
    }
  }

  // Who publishes what is stored: a Drain publishes everything, the relay
  // only what no publish in this process holds (InFlight).
  enum class Mode { kDrain, kRelay };

  // Publishes the events of `tag` stored at or before `stored_before`,
  // oldest first, a batch at a time, removing each batch once acknowledged;
  // counts them in `report`, and on a broker failure the batch it had to
  // leave. The relay passes over the events held by a publish in this
  // process (they stay stored, so it reads on past them); one that ends
  // between two reads may make it miss an event until the next pass.
  absl::Status PublishStored(const std::string& tag, absl::Time stored_before, Mode mode,
                             RelayReport& report) {
    const std::string max = stored_before == absl::InfiniteFuture()
                                ? std::string("+inf")
                                : absl::StrCat(Micros(stored_before));
    size_t passed_over = 0;
    absl::flat_hash_set<std::string> held_keys;
    while (true) {
      StoredBatch read;
      {
        FLYWHEEL_ASSIGN_OR_RETURN(auto conn, pool_.Acquire(kAcquireTimeout));
        FLYWHEEL_ASSIGN_OR_RETURN(
            redis::Reply reply,
            scripts_.Eval(*conn, "outbox_read", {Key(tag, "events"), Key(tag, "queue")},
                          {max, absl::StrCat(options_.batch), absl::StrCat(passed_over)}));
        FLYWHEEL_ASSIGN_OR_RETURN(read, ParseStored(tag, reply));
      }
      if (read.events.empty()) return absl::OkStatus();
      const bool last = read.events.size() < options_.batch;
      StoredBatch batch;
      InFlight::Claim claim;
      if (mode == Mode::kDrain) {
        claim = in_flight_->Take(read.events);
        batch = std::move(read);
      } else {
        std::vector<bool> free;
        claim = in_flight_->TakeFree(read.events, held_keys, free);
        for (size_t i = 0; i < read.events.size(); ++i) {
          if (free[i]) {
            batch.events.push_back(std::move(read.events[i]));
            batch.stored.push_back(read.stored[i]);
          } else {
            ++passed_over;
            ++report.publishing;
          }
        }
      }
      if (!batch.events.empty()) {
        if (auto published = publisher_.PublishAll(batch.events); !published.ok()) {
          return Unpublished(batch, published.status(), report);
        }
        FLYWHEEL_RETURN_IF_ERROR(Remove(tag, batch.events));
        Relayed(tag, batch.events, report);
      }
      if (last) return absl::OkStatus();
    }
  }

  absl::StatusOr<bool> TakeLease(const std::string& tag) {
    FLYWHEEL_ASSIGN_OR_RETURN(auto conn, pool_.Acquire(kAcquireTimeout));
    FLYWHEEL_ASSIGN_OR_RETURN(
        redis::Reply reply,
        conn->Command({"SET", Key(tag, "lease"), instance_, "NX", "PX",
                       absl::StrCat(absl::ToInt64Milliseconds(options_.grace))}));
    return !reply.is_nil();
  }

  absl::Status ReleaseLease(const std::string& tag) {
    FLYWHEEL_ASSIGN_OR_RETURN(auto conn, pool_.Acquire(kAcquireTimeout));
    return scripts_.Eval(*conn, "outbox_release", {Key(tag, "lease")}, {instance_}).status();
  }

  redis::Pool& pool_;
  redis::AsyncClient* const async_;  // may be null
  kafka::EventPublisher& publisher_;
  const RedisOutboxOptions options_;
  OutboxMetrics metrics_;
  const Clock& clock_;
  // Names this process's relay in the leases it takes.
  const std::string instance_;
  redis::ScriptRegistry scripts_;
  const std::shared_ptr<InFlight> in_flight_ = std::make_shared<InFlight>();
  std::mutex mu_;
  absl::flat_hash_set<std::string> known_tags_;  // guarded by mu_
};

RedisOutbox::RedisOutbox(redis::Pool& pool, kafka::EventPublisher& publisher,
                         RedisOutboxOptions options, metrics::Metrics& metrics, const Clock& clock,
                         redis::AsyncClient* async)
    : impl_(std::make_unique<Impl>(pool, publisher, std::move(options), metrics, clock, async)) {}

RedisOutbox::~RedisOutbox() = default;

absl::StatusOr<RedisOutbox::ScriptArgs> RedisOutbox::ForScript(
    const std::string& tag, std::vector<kafka::OutgoingEvent>& events) {
  return impl_->ForScript(tag, events);
}

absl::Status RedisOutbox::Publish(const std::string& tag,
                                  const std::vector<kafka::OutgoingEvent>& events) {
  return impl_->Publish(tag, events);
}

absl::Status RedisOutbox::Drain(const std::string& tag) { return impl_->Drain(tag); }

asio::awaitable<absl::StatusOr<RedisOutbox::ScriptArgs>> RedisOutbox::Prepared(
    std::string tag, std::vector<kafka::OutgoingEvent>& events) {
  co_return co_await impl_->Prepared(tag, events);
}

asio::awaitable<absl::Status> RedisOutbox::Published(std::string tag,
                                                     std::vector<kafka::OutgoingEvent> events) {
  co_return co_await impl_->Published(tag, std::move(events));
}

asio::awaitable<absl::Status> RedisOutbox::Drained(std::string tag) {
  co_return co_await impl_->Drained(tag);
}

asio::awaitable<absl::Status> Outbox::Published(std::string tag,
                                                std::vector<kafka::OutgoingEvent> events) {
  co_return Publish(tag, events);
}

asio::awaitable<absl::Status> Outbox::Drained(std::string tag) { co_return Drain(tag); }

absl::StatusOr<RelayReport> RedisOutbox::RelayOnce() { return impl_->RelayOnce(); }

}  // namespace flywheel::outbox
