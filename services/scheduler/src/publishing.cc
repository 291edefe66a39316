#include "publishing.h"

#include <openssl/rand.h>
#include <openssl/sha.h>

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "flywheel/core/field_errors.h"
#include "flywheel/core/proto_time.h"
#include "flywheel/core/status.h"
#include "flywheel/events/catalog.h"
#include "flywheel/log/log.h"

namespace flywheel::scheduler {
namespace {

// How often a change that lost a race to another writer is tried again.
constexpr int kAttempts = 3;
// Paging, as common.proto's convention says.
constexpr int kDefaultPage = 50;
constexpr int kMostPerPage = 500;

std::string RandomId() {
  unsigned char bytes[12];
  RAND_bytes(bytes, sizeof bytes);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes));
}

// A slot id derived from the tenant and the caller's idempotency key, so a
// retry names the slot the first call created.
std::string KeyedId(const std::string& tenant_id, const std::string& key) {
  const std::string name = absl::StrCat(tenant_id, std::string(1, '\0'), key);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(name.data()), name.size(), digest);
  return "slot_" +
         absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(digest), 12));
}

std::string Describe(absl::Time t) {
  return absl::FormatTime("%Y-%m-%d %H:%M UTC", t, absl::UTCTimeZone());
}

absl::Status WithConflicts(const std::vector<v1::Conflict>& conflicts) {
  std::string message = "the publishing time is not free:";
  v1::CheckSlotResponse payload;
  for (const v1::Conflict& c : conflicts) {
    absl::StrAppend(&message, " ", c.description());
    *payload.add_conflicts() = c;
  }
  absl::Status status = absl::FailedPreconditionError(message);
  status.SetPayload(kConflictsPayload, absl::Cord(payload.SerializeAsString()));
  return status;
}

// A page token: "<ms>/<id>" of the last item returned.
struct Cursor {
  absl::Time time;
  std::string id;
};

std::string TokenOf(absl::Time time, const std::string& id) {
  return absl::StrCat(absl::ToUnixMillis(time), "/", id);
}

std::optional<Cursor> ParseToken(const std::string& token) {
  std::pair<std::string, std::string> parts = absl::StrSplit(token, absl::MaxSplits('/', 1));
  int64_t ms = 0;
  if (parts.second.empty() || !absl::SimpleAtoi(parts.first, &ms)) return std::nullopt;
  return Cursor{absl::FromUnixMillis(ms), parts.second};
}

// Page size and cursor of a List call; problems go to `errors`.
std::pair<size_t, std::optional<Cursor>> ReadPaging(int32_t page_size, const std::string& token,
                                                    FieldErrors& errors) {
  if (page_size < 0) errors.Add("page_size", "must not be negative");
  const size_t size = page_size <= 0 ? kDefaultPage : std::min(page_size, kMostPerPage);
  std::optional<Cursor> cursor;
  if (!token.empty()) {
    cursor = ParseToken(token);
    if (!cursor) errors.Add("page_token", "is not a token this service gave");
  }
  return {size, cursor};
}

// The point at which `slot`, as it is, would be looked at while RESERVED.
SlotPoint PointOf(const v1::PublishingSlot& slot) {
  return {.tenant_id = slot.tenant_id(),
          .slot_id = slot.slot_id(),
          .revision = slot.revision(),
          .at = PublishTimeOf(slot),
          .request_id = slot.request_id()};
}

void CheckRange(const common::v1::TimeRange& range, const std::string& field, FieldErrors& errors) {
  if (!range.has_start_time() || !range.has_end_time()) {
    errors.Add(field, "needs a start_time and an end_time");
  } else if (FromProtoTime(range.end_time()) <= FromProtoTime(range.start_time())) {
    errors.Add(field + ".end_time", "must be after start_time");
  }
}

}  // namespace

std::vector<v1::Conflict> ConflictsOf(const absl::Status& status) {
  auto payload = status.GetPayload(kConflictsPayload);
  if (!payload) return {};
  v1::CheckSlotResponse parsed;
  if (!parsed.ParseFromString(std::string(*payload))) return {};
  return {parsed.conflicts().begin(), parsed.conflicts().end()};
}

