#include "scheduler_app.h"

#include "calendar_feeds.h"
#include "calendar_journal.h"
#include "claimer.h"
#include "flywheel/async/spawn.h"
#include "flywheel/core/status.h"
#include "flywheel/events/catalog.h"
#include "flywheel/http/server.h"
#include "flywheel/kafka/admin.h"
#include "flywheel/kafka/awaited_handlers.h"
#include "flywheel/kafka/payload.h"
#include "flywheel/log/log.h"
#include "flywheel/runtime/service_kit.h"
#include "policy_parser.h"
#include "publishing.h"
#include "recurring_journal.h"
#include "recurring_works.h"
#include "redis_recurring_store.h"
#include "redis_slot_store.h"
#include "redis_timer_store.h"
#include "request_timers.h"
#include "scheduler_grpc.h"
#include "scheduler_metrics.h"
#include "slot_journal.h"
#include "slot_timers.h"
#include "timer_journal.h"
#include "timers.h"

namespace flywheel::scheduler {
namespace {

runtime::ServiceDeclaration Declaration() {
  return {
      .name = "scheduler",
      .owned_topics = {{.name = events::kTimerRequestsTopic,
                        .partitions = events::kStreamPartitions},
                       {.name = events::kSlaTopic, .partitions = events::kStreamPartitions},
                       {.name = events::kPublishingTopic, .partitions = events::kStreamPartitions},
                       {.name = events::kPublishResultsTopic,
                        .partitions = events::kStreamPartitions},
                       {.name = events::kSchedulerDeadLetterTopic, .partitions = 1},
                       // One record per live timer is what a rebuild reads.
                       {.name = events::kTimerJournalTopic,
                        .partitions = events::kStreamPartitions,
                        .configs = {{"cleanup.policy", "compact"}}},
                       // And one per slot, blackout, approval and recurring work.
                       {.name = events::kCalendarJournalTopic,
                        .partitions = events::kStreamPartitions,
                        .configs = {{"cleanup.policy", "compact"}}}},
      .dead_letter_topic = events::kSchedulerDeadLetterTopic,
      .consumers = {{.name = "timer_requests",
                     .topics = {events::kTimerRequestsTopic},
                     .group = "flywheel-scheduler"},
                    // approval.completed releases slots; approval owns the topic.
                    {.name = "approvals",
                     .topics = {events::kApprovalsTopic},
                     .group = "flywheel-scheduler-approvals",
                     .properties = {{"topic.metadata.refresh.interval.ms", "2000"}}},
                    {.name = "publish_results",
                     .topics = {events::kPublishResultsTopic},
                     .group = "flywheel-scheduler-publish-results"}},
      .policy_file_key = kPolicyFileKey,
  };
}

// The most points one claim may take.
constexpr int64_t kMostPerClaim = static_cast<int64_t>(kMaxClaimBatch);

// Where recurring work's occurrences are armed: a timer store of their own
// beside the SLA timers', small since such work is counted in thousands.
// Both counts are its data layout (see RedisTimerStoreOptions).
RedisTimerStoreOptions OccurrenceStoreOptions(const std::string& key_prefix) {
  return {.key_prefix = key_prefix + "recur:", .shards = 4, .buckets_per_shard = 64};
}

// The scheduler's own config keys.
struct OwnSettings {
  ClaimerOptions claimer;
  uint32_t shards = 16;
  // Where calendar apps fetch signed feeds; empty serves none.
  std::string feeds_listen;
  // What signs their addresses; set when feeds_listen is.
  std::optional<FeedLinks> feed_links;
};

absl::Status ReadOwn(config::Config& config, OwnSettings& own) {
  own.claimer.batch = static_cast<size_t>(
      config.Get<int64_t>("scheduler.claimer.batch", static_cast<int64_t>(own.claimer.batch),
                          config::InRange(int64_t{1}, kMostPerClaim)));
  own.claimer.lease = config.Get<absl::Duration>("scheduler.claimer.lease", own.claimer.lease,
                                                 config::InRange(absl::Seconds(1), absl::Hours(1)));
  own.claimer.max_idle =
      config.Get<absl::Duration>("scheduler.claimer.max_idle", own.claimer.max_idle,
                                 config::InRange(absl::Milliseconds(10), absl::Minutes(5)));
  own.claimer.in_flight = static_cast<size_t>(config.Get<int64_t>(
      "scheduler.claimer.in_flight", static_cast<int64_t>(own.claimer.in_flight),
      config::InRange(int64_t{1}, int64_t{64})));
  own.shards = static_cast<uint32_t>(config.Get<int64_t>(
      "scheduler.timer_shards", own.shards, config::InRange(int64_t{1}, int64_t{1024})));
  own.feeds_listen = config.Get<std::string>("scheduler.feeds.listen", "");
  const std::string secret_file = config.Get<std::string>("scheduler.feeds.secret_file", "");
  if (own.feeds_listen.empty()) return absl::OkStatus();
  if (secret_file.empty()) {
    return absl::InvalidArgumentError(
        "scheduler.feeds.secret_file: is required when scheduler.feeds.listen is set (the "
        "secret that signs feed addresses)");
  }
  FLYWHEEL_ASSIGN_OR_RETURN(std::string secret, ReadFeedSecret(secret_file));
  own.feed_links.emplace(std::move(secret));
  return absl::OkStatus();
}

// Where a rebuild writes: the Redis stores behind the journals, so nothing
// rebuilt is journaled again.
struct RebuildTargets {
  // SLA timers (the store indexes them by request again).
  TimerStore& timers;
  // The publishing slots' points.
  TimerStore& publish_points;
  SlotStore& slots;
  // Restores recurring work and arms its next occurrences.
  RecurringWorks& recurring;
};

// Redis holds the scheduler's state while this key exists: it is written at
// first start and after every rebuild. Gone, Redis lost it (wiped, or a
// failover to an empty server), and the calendar, the recurring work and
// the timers are written back from their journals before anything else
// runs. (The key's name predates the calendar journal; it speaks for both.)
absl::Status RebuildIfWiped(runtime::ServiceKit& kit, const RebuildTargets& into,
                            const std::string& key_prefix) {
  const std::string marker = key_prefix + "sched:timers-present";
  std::vector<std::string> exists = {"EXISTS", marker};
  auto found = async::BlockOn(kit.io(), kit.redis_async().Command(std::move(exists)));
  if (!found.ok()) return found.status();
  if (found->is_integer() && found->integer() == 1) return absl::OkStatus();
  const std::string& bootstrap = kit.settings().kafka_bootstrap_servers;
  const std::string calendar_topic = kit.Topic(events::kCalendarJournalTopic);
  FLYWHEEL_ASSIGN_OR_RETURN(auto calendar, kafka::LatestValues(bootstrap, calendar_topic));
  // The slots first, so their points find them when they fire.
  FLYWHEEL_ASSIGN_OR_RETURN(
      RebuiltCalendar rebuilt,
      async::BlockOn(kit.io(), RebuildCalendar(into.slots, into.recurring, calendar)));
  const std::string timer_topic = kit.Topic(events::kTimerJournalTopic);
  FLYWHEEL_ASSIGN_OR_RETURN(auto timers, kafka::LatestValues(bootstrap, timer_topic));
  FLYWHEEL_ASSIGN_OR_RETURN(
      size_t armed,
      async::BlockOn(kit.io(), RebuildTimers(into.timers, into.publish_points, timers)));
  std::vector<std::string> set = {"SET", marker, "1"};
  auto marked = async::BlockOn(kit.io(), kit.redis_async().Command(std::move(set)));
  if (!marked.ok()) return marked.status();
  if (armed + rebuilt.slots + rebuilt.blackouts + rebuilt.approvals + rebuilt.recurring > 0) {
    log::Warn("Redis had lost the scheduler's state: written back from the journals",
              {{"timers", armed},
               {"slots", rebuilt.slots},
               {"blackouts", rebuilt.blackouts},
               {"approvals", rebuilt.approvals},
               {"recurring", rebuilt.recurring}});
  }
  return absl::OkStatus();
}

// The scheduler's domain objects on the kit's parts.
class App final : public runtime::App {
 public:
  App(std::unique_ptr<runtime::ServiceKit> kit, std::unique_ptr<RedisTimerStore> store,
      std::unique_ptr<RedisTimerStore> occurrence_store, const TimerStoreWrapper& wrap,
      std::shared_ptr<const Policy> shipped, const OwnSettings& own, const Clock& clock,
      const std::string& key_prefix)
      : kit_(std::move(kit)),
        store_(std::move(store)),
        occurrence_store_(std::move(occurrence_store)),
        journal_(*store_, kit_->producer(), kit_->Topic(events::kTimerJournalTopic)),
        wrapped_(wrap ? wrap(journal_) : nullptr),
        key_prefix_(key_prefix),
        slots_(kit_->redis_async(), key_prefix),
        journaled_slots_(slots_, kit_->producer(), kit_->Topic(events::kCalendarJournalTopic)),
        // Not indexed: a slot's point is no request's SLA timer.
        slot_points_(*store_, kit_->producer(), kit_->Topic(events::kTimerJournalTopic)),
        slot_timers_(slot_points_, [this](absl::Time due) { claimer_.DueAt(due); }),
        policy_(std::move(shipped)),
        scheduler_metrics_(kit_->metrics()),
        timers_(
            policy_, wrapped_ ? *wrapped_ : journal_, kit_->publisher(),
            kit_->Topic(events::kSlaTopic), scheduler_metrics_, clock,
            [this](absl::Time due) { claimer_.DueAt(due); },
            [this](const StoredTimer& timer) { return publishing_.FireTimer(timer); }),
        claimer_(timers_, kit_->io(), clock, own.claimer,
                 [this](absl::Duration overdue) { scheduler_metrics_.SetTimersOverdue(overdue); }),
        requests_(timers_, *store_, clock),
        publishing_(policy_, journaled_slots_, slot_timers_, kit_->Topic(events::kPublishingTopic),
                    clock),
        feeds_(publishing_, clock, own.feed_links),
        calendars_(policy_, clock),
        feeds_listen_(own.feeds_listen),
        recurring_store_(kit_->redis_async(), key_prefix),
        journaled_recurring_(recurring_store_, kit_->producer(),
                             kit_->Topic(events::kCalendarJournalTopic)),
        recurring_(journaled_recurring_, *occurrence_store_, kit_->publisher(),
                   kit_->Topic(events::kSubmissionsTopic), clock,
                   [this](absl::Time due) { recurring_claimer_.DueAt(due); }),
        recurring_claimer_(
            recurring_, kit_->io(), clock, own.claimer,
            [this](absl::Duration overdue) { scheduler_metrics_.SetRecurringOverdue(overdue); }) {}

