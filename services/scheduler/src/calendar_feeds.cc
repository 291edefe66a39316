#include "calendar_feeds.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "flywheel/async/spawn.h"
#include "flywheel/core/field_errors.h"
#include "flywheel/core/proto_time.h"
#include "flywheel/core/status.h"

namespace flywheel::scheduler {
namespace {

constexpr char kCalendarType[] = "text/calendar; charset=utf-8";

// Whether `blackout` stops anything the feed shows: it covers every
// channel, or one of the feed's, and every destination, or one of the
// feed's (a feed without a filter shows them all).
bool Touches(const v1::Blackout& blackout, const v1::GetCalendarFeedRequest& feed) {
  auto meets = [](const auto& blackout_side, const auto& feed_side) {
    if (blackout_side.empty() || feed_side.empty()) return true;
    return std::any_of(blackout_side.begin(), blackout_side.end(), [&](const auto& v) {
      return std::find(feed_side.begin(), feed_side.end(), v) != feed_side.end();
    });
  };
  return meets(blackout.channels(), feed.channels()) &&
         meets(blackout.destinations(), feed.destinations());
}

std::string TitleOf(const v1::GetCalendarFeedRequest& feed) {
  std::string title = absl::StrCat("Publishing: ", feed.tenant_id());
  if (!feed.team_id().empty()) absl::StrAppend(&title, ", team ", feed.team_id());
  if (!feed.campaign_id().empty()) absl::StrAppend(&title, ", campaign ", feed.campaign_id());
  for (const std::string& destination : feed.destinations()) {
    absl::StrAppend(&title, ", ", destination);
  }
  return title;
}

int HttpStatusOf(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kInvalidArgument:
      return 400;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kUnavailable:
      return 503;
    default:
      return 500;
  }
}

}  // namespace

asio::awaitable<absl::StatusOr<v1::GetCalendarFeedResponse>> CalendarFeeds::Get(
    const v1::GetCalendarFeedRequest& r) {
  FieldErrors errors;
  if (r.tenant_id().empty()) errors.Add("tenant_id", "is required");
  for (int i = 0; i < r.channels_size(); ++i) {
    if (r.channels(i) == common::v1::CHANNEL_UNSPECIFIED) {
      errors.Add(absl::StrCat("channels[", i, "]"), "must name a channel");
    }
  }
  const absl::Time now = clock_.Now();
  absl::Time from = now - kFeedPast;
  absl::Time to = now + kFeedAhead;
  if (r.has_range()) {
    if (!r.range().has_start_time() || !r.range().has_end_time()) {
      errors.Add("range", "needs a start_time and an end_time, or leave it unset");
    } else {
      from = FromProtoTime(r.range().start_time());
      to = FromProtoTime(r.range().end_time());
      if (to <= from) {
        errors.Add("range.end_time", "must be after start_time");
      } else if (to - from > kLongestFeed) {
        errors.Add("range", absl::StrCat("spans more than ", kLongestFeed / absl::Hours(24),
                                         " days; ask for a shorter period"));
      }
    }
  }
  if (!errors.empty()) co_return errors.ToStatus();
  FLYWHEEL_CO_ASSIGN_OR_RETURN(FeedContent content, co_await Gather(r, from, to));
  v1::GetCalendarFeedResponse out;
  out.set_ics(RenderFeed(content, now));
  out.set_content_type(kCalendarType);
  out.set_slot_count(static_cast<int32_t>(content.slots.size()));
  out.set_blackout_count(static_cast<int32_t>(content.blackouts.size()));
  if (links_) out.set_subscription_path(links_->PathFor(r));
  co_return out;
}

asio::awaitable<absl::StatusOr<FeedContent>> CalendarFeeds::Gather(
    const v1::GetCalendarFeedRequest& r, absl::Time from, absl::Time to) {
  FeedContent content{.tenant_id = r.tenant_id(), .title = TitleOf(r)};
  v1::ListSlotsRequest slots;
  slots.set_tenant_id(r.tenant_id());
  *slots.mutable_range()->mutable_start_time() = ToProtoTime(from);
  *slots.mutable_range()->mutable_end_time() = ToProtoTime(to);
  *slots.mutable_channels() = r.channels();
  *slots.mutable_destinations() = r.destinations();
  slots.set_campaign_id(r.campaign_id());
  slots.set_team_id(r.team_id());
  slots.set_include_cancelled(true);
  slots.set_page_size(500);
  do {
    FLYWHEEL_CO_ASSIGN_OR_RETURN(v1::ListSlotsResponse page, co_await publishing_.List(slots));
    for (v1::PublishingSlot& slot : *page.mutable_slots()) content.slots.push_back(std::move(slot));
    slots.set_page_token(page.next_page_token());
  } while (!slots.page_token().empty());

  v1::ListBlackoutsRequest blackouts;
  blackouts.set_tenant_id(r.tenant_id());
  *blackouts.mutable_range() = slots.range();
  blackouts.set_page_size(500);
  do {
    FLYWHEEL_CO_ASSIGN_OR_RETURN(v1::ListBlackoutsResponse page,
                                 co_await publishing_.ListBlackouts(blackouts));
    for (v1::Blackout& blackout : *page.mutable_blackouts()) {
      if (Touches(blackout, r)) content.blackouts.push_back(std::move(blackout));
    }
    blackouts.set_page_token(page.next_page_token());
  } while (!blackouts.page_token().empty());
  co_return content;
}

http::Response CalendarFeeds::Serve(asio::io_context& io, const http::Request& request) {
  if (!links_ || request.path != kFeedPath) return {.status = 404, .body = "no such feed\n"};
  absl::StatusOr<v1::GetCalendarFeedRequest> feed = links_->Read(request.query);
  auto refusal = [](const absl::Status& status) {
    return http::Response{.status = HttpStatusOf(status.code()),
                          .body = absl::StrCat(status.message(), "\n")};
  };
  if (!feed.ok()) return refusal(feed.status());
  absl::StatusOr<v1::GetCalendarFeedResponse> got = async::BlockOn(io, Get(*feed));
  if (!got.ok()) return refusal(got.status());
  return {
      .content_type = kCalendarType,
      .body = std::move(*got->mutable_ics()),
      .headers = {{"Cache-Control", absl::StrCat("max-age=", absl::ToInt64Seconds(kFeedRefresh))}}};
}

}  // namespace flywheel::scheduler