Publishing::Publishing(const PolicyHolder& policy, SlotStore& store, SlotTimers& timers,
                       std::string publishing_topic, const Clock& clock,
                       std::function<std::string()> new_id)
    : policy_(policy),
      store_(store),
      timers_(timers),
      publishing_topic_(std::move(publishing_topic)),
      clock_(clock),
      new_id_(new_id ? std::move(new_id) : RandomId) {}

absl::Duration Publishing::GapOf(const std::string& tenant_id,
                                 const std::string& destination) const {
  const std::shared_ptr<const Policy> policy = policy_.Get();
  const TenantSchedule* tenant = policy->FindTenant(tenant_id);
  return tenant == nullptr ? absl::ZeroDuration() : tenant->publishing.MinGapFor(destination);
}

asio::awaitable<absl::StatusOr<std::optional<absl::Time>>> Publishing::Suggest(
    const v1::PublishingSlot& slot, absl::Time from) {
  const absl::Duration gap = GapOf(slot.tenant_id(), slot.destination());
  FLYWHEEL_CO_ASSIGN_OR_RETURN(
      std::vector<v1::PublishingSlot> taken,
      co_await store_.OnDestination(slot.tenant_id(), slot.destination(), from - gap,
                                    from + kSuggestionHorizon + gap));
  FLYWHEEL_CO_ASSIGN_OR_RETURN(std::vector<v1::Blackout> blackouts,
                               co_await store_.Blackouts(slot.tenant_id()));
  absl::Time candidate = ToSlotTime(from);
  // Each pass moves past one obstacle; every obstacle is passed at most once.
  for (size_t pass = 0; pass <= taken.size() + blackouts.size(); ++pass) {
    bool moved = false;
    for (const v1::PublishingSlot& other : taken) {
      const absl::Time at = PublishTimeOf(other);
      if (other.slot_id() != slot.slot_id() && absl::AbsDuration(at - candidate) < gap) {
        candidate = at + gap;
        moved = true;
      }
    }
    for (const v1::Blackout& b : blackouts) {
      if (Covers(b, candidate, slot.channel(), slot.destination())) {
        candidate = ToSlotTime(FromProtoTime(b.range().end_time()));
        moved = true;
      }
    }
    if (!moved) {
      if (candidate > from + kSuggestionHorizon) co_return std::nullopt;
      co_return candidate;
    }
  }
  co_return std::nullopt;
}

asio::awaitable<absl::StatusOr<std::vector<v1::Conflict>>> Publishing::ConflictsFor(
    const v1::PublishingSlot& slot, const Obstacles& obstacles, bool in_past) {
  std::vector<v1::Conflict> out;
  if (in_past) {
    v1::Conflict c;
    c.set_kind(v1::CONFLICT_KIND_OUT_OF_RANGE);
    c.set_description(
        absl::StrCat("The time ", Describe(PublishTimeOf(slot)), " is not in the future."));
    out.push_back(std::move(c));
  }
  const absl::Duration gap = GapOf(slot.tenant_id(), slot.destination());
  for (const v1::PublishingSlot& other : obstacles.too_close) {
    v1::Conflict c;
    c.set_kind(v1::CONFLICT_KIND_SLOT_TOO_CLOSE);
    c.set_slot_id(other.slot_id());
    *c.mutable_slot_time() = other.publish_time();
    c.set_description(absl::StrCat("Slot ", other.slot_id(), " publishes on ", slot.destination(),
                                   " at ", Describe(PublishTimeOf(other)), "; posts there keep ",
                                   absl::FormatDuration(gap), " apart."));
    out.push_back(std::move(c));
  }
  for (const v1::Blackout& b : obstacles.blackouts) {
    v1::Conflict c;
    c.set_kind(v1::CONFLICT_KIND_BLACKOUT);
    c.set_blackout_id(b.blackout_id());
    c.set_description(absl::StrCat("Blackout ", b.blackout_id(), " until ",
                                   Describe(FromProtoTime(b.range().end_time())),
                                   b.reason().empty() ? "." : ": " + b.reason() + "."));
    out.push_back(std::move(c));
  }
  if (out.empty()) co_return out;
  const absl::Time earliest = std::max(PublishTimeOf(slot), clock_.Now() + absl::Minutes(1));
  FLYWHEEL_CO_ASSIGN_OR_RETURN(std::optional<absl::Time> suggested,
                               co_await Suggest(slot, earliest));
  if (suggested) {
    for (v1::Conflict& c : out) *c.mutable_suggested_time() = ToProtoTime(*suggested);
  }
  co_return out;
}