  ~App() override { Stop(); }

  absl::Status Run() {
    const RebuildTargets targets = {
        .timers = *store_, .publish_points = *store_, .slots = slots_, .recurring = recurring_};
    FLYWHEEL_RETURN_IF_ERROR(RebuildIfWiped(*kit_, targets, key_prefix_));
    FLYWHEEL_RETURN_IF_ERROR(kit_->WatchPolicy(policy_, &LoadPolicyFile));
    FLYWHEEL_RETURN_IF_ERROR(kit_->Consume(
        "timer_requests",
        kafka::AwaitEach(kit_->io(), [this](const kafka::ConsumedEvent& c) { return Handle(c); })));
    FLYWHEEL_RETURN_IF_ERROR(kit_->Consume(
        "approvals", kafka::AwaitEach(kit_->io(), [this](const kafka::ConsumedEvent& c) {
          return HandleApproval(c);
        })));
    FLYWHEEL_RETURN_IF_ERROR(kit_->Consume(
        "publish_results", kafka::AwaitEach(kit_->io(), [this](const kafka::ConsumedEvent& c) {
          return HandlePublishResult(c);
        })));
    claimer_.Start();
    recurring_claimer_.Start();
    FLYWHEEL_ASSIGN_OR_RETURN(guard_, kit_->Guard(SchedulerRoles()));
    grpc_ = std::make_unique<SchedulerGrpc>(timers_, requests_, publishing_, feeds_, recurring_,
                                            calendars_, *guard_, kit_->io());
    if (!feeds_listen_.empty()) {
      FLYWHEEL_ASSIGN_OR_RETURN(
          feed_server_,
          http::Server::Start(feeds_listen_, {{kFeedPath, [this](const http::Request& r) {
                                                 return feeds_.Serve(kit_->io(), r);
                                               }}}));
      log::Info("serving calendar feeds", {{"port", feed_server_->port()}});
    }
    return kit_->Serve({grpc_.get()});
  }

