#include "recurring_works.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "flywheel/async/when_all.h"
#include "flywheel/core/field_errors.h"
#include "flywheel/core/page_token.h"
#include "flywheel/core/proto_time.h"
#include "flywheel/core/status.h"
#include "flywheel/events/catalog.h"
#include "flywheel/intake/v1/events.pb.h"
#include "flywheel/kafka/published.h"
#include "flywheel/log/log.h"
#include "recurrence.h"

namespace flywheel::scheduler {
namespace {

constexpr size_t kMaxIdLength = 100;
constexpr absl::Duration kMaxLeadTime = absl::Hours(24 * 366);
// Who files the requests, as RequestSubmissionReceived.origin says.
constexpr char kOrigin[] = "flywheel-scheduler";

bool IsIdChar(char c) { return absl::ascii_isalnum(c) || c == '_' || c == '-' || c == '.'; }

// The rule of stored work, which was valid when stored; nullopt (logged)
// when it no longer parses (a zone gone from the system's zone files).
std::optional<Recurrence> RuleOf(const v1::RecurringWork& work) {
  FieldErrors errors;
  std::optional<Recurrence> rule = Recurrence::Parse(work.rrule(), work.time_zone(),
                                                     FromProtoTime(work.start_time()), "", errors);
  if (!rule) {
    log::Warn("stored recurring work no longer parses; nothing more is filed for it",
              {{"tenant", work.tenant_id()},
               {"recurrence_id", work.recurrence_id()},
               {"error", errors.ToStatus().ToString()}});
  }
  return rule;
}

// When the submission for `occurrence` goes out, as the timer store keeps
// it; in the past means at once.
absl::Time SubmitTime(const v1::RecurringWork& work, absl::Time occurrence) {
  return ToStoredTime(occurrence - FromProtoDuration(work.lead_time()));
}

FirePoint PointOf(const v1::RecurringWork& work, absl::Time occurrence) {
  return FirePoint{
      .kind = PointKind::kBreach, .escalation_level = 0, .due = SubmitTime(work, occurrence)};
}

kafka::OutgoingEvent SubmissionOf(const v1::RecurringWork& work, absl::Time occurrence,
                                  const std::string& topic) {
  intake::v1::RequestSubmissionReceived submission;
  submission.set_tenant_id(work.tenant_id());
  submission.set_idempotency_key(OccurrenceKey(work.recurrence_id(), occurrence));
  *submission.mutable_spec() = work.spec();
  if (FromProtoDuration(work.lead_time()) > absl::ZeroDuration()) {
    *submission.mutable_spec()->mutable_due_time() = ToProtoTime(occurrence);
  } else {
    submission.mutable_spec()->clear_due_time();
  }
  submission.set_origin(kOrigin);
  kafka::OutgoingEvent event;
  event.topic = topic;
  event.type = events::kRequestSubmissionReceived;
  event.key = submission.idempotency_key();
  event.id = absl::StrCat("evt_recurring_", work.tenant_id(), "_", work.recurrence_id(), "_",
                          absl::ToUnixMillis(occurrence));
  event.time = SubmitTime(work, occurrence);
  event.extensions = {{"tenant", work.tenant_id()}};
  event.data = submission.SerializeAsString();
  return event;
}

}  // namespace

std::string OccurrenceKey(const std::string& recurrence_id, absl::Time occurrence) {
  return absl::StrCat("recurring:", recurrence_id, ":",
                      absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", occurrence, absl::UTCTimeZone()));
}

RecurringWorks::RecurringWorks(RecurringStore& works, TimerStore& occurrences,
                               kafka::EventPublisher& publisher, std::string submissions_topic,
                               const Clock& clock, std::function<void(absl::Time)> on_armed)
    : works_(works),
      occurrences_(occurrences),
      publisher_(publisher),
      submissions_topic_(std::move(submissions_topic)),
      clock_(clock),
      on_armed_(std::move(on_armed)) {}

asio::awaitable<absl::StatusOr<v1::RecurringWork>> RecurringWorks::Upsert(
    const v1::UpsertRecurringWorkRequest& request) {
  const v1::RecurringWork& given = request.recurring_work();
  FieldErrors errors;
  if (given.tenant_id().empty()) errors.Add("recurring_work.tenant_id", "is required");
  const std::string& id = given.recurrence_id();
  if (id.empty()) {
    errors.Add("recurring_work.recurrence_id", "is required");
  } else if (id.size() > kMaxIdLength || !std::all_of(id.begin(), id.end(), IsIdChar)) {
    errors.Add("recurring_work.recurrence_id",
               absl::StrCat("must be at most ", kMaxIdLength, " letters, digits, '_', '-' or '.'"));
  }
  const absl::Time now = clock_.Now();
  // An occurrence already filed (lead_time ahead of it) is not filed again
  // for a change made before it: the next one comes after it.
  absl::Time floor = now;
  if (!given.tenant_id().empty() && !id.empty()) {
    FLYWHEEL_CO_ASSIGN_OR_RETURN(std::optional<absl::Time> filed,
                                 co_await works_.LastFiled(given.tenant_id(), id));
    if (filed) floor = std::max(floor, *filed);
  }
  std::optional<absl::Time> next;
  if (!given.has_start_time()) {
    errors.Add("recurring_work.start_time",
               "is required: the first occurrence, whose wall-clock time in time_zone is the "
               "time of day the rule keeps");
  } else {
    const absl::Time start = FromProtoTime(given.start_time());
    if (std::optional<Recurrence> rule =
            Recurrence::Parse(given.rrule(), given.time_zone(), start, "recurring_work.", errors)) {
      next = rule->After(std::max(floor, start - absl::Milliseconds(1)));
      if (!next) {
        errors.Add("recurring_work.rrule",
                   absl::StrCat("'", given.rrule(), "' never fires after ",
                                absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", std::max(floor, start),
                                                 absl::UTCTimeZone())));
      }
    }
  }
  const absl::Duration lead = FromProtoDuration(given.lead_time());
  if (lead < absl::ZeroDuration() || lead > kMaxLeadTime) {
    errors.Add("recurring_work.lead_time", "must be between 0 and 366 days");
  }
  if (!given.has_spec()) {
    errors.Add("recurring_work.spec", "is required: the request filed at each occurrence");
  } else if (given.spec().request_type_id().empty()) {
    errors.Add("recurring_work.spec.request_type_id", "is required");
  }
  if (request.expected_revision() < 0) errors.Add("expected_revision", "must not be negative");
  if (!errors.empty()) co_return errors.ToStatus();

  v1::RecurringWork work = given;
  work.clear_next_occurrence_time();
  if (work.enabled()) *work.mutable_next_occurrence_time() = ToProtoTime(*next);
  FLYWHEEL_CO_ASSIGN_OR_RETURN(v1::RecurringWork stored,
                               co_await works_.Put(work, request.expected_revision()));
  // Stored first: a point armed for an older revision that fires finds the
  // work moved on and follows it (see ClaimDue).
  FLYWHEEL_CO_RETURN_IF_ERROR(co_await ArmNext(stored));
  co_return stored;
}

asio::awaitable<absl::Status> RecurringWorks::ArmNext(const v1::RecurringWork& work) {
  if (!work.has_next_occurrence_time()) {
    FLYWHEEL_CO_ASSIGN_OR_RETURN(
        bool removed, co_await occurrences_.Cancel(work.tenant_id(), work.recurrence_id()));
    (void)removed;
    co_return absl::OkStatus();
  }
  TimerArm arm;
  arm.tenant_id = work.tenant_id();
  arm.timer_id = work.recurrence_id();
  arm.spec.start_time = clock_.Now();
  arm.next = PointOf(work, FromProtoTime(work.next_occurrence_time()));
  FLYWHEEL_CO_ASSIGN_OR_RETURN(StoredTimer armed, co_await occurrences_.Arm(arm));
  if (on_armed_) on_armed_(armed.next.due);
  co_return absl::OkStatus();
}

asio::awaitable<absl::Status> RecurringWorks::Restore(const v1::RecurringWork& work,
                                                      std::optional<absl::Time> filed) {
  FLYWHEEL_CO_RETURN_IF_ERROR(co_await works_.Restore(work, filed));
  co_return co_await ArmNext(work);
}

asio::awaitable<absl::StatusOr<v1::ListRecurringWorkResponse>> RecurringWorks::List(
    const v1::ListRecurringWorkRequest& request) {
  FieldErrors errors;
  if (request.tenant_id().empty()) errors.Add("tenant_id", "is required");
  absl::StatusOr<size_t> size = PageSizeOf(request.page_size());
  if (!size.ok()) errors.Add("page_size", "must not be negative");
  const absl::Time now = clock_.Now();
  std::string after;
  if (!request.page_token().empty()) {
    absl::StatusOr<std::string> cursor = DecodePageToken(request.page_token(), request, now);
    if (cursor.ok()) {
      after = *std::move(cursor);
    } else {
      errors.Add("page_token", std::string(cursor.status().message()));
    }
  }
  if (!errors.empty()) co_return errors.ToStatus();
  // One past the page is read, so the last page has no token.
  FLYWHEEL_CO_ASSIGN_OR_RETURN(std::vector<v1::RecurringWork> works,
                               co_await works_.List(request.tenant_id(), after, *size + 1));
  v1::ListRecurringWorkResponse out;
  const bool more = works.size() > *size;
  if (more) works.resize(*size);
  for (v1::RecurringWork& w : works) *out.add_recurring_work() = std::move(w);
  if (more) {
    const std::string& last = out.recurring_work(out.recurring_work_size() - 1).recurrence_id();
    out.set_next_page_token(EncodePageToken(request, now, last));
  }
  co_return out;
}

asio::awaitable<absl::Status> RecurringWorks::Delete(
    const v1::DeleteRecurringWorkRequest& request) {
  FieldErrors errors;
  if (request.tenant_id().empty()) errors.Add("tenant_id", "is required");
  if (request.recurrence_id().empty()) errors.Add("recurrence_id", "is required");
  if (!errors.empty()) co_return errors.ToStatus();
  FLYWHEEL_CO_ASSIGN_OR_RETURN(
      bool deleted, co_await works_.Delete(request.tenant_id(), request.recurrence_id()));
  // Removed after the work: a point that fires in between finds no work
  // and files nothing.
  FLYWHEEL_CO_ASSIGN_OR_RETURN(
      bool disarmed, co_await occurrences_.Cancel(request.tenant_id(), request.recurrence_id()));
  if (!deleted && !disarmed) {
    co_return absl::NotFoundError(absl::StrCat("tenant '", request.tenant_id(),
                                               "' has no recurring work '", request.recurrence_id(),
                                               "'"));
  }
  co_return absl::OkStatus();
}

asio::awaitable<absl::StatusOr<ClaimedBatch>> RecurringWorks::ClaimDue(size_t max,
                                                                       absl::Duration lease) {
  const absl::Time now = clock_.Now();
  FLYWHEEL_CO_ASSIGN_OR_RETURN(std::vector<ClaimedTimer> claimed,
                               co_await occurrences_.Claim(now, max, lease));
  ClaimedBatch batch;
  batch.claimed = claimed.size();
  if (!claimed.empty()) batch.fire = Fire(std::move(claimed), now);
  co_return std::move(batch);
}

asio::awaitable<absl::Status> RecurringWorks::Fire(std::vector<ClaimedTimer> claimed,
                                                   absl::Time now) {
  std::vector<asio::awaitable<absl::StatusOr<std::optional<v1::RecurringWork>>>> reads;
  reads.reserve(claimed.size());
  for (const ClaimedTimer& c : claimed) {
    reads.push_back(works_.Get(c.timer.tenant_id, c.timer.timer_id));
  }
  std::vector<absl::StatusOr<std::optional<v1::RecurringWork>>> works =
      co_await async::WhenAll(std::move(reads));

  // Per claimed point: the occurrence it files (none when stale), and where
  // the point goes next (nullopt: removed).
  std::vector<std::optional<absl::Time>> filed(claimed.size());
  std::vector<std::optional<absl::Time>> following(claimed.size());
  std::vector<std::optional<FirePoint>> nexts(claimed.size());
  std::vector<kafka::OutgoingEvent> submissions;
  for (size_t i = 0; i < claimed.size(); ++i) {
    // Unread work: the claim lapses and the point fires again.
    if (!works[i].ok()) co_return works[i].status();
    const std::optional<v1::RecurringWork>& work = *works[i];
    if (!work || !work->enabled() || !work->has_next_occurrence_time()) continue;
    const absl::Time occurrence = FromProtoTime(work->next_occurrence_time());
    if (SubmitTime(*work, occurrence) != claimed[i].timer.next.due) {
      // Armed for an older revision: follow the work, file nothing.
      nexts[i] = PointOf(*work, occurrence);
      continue;
    }
    submissions.push_back(SubmissionOf(*work, occurrence, submissions_topic_));
    filed[i] = occurrence;
    if (std::optional<Recurrence> rule = RuleOf(*work)) {
      following[i] = rule->After(std::max(occurrence, now));
      if (following[i]) nexts[i] = PointOf(*work, *following[i]);
    }
  }
  if (!submissions.empty()) {
    // Unpublished: the claims lapse and fire again under the same keys.
    FLYWHEEL_CO_RETURN_IF_ERROR(
        (co_await kafka::Published(publisher_, std::move(submissions))).status());
  }
  std::vector<asio::awaitable<absl::StatusOr<bool>>> advances;
  std::vector<size_t> advanced;
  for (size_t i = 0; i < claimed.size(); ++i) {
    if (!filed[i]) continue;
    advances.push_back(works_.Advance(claimed[i].timer.tenant_id, claimed[i].timer.timer_id,
                                      *filed[i], following[i]));
    advanced.push_back(i);
  }
  std::vector<bool> complete(claimed.size(), true);
  std::vector<absl::StatusOr<bool>> moved = co_await async::WhenAll(std::move(advances));
  for (size_t k = 0; k < moved.size(); ++k) {
    if (!moved[k].ok()) co_return moved[k].status();
    // Changed since it was read: the change armed its own point.
    if (!*moved[k]) complete[advanced[k]] = false;
  }
  std::vector<Completion> completions;
  for (size_t i = 0; i < claimed.size(); ++i) {
    if (!complete[i]) continue;
    Completion completion;
    completion.claimed = &claimed[i];
    completion.next = nexts[i];
    completions.push_back(std::move(completion));
  }
  for (const absl::Status& completed : co_await occurrences_.CompleteAll(completions)) {
    // ABORTED: re-armed or removed since the claim; that stands.
    if (!completed.ok() && !absl::IsAborted(completed)) co_return completed;
  }
  for (const std::optional<FirePoint>& next : nexts) {
    if (next && on_armed_) on_armed_(next->due);
  }
  co_return absl::OkStatus();
}

asio::awaitable<absl::StatusOr<std::optional<absl::Time>>> RecurringWorks::NextDue() {
  co_return co_await occurrences_.NextDue();
}

}  // namespace flywheel::scheduler