asio::awaitable<absl::StatusOr<Publishing::Holds>> Publishing::HoldsAt(
    const v1::PublishingSlot& slot, absl::Time at) {
  Holds out;
  FLYWHEEL_CO_ASSIGN_OR_RETURN(
      out.approved_version, co_await store_.ApprovedVersion(slot.tenant_id(), slot.request_id()));
  if (!out.approved_version) {
    v1::SlotHold hold;
    hold.set_kind(v1::HOLD_KIND_AWAITING_APPROVAL);
    hold.set_description(
        absl::StrCat("Request ", slot.request_id(), " has not completed its approval."));
    out.holds.push_back(std::move(hold));
  }
  FLYWHEEL_CO_ASSIGN_OR_RETURN(std::vector<v1::Blackout> blackouts,
                               co_await store_.Blackouts(slot.tenant_id()));
  for (const v1::Blackout& b : blackouts) {
    if (Covers(b, at, slot.channel(), slot.destination())) {
      v1::SlotHold hold;
      hold.set_kind(v1::HOLD_KIND_BLACKOUT);
      hold.set_blackout_id(b.blackout_id());
      hold.set_description(b.reason());
      out.holds.push_back(std::move(hold));
      out.blackouts_end = std::max(out.blackouts_end, FromProtoTime(b.range().end_time()));
    }
  }
  co_return out;
}

asio::awaitable<absl::StatusOr<v1::PublishingSlot>> Publishing::WithHolds(v1::PublishingSlot slot) {
  slot.clear_holds();
  const v1::SlotStatus status = slot.status();
  if (status != v1::SLOT_STATUS_RESERVED && status != v1::SLOT_STATUS_HELD) co_return slot;
  const absl::Time at = status == v1::SLOT_STATUS_HELD ? clock_.Now() : PublishTimeOf(slot);
  FLYWHEEL_CO_ASSIGN_OR_RETURN(Holds holds, co_await HoldsAt(slot, at));
  for (v1::SlotHold& hold : holds.holds) *slot.add_holds() = std::move(hold);
  co_return slot;
}

asio::awaitable<void> Publishing::Disarm(const SlotPoint& point) {
  if (absl::Status st = co_await timers_.Cancel(point); !st.ok()) {
    log::Warn("a slot point no longer needed stays armed; it will find nothing to do",
              {{"slot_id", point.slot_id}, {"error", st.ToString()}});
  }
}

asio::awaitable<absl::StatusOr<std::vector<v1::Conflict>>> Publishing::Check(
    const v1::CheckSlotRequest& r) {
  FieldErrors errors;
  if (r.tenant_id().empty()) errors.Add("tenant_id", "is required");
  if (r.destination().empty()) errors.Add("destination", "is required");
  if (!r.has_publish_time()) errors.Add("publish_time", "is required");
  if (!errors.empty()) co_return errors.ToStatus();
  v1::PublishingSlot slot;
  slot.set_tenant_id(r.tenant_id());
  slot.set_slot_id(r.ignore_slot_id());
  slot.set_request_id(r.request_id());
  slot.set_channel(r.channel());
  slot.set_destination(r.destination());
  *slot.mutable_publish_time() = r.publish_time();
  FLYWHEEL_CO_ASSIGN_OR_RETURN(Obstacles obstacles,
                               co_await store_.Check(slot, GapOf(r.tenant_id(), r.destination())));
  co_return co_await ConflictsFor(slot, obstacles, PublishTimeOf(slot) <= clock_.Now());
}