  int feed_port() const { return feed_server_ ? feed_server_->port() : 0; }

  int grpc_port() const override { return kit_->grpc_port(); }
  void Stop() override {
    if (stopped_) return;
    stopped_ = true;
    // Feed requests wait on io(): they end before it stops.
    feed_server_.reset();
    claimer_.Stop();
    recurring_claimer_.Stop();
    kit_->Stop();
  }
  void WakeClaimer() {
    claimer_.Wake();
    recurring_claimer_.Wake();
  }

 private:
  asio::awaitable<absl::Status> Handle(const kafka::ConsumedEvent& consumed) {
    if (consumed.event.type != events::kTimerRequested) co_return absl::OkStatus();
    v1::TimerRequested request;
    FLYWHEEL_CO_RETURN_IF_ERROR(kafka::DecodeData(consumed.event, request));
    co_return co_await timers_.Apply(request);
  }

  // approval.completed: which requests may publish.
  asio::awaitable<absl::Status> HandleApproval(const kafka::ConsumedEvent& consumed) {
    if (consumed.event.type != events::kApprovalCompleted) co_return absl::OkStatus();
    approval::v1::ApprovalCompleted completed;
    FLYWHEEL_CO_RETURN_IF_ERROR(kafka::DecodeData(consumed.event, completed));
    co_return co_await publishing_.ApprovalCompleted(completed);
  }