asio::awaitable<absl::StatusOr<v1::PublishingSlot>> Publishing::Reserve(
    const v1::ReserveSlotRequest& r) {
  const v1::PublishingSlot& given = r.slot();
  FieldErrors errors;
  policy_.Get()->CheckTenant(given.tenant_id(), "slot.tenant_id", errors);
  if (given.request_id().empty()) errors.Add("slot.request_id", "is required");
  if (given.channel() == common::v1::CHANNEL_UNSPECIFIED) errors.Add("slot.channel", "is required");
  if (given.destination().empty()) errors.Add("slot.destination", "is required");
  if (!given.has_publish_time()) {
    errors.Add("slot.publish_time", "is required");
  } else if (PublishTimeOf(given) <= clock_.Now()) {
    errors.Add("slot.publish_time",
               absl::StrCat(Describe(PublishTimeOf(given)), " is not in the future"));
  }
  if (!errors.empty()) co_return errors.ToStatus();

  v1::PublishingSlot slot = given;
  slot.set_slot_id(r.idempotency_key().empty() ? "slot_" + new_id_()
                                               : KeyedId(given.tenant_id(), r.idempotency_key()));
  slot.set_status(v1::SLOT_STATUS_RESERVED);
  slot.set_revision(1);
  slot.clear_holds();
  slot.clear_outcome_detail();
  // Armed before the slot is written (see the class comment).
  const SlotPoint point = PointOf(slot);
  FLYWHEEL_CO_RETURN_IF_ERROR(co_await timers_.Arm(point));
  auto written = co_await store_.Put(slot, 0, GapOf(slot.tenant_id(), slot.destination()));
  // A retry whose slot is stored at this very point keeps it armed.
  const bool point_used =
      written.ok() && written->obstacles.empty() &&
      (!written->existed || (written->slot.status() == v1::SLOT_STATUS_RESERVED &&
                             SlotTimerId(PointOf(written->slot)) == SlotTimerId(point)));
  if (!point_used) co_await Disarm(point);
  if (!written.ok()) co_return written.status();
  PutOutcome put = *std::move(written);
  if (!put.obstacles.empty()) {
    FLYWHEEL_CO_ASSIGN_OR_RETURN(std::vector<v1::Conflict> conflicts,
                                 co_await ConflictsFor(slot, put.obstacles, false));
    co_return WithConflicts(conflicts);
  }
  co_return co_await WithHolds(std::move(put.slot));
}

asio::awaitable<absl::StatusOr<v1::PublishingSlot>> Publishing::Reschedule(
    const v1::RescheduleSlotRequest& r) {
  FieldErrors errors;
  if (r.tenant_id().empty()) errors.Add("tenant_id", "is required");
  if (r.slot_id().empty()) errors.Add("slot_id", "is required");
  if (!r.has_publish_time()) {
    errors.Add("publish_time", "is required");
  } else if (ToSlotTime(FromProtoTime(r.publish_time())) <= clock_.Now()) {
    errors.Add("publish_time",
               absl::StrCat(Describe(FromProtoTime(r.publish_time())), " is not in the future"));
  }
  if (r.expected_revision() < 0) errors.Add("expected_revision", "must not be negative");
  if (!errors.empty()) co_return errors.ToStatus();
  absl::Status last;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    FLYWHEEL_CO_ASSIGN_OR_RETURN(std::optional<v1::PublishingSlot> found,
                                 co_await store_.Get(r.tenant_id(), r.slot_id()));
    if (!found) co_return absl::NotFoundError(absl::StrCat("no slot '", r.slot_id(), "'"));
    if (r.expected_revision() != 0 && found->revision() != r.expected_revision()) {
      co_return absl::AbortedError(absl::StrCat("slot '", r.slot_id(), "' is at revision ",
                                                found->revision(), ", not ",
                                                r.expected_revision()));
    }
    const v1::SlotStatus status = found->status();
    if (status == v1::SLOT_STATUS_DUE || status == v1::SLOT_STATUS_PUBLISHED ||
        status == v1::SLOT_STATUS_CANCELLED) {
      co_return absl::FailedPreconditionError(
          absl::StrCat("slot '", r.slot_id(), "' is ", v1::SlotStatus_Name(status),
                       "; only a reserved, held or failed slot moves"));
    }
    v1::PublishingSlot moved = *found;
    *moved.mutable_publish_time() = r.publish_time();
    moved.set_status(v1::SLOT_STATUS_RESERVED);
    moved.set_revision(found->revision() + 1);
    moved.clear_outcome_detail();
    const SlotPoint point = PointOf(moved);
    FLYWHEEL_CO_RETURN_IF_ERROR(co_await timers_.Arm(point));
    auto put = co_await store_.Put(moved, found->revision(),
                                   GapOf(moved.tenant_id(), moved.destination()));
    // ABORTED: another writer took this revision, maybe at this very point;
    // the point is left to find out.
    if (absl::IsAborted(put.status())) {
      last = put.status();
      continue;  // a claim or another move came first; look again
    }
    if (!put.ok()) co_return put.status();
    if (!put->obstacles.empty()) {
      co_await Disarm(point);
      FLYWHEEL_CO_ASSIGN_OR_RETURN(std::vector<v1::Conflict> conflicts,
                                   co_await ConflictsFor(moved, put->obstacles, false));
      co_return WithConflicts(conflicts);
    }
    if (status == v1::SLOT_STATUS_RESERVED) {
      const SlotPoint old_point = PointOf(*found);
      co_await Disarm(old_point);
    }
    co_return co_await WithHolds(std::move(put->slot));
  }
  co_return last;
}

asio::awaitable<absl::StatusOr<v1::PublishingSlot>> Publishing::Settle(v1::PublishingSlot slot,
                                                                       v1::SlotStatus status,
                                                                       std::string detail) {
  const int64_t revision = slot.revision();
  slot.set_status(status);
  slot.set_revision(revision + 1);
  slot.set_outcome_detail(std::move(detail));
  FLYWHEEL_CO_ASSIGN_OR_RETURN(PutOutcome put, co_await store_.Put(slot, revision, std::nullopt));
  co_return std::move(put.slot);
}

asio::awaitable<absl::StatusOr<v1::PublishingSlot>> Publishing::Cancel(
    const v1::CancelSlotRequest& r) {
  absl::Status last;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    FLYWHEEL_CO_ASSIGN_OR_RETURN(std::optional<v1::PublishingSlot> found,
                                 co_await store_.Get(r.tenant_id(), r.slot_id()));
    if (!found) co_return absl::NotFoundError(absl::StrCat("no slot '", r.slot_id(), "'"));
    if (found->status() == v1::SLOT_STATUS_CANCELLED) co_return *found;
    if (found->status() == v1::SLOT_STATUS_DUE || found->status() == v1::SLOT_STATUS_PUBLISHED) {
      co_return absl::FailedPreconditionError(absl::StrCat("slot '", r.slot_id(), "' is ",
                                                           v1::SlotStatus_Name(found->status()),
                                                           "; its work has gone to the connector"));
    }
    const bool was_reserved = found->status() == v1::SLOT_STATUS_RESERVED;
    const SlotPoint point = PointOf(*found);
    auto settled = co_await Settle(*std::move(found), v1::SLOT_STATUS_CANCELLED, "");
    if (settled.ok() && was_reserved) co_await Disarm(point);
    if (!absl::IsAborted(settled.status())) co_return settled;
    last = settled.status();
  }
  co_return last;
}

asio::awaitable<absl::StatusOr<v1::ListSlotsResponse>> Publishing::List(
    const v1::ListSlotsRequest& r) {
  FieldErrors errors;
  if (r.tenant_id().empty()) errors.Add("tenant_id", "is required");
  CheckRange(r.range(), "range", errors);
  auto [page, cursor] = ReadPaging(r.page_size(), r.page_token(), errors);
  if (!errors.empty()) co_return errors.ToStatus();
  const absl::Time from = FromProtoTime(r.range().start_time());
  const absl::Time to = FromProtoTime(r.range().end_time());
  auto wanted = [&](const v1::PublishingSlot& s) {
    if (!r.include_cancelled() && s.status() == v1::SLOT_STATUS_CANCELLED) return false;
    if (!r.channels().empty() &&
        std::find(r.channels().begin(), r.channels().end(), s.channel()) == r.channels().end()) {
      return false;
    }
    if (!r.destinations().empty() && std::find(r.destinations().begin(), r.destinations().end(),
                                               s.destination()) == r.destinations().end()) {
      return false;
    }
    if (!r.campaign_id().empty() && s.campaign_id() != r.campaign_id()) return false;
    return r.team_id().empty() || s.team_id() == r.team_id();
  };
  // One past the page is looked for, so the last page has no token.
  std::vector<v1::PublishingSlot> matched;
  absl::Time after_time = cursor ? cursor->time : absl::InfinitePast();
  std::string after_id = cursor ? cursor->id : "";
  const size_t batch = std::max<size_t>(page * 2, 100);
  while (matched.size() <= page) {
    FLYWHEEL_CO_ASSIGN_OR_RETURN(
        std::vector<v1::PublishingSlot> read,
        co_await store_.List(r.tenant_id(), from, to, after_time, after_id, batch));
    for (v1::PublishingSlot& s : read) {
      if (wanted(s) && matched.size() <= page) matched.push_back(s);
    }
    if (read.size() < batch) break;
    after_time = PublishTimeOf(read.back());
    after_id = read.back().slot_id();
  }
  v1::ListSlotsResponse out;
  const bool more = matched.size() > page;
  if (more) matched.resize(page);
  for (v1::PublishingSlot& s : matched) {
    FLYWHEEL_CO_ASSIGN_OR_RETURN(v1::PublishingSlot shown, co_await WithHolds(std::move(s)));
    *out.add_slots() = std::move(shown);
  }
  if (more) {
    out.set_next_page_token(TokenOf(PublishTimeOf(out.slots(out.slots_size() - 1)),
                                    out.slots(out.slots_size() - 1).slot_id()));
  }
  co_return out;
}