  // publish.done and publish.failed from the connectors.
  asio::awaitable<absl::Status> HandlePublishResult(const kafka::ConsumedEvent& consumed) {
    if (consumed.event.type == events::kPublishDone) {
      v1::PublishDone done;
      FLYWHEEL_CO_RETURN_IF_ERROR(kafka::DecodeData(consumed.event, done));
      co_return co_await publishing_.Done(done);
    }
    if (consumed.event.type == events::kPublishFailed) {
      v1::PublishFailed failed;
      FLYWHEEL_CO_RETURN_IF_ERROR(kafka::DecodeData(consumed.event, failed));
      co_return co_await publishing_.Failed(failed);
    }
    co_return absl::OkStatus();
  }

  std::unique_ptr<runtime::ServiceKit> kit_;
  std::unique_ptr<RedisTimerStore> store_;
  std::unique_ptr<RedisTimerStore> occurrence_store_;
  JournaledTimerStore journal_;
  // A test's store in front of journal_ (StartSchedulerOn's `wrap`), or null.
  std::unique_ptr<TimerStore> wrapped_;
  const std::string key_prefix_;
  RedisSlotStore slots_;
  JournaledSlotStore journaled_slots_;
  JournaledTimerStore slot_points_;
  SlotTimers slot_timers_;
  PolicyHolder policy_;
  SchedulerMetrics scheduler_metrics_;
  Timers timers_;
  Claimer claimer_;
  RequestTimers requests_;
  Publishing publishing_;
  CalendarFeeds feeds_;
  PolicyCalendars calendars_;
  const std::string feeds_listen_;
  std::unique_ptr<http::Server> feed_server_;
  RedisRecurringStore recurring_store_;
  JournaledRecurringStore journaled_recurring_;
  RecurringWorks recurring_;
  Claimer recurring_claimer_;
  std::unique_ptr<rpc::Guard> guard_;
  std::unique_ptr<SchedulerGrpc> grpc_;
  bool stopped_ = false;
};

}  // namespace

absl::Status ValidatePolicyFile(const std::string& path) { return LoadPolicyFile(path).status(); }

absl::StatusOr<std::unique_ptr<runtime::App>> StartSchedulerOn(
    const runtime::CommonSettings& settings, config::Config& config, metrics::Metrics& metrics,
    const Clock& clock, TimerStoreWrapper wrap) {
  // The built-in policy is parsed first, so a broken default fails loudly.
  FLYWHEEL_ASSIGN_OR_RETURN(Policy shipped, ParsePolicy(DefaultPolicyYaml()));
  OwnSettings own;
  FLYWHEEL_ASSIGN_OR_RETURN(auto kit, runtime::ServiceKit::Connect(
                                          Declaration(), settings, config, metrics,
                                          [&own](config::Config& c) { return ReadOwn(c, own); }));
  FLYWHEEL_ASSIGN_OR_RETURN(
      auto store,
      RedisTimerStore::Create(
          kit->redis_async(),
          {.key_prefix = settings.redis_key_prefix, .shards = own.shards, .index_requests = true}));
  FLYWHEEL_ASSIGN_OR_RETURN(
      auto occurrence_store,
      RedisTimerStore::Create(kit->redis_async(),
                              OccurrenceStoreOptions(settings.redis_key_prefix)));
  auto app = std::make_unique<App>(std::move(kit), std::move(store), std::move(occurrence_store),
                                   wrap, std::make_shared<const Policy>(std::move(shipped)), own,
                                   clock, settings.redis_key_prefix);
  FLYWHEEL_RETURN_IF_ERROR(app->Run());
  return app;
}

absl::StatusOr<std::unique_ptr<runtime::App>> StartScheduler(
    const runtime::CommonSettings& settings, config::Config& config, metrics::Metrics& metrics) {
  return StartSchedulerOn(settings, config, metrics, SystemClock::Instance());
}

void WakeClaimer(runtime::App& app) {
  if (auto* scheduler = dynamic_cast<App*>(&app)) scheduler->WakeClaimer();
}

int FeedPort(runtime::App& app) {
  auto* scheduler = dynamic_cast<App*>(&app);
  return scheduler ? scheduler->feed_port() : 0;
}

}  // namespace flywheel::scheduler