asio::awaitable<absl::StatusOr<v1::CreateBlackoutResponse>> Publishing::CreateBlackout(
    const v1::CreateBlackoutRequest& r) {
  const v1::Blackout& given = r.blackout();
  FieldErrors errors;
  policy_.Get()->CheckTenant(given.tenant_id(), "blackout.tenant_id", errors);
  CheckRange(given.range(), "blackout.range", errors);
  for (int i = 0; i < given.channels_size(); ++i) {
    if (given.channels(i) == common::v1::CHANNEL_UNSPECIFIED) {
      errors.Add(absl::StrCat("blackout.channels[", i, "]"), "must name a channel");
    }
  }
  if (!errors.empty()) co_return errors.ToStatus();
  v1::Blackout blackout = given;
  blackout.set_blackout_id("blackout_" + new_id_());
  FLYWHEEL_CO_ASSIGN_OR_RETURN(std::vector<v1::PublishingSlot> held,
                               co_await store_.PutBlackout(blackout));
  v1::CreateBlackoutResponse out;
  *out.mutable_blackout() = std::move(blackout);
  for (v1::PublishingSlot& slot : held) {
    FLYWHEEL_CO_ASSIGN_OR_RETURN(v1::PublishingSlot shown, co_await WithHolds(std::move(slot)));
    *out.add_affected_slots() = std::move(shown);
  }
  co_return out;
}

asio::awaitable<absl::Status> Publishing::DeleteBlackout(const v1::DeleteBlackoutRequest& r) {
  FLYWHEEL_CO_ASSIGN_OR_RETURN(std::vector<v1::Blackout> all,
                               co_await store_.Blackouts(r.tenant_id()));
  auto it = std::find_if(all.begin(), all.end(),
                         [&](const v1::Blackout& b) { return b.blackout_id() == r.blackout_id(); });
  FLYWHEEL_CO_ASSIGN_OR_RETURN(bool deleted,
                               co_await store_.DeleteBlackout(r.tenant_id(), r.blackout_id()));
  if (!deleted) co_return absl::NotFoundError(absl::StrCat("no blackout '", r.blackout_id(), "'"));
  if (it == all.end()) co_return absl::OkStatus();  // stored between the two reads
  co_return co_await ReleaseHeld(*it);
}

asio::awaitable<absl::Status> Publishing::ReleaseHeld(const v1::Blackout& blackout) {
  const absl::Time from = FromProtoTime(blackout.range().start_time());
  const absl::Time to = FromProtoTime(blackout.range().end_time());
  const absl::Time now = clock_.Now();
  constexpr size_t kBatch = 200;
  absl::Time after_time = absl::InfinitePast();
  std::string after_id;
  while (true) {
    FLYWHEEL_CO_ASSIGN_OR_RETURN(
        std::vector<v1::PublishingSlot> read,
        co_await store_.List(blackout.tenant_id(), from, to, after_time, after_id, kBatch));
    for (const v1::PublishingSlot& s : read) {
      if (s.status() != v1::SLOT_STATUS_HELD ||
          !Covers(blackout, PublishTimeOf(s), s.channel(), s.destination())) {
        continue;
      }
      SlotPoint point = PointOf(s);
      point.at = ToSlotTime(now);
      FLYWHEEL_CO_RETURN_IF_ERROR(co_await timers_.Arm(point));
      // The point at the blackout's end has nothing left to do (unless
      // another blackout held the slot longer: that one stays).
      if (ToSlotTime(to) != point.at) {
        point.at = ToSlotTime(to);
        co_await Disarm(point);
      }
    }
    if (read.size() < kBatch) co_return absl::OkStatus();
    after_time = PublishTimeOf(read.back());
    after_id = read.back().slot_id();
  }
}

asio::awaitable<absl::StatusOr<v1::ListBlackoutsResponse>> Publishing::ListBlackouts(
    const v1::ListBlackoutsRequest& r) {
  FieldErrors errors;
  if (r.tenant_id().empty()) errors.Add("tenant_id", "is required");
  CheckRange(r.range(), "range", errors);
  auto [page, cursor] = ReadPaging(r.page_size(), r.page_token(), errors);
  if (!errors.empty()) co_return errors.ToStatus();
  const absl::Time from = FromProtoTime(r.range().start_time());
  const absl::Time to = FromProtoTime(r.range().end_time());
  FLYWHEEL_CO_ASSIGN_OR_RETURN(std::vector<v1::Blackout> all,
                               co_await store_.Blackouts(r.tenant_id()));
  v1::ListBlackoutsResponse out;
  for (const v1::Blackout& b : all) {
    const absl::Time start = FromProtoTime(b.range().start_time());
    if (start >= to || FromProtoTime(b.range().end_time()) <= from) continue;
    if (cursor &&
        std::make_pair(start, b.blackout_id()) <= std::make_pair(cursor->time, cursor->id)) {
      continue;
    }
    if (out.blackouts_size() == static_cast<int>(page)) {
      const v1::Blackout& last = out.blackouts(out.blackouts_size() - 1);
      out.set_next_page_token(
          TokenOf(FromProtoTime(last.range().start_time()), last.blackout_id()));
      break;
    }
    *out.add_blackouts() = b;
  }
  co_return out;
}

asio::awaitable<absl::Status> Publishing::ApprovalCompleted(
    const approval::v1::ApprovalCompleted& event) {
  if (event.tenant_id().empty() || event.request_id().empty()) {
    FieldErrors errors;
    errors.Add("request_id", "an approval.completed names its tenant and request");
    co_return errors.ToStatus();
  }
  std::optional<uint32_t> version;
  if (event.outcome() == approval::v1::CHAIN_STATUS_APPROVED) version = event.version();
  co_return co_await store_.SetApproved(event.tenant_id(), event.request_id(), version);
}

asio::awaitable<absl::StatusOr<std::optional<FireOutcome>>> Publishing::Fire(
    const SlotPoint& point) {
  FLYWHEEL_CO_ASSIGN_OR_RETURN(std::optional<v1::PublishingSlot> found,
                               co_await store_.Get(point.tenant_id, point.slot_id));
  const int64_t revision = point.revision;
  // The point of a time only moments ahead can come before the write that
  // follows its arming: while young it is tried again (after its lease);
  // older, the write never happened.
  if (!found || found->revision() < revision) {
    if (clock_.Now() - point.at < kUnwrittenPointLife) {
      co_return absl::UnavailableError(
          absl::StrCat("slot ", point.slot_id, " revision ", revision, " is not written yet"));
    }
    co_return std::nullopt;
  }
  const v1::SlotStatus was = found->status();
  FireOutcome out;
  // The approved asset version, read with the holds (or on its own for a
  // decision made before).
  std::optional<uint32_t> content_version;
  if ((was == v1::SLOT_STATUS_RESERVED && found->revision() == revision &&
       PublishTimeOf(*found) == point.at) ||
      (was == v1::SLOT_STATUS_HELD && found->revision() == revision)) {
    // A held slot's time is past: what counts is what holds it now.
    const absl::Time at = was == v1::SLOT_STATUS_HELD ? clock_.Now() : PublishTimeOf(*found);
    FLYWHEEL_CO_ASSIGN_OR_RETURN(Holds holds, co_await HoldsAt(*found, at));
    content_version = holds.approved_version;
    if (holds.holds.empty()) {
      auto settled = co_await Settle(*found, v1::SLOT_STATUS_DUE, "");
      if (absl::IsAborted(settled.status())) co_return std::nullopt;  // moved meanwhile
      if (!settled.ok()) co_return settled.status();
      out.slot = *std::move(settled);
    } else {
      // Looked at again when the blackouts end, armed before the slot is
      // written (a crash between leaves a held slot that is looked at).
      std::optional<SlotPoint> again;
      if (holds.blackouts_end > absl::InfinitePast()) {
        again = point;
        again->revision = was == v1::SLOT_STATUS_HELD ? revision : revision + 1;
        again->at = ToSlotTime(holds.blackouts_end);
        FLYWHEEL_CO_RETURN_IF_ERROR(co_await timers_.Arm(*again));
      }
      out.slot = *std::move(found);
      if (was == v1::SLOT_STATUS_RESERVED) {
        std::string detail;
        for (const v1::SlotHold& hold : holds.holds) {
          absl::StrAppend(&detail, detail.empty() ? "" : " ", v1::HoldKind_Name(hold.kind()),
                          hold.blackout_id().empty() ? "" : " " + hold.blackout_id());
        }
        auto settled =
            co_await Settle(std::move(out.slot), v1::SLOT_STATUS_HELD, std::move(detail));
        if (absl::IsAborted(settled.status())) co_return std::nullopt;  // moved meanwhile
        if (!settled.ok()) co_return settled.status();
        out.slot = *std::move(settled);
      }
      for (v1::SlotHold& hold : holds.holds) *out.slot.add_holds() = std::move(hold);
      co_return out;
    }
  } else if (was == v1::SLOT_STATUS_DUE && found->revision() == revision + 1) {
    out.slot = *std::move(found);  // decided before; its event may not have gone out
    FLYWHEEL_CO_ASSIGN_OR_RETURN(
        content_version, co_await store_.ApprovedVersion(point.tenant_id, out.slot.request_id()));
  } else if (was == v1::SLOT_STATUS_HELD && found->revision() == revision + 1) {
    FLYWHEEL_CO_ASSIGN_OR_RETURN(out.slot, co_await WithHolds(*std::move(found)));
    co_return out;
  } else {
    co_return std::nullopt;
  }
  v1::PublishDue due;
  due.set_tenant_id(point.tenant_id);
  due.set_request_id(out.slot.request_id());
  *due.mutable_slot() = out.slot;
  due.set_content_version(content_version.value_or(0));
  kafka::OutgoingEvent event;
  event.topic = publishing_topic_;
  event.type = events::kPublishDue;
  event.key = out.slot.request_id();
  event.id = absl::StrCat("evt_publish_", point.tenant_id, "_", point.slot_id, "_r", revision);
  event.time = point.at;
  event.extensions = {{"tenant", point.tenant_id}};
  event.data = due.SerializeAsString();
  out.event = std::move(event);
  co_return out;
}

asio::awaitable<absl::StatusOr<std::optional<kafka::OutgoingEvent>>> Publishing::FireTimer(
    const StoredTimer& timer) {
  const std::optional<SlotPoint> point = SlotPointOf(timer);
  if (!point) co_return std::nullopt;
  FLYWHEEL_CO_ASSIGN_OR_RETURN(std::optional<FireOutcome> fired, co_await Fire(*point));
  if (!fired) co_return std::nullopt;
  co_return std::move(fired->event);
}

asio::awaitable<absl::Status> Publishing::Answered(const std::string& tenant_id,
                                                   const std::string& slot_id, int64_t revision,
                                                   v1::SlotStatus status, std::string detail) {
  FLYWHEEL_CO_ASSIGN_OR_RETURN(std::optional<v1::PublishingSlot> found,
                               co_await store_.Get(tenant_id, slot_id));
  // An answer to a slot moved since, or a second answer, changes nothing.
  if (!found || found->status() != v1::SLOT_STATUS_DUE || found->revision() != revision) {
    co_return absl::OkStatus();
  }
  auto settled = co_await Settle(*std::move(found), status, std::move(detail));
  if (absl::IsAborted(settled.status())) co_return absl::OkStatus();
  co_return settled.status();
}

asio::awaitable<absl::Status> Publishing::Done(const v1::PublishDone& event) {
  co_return co_await Answered(event.tenant_id(), event.slot_id(), event.slot_revision(),
                              v1::SLOT_STATUS_PUBLISHED, event.url());
}

asio::awaitable<absl::Status> Publishing::Failed(const v1::PublishFailed& event) {
  co_return co_await Answered(event.tenant_id(), event.slot_id(), event.slot_revision(),
                              v1::SLOT_STATUS_FAILED, event.reason());
}

}  // namespace flywheel::scheduler
