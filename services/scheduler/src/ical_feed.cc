#include "ical_feed.h"

#include <libical/ical.h>

#include <cstdlib>
#include <memory>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "flywheel/core/proto_time.h"

namespace flywheel::scheduler {
namespace {

// Owns a component tree; libical frees children with their parent.
struct ComponentFree {
  void operator()(icalcomponent* c) const { icalcomponent_free(c); }
};
using Component = std::unique_ptr<icalcomponent, ComponentFree>;

icaltimetype Utc(absl::Time t) {
  return icaltime_from_timet_with_zone(static_cast<time_t>(absl::ToUnixSeconds(t)), 0,
                                       icaltimezone_get_utc_timezone());
}

// "social organic" for CHANNEL_SOCIAL_ORGANIC.
std::string ChannelLabel(common::v1::Channel channel) {
  std::string name(absl::StripPrefix(common::v1::Channel_Name(channel), "CHANNEL_"));
  absl::AsciiStrToLower(&name);
  absl::StrReplaceAll({{"_", " "}}, &name);
  return name;
}

// An X- property; libical writes its value as given (it escapes only the
// TEXT properties it knows).
void AddX(icalcomponent* to, const char* name, const std::string& value) {
  icalproperty* p = icalproperty_new_x(value.c_str());
  icalproperty_set_x_name(p, name);
  icalcomponent_add_property(to, p);
}

// Where a slot stands, for its SUMMARY; empty for a slot that will publish.
std::string StandingOf(const v1::PublishingSlot& slot) {
  switch (slot.status()) {
    case v1::SLOT_STATUS_RESERVED:
      for (const v1::SlotHold& hold : slot.holds()) {
        if (hold.kind() == v1::HOLD_KIND_BLACKOUT) return "blacked out";
      }
      return slot.holds().empty() ? "" : "awaiting approval";
    case v1::SLOT_STATUS_DUE:
      return "publishing";
    case v1::SLOT_STATUS_HELD:
      return "held";
    case v1::SLOT_STATUS_PUBLISHED:
      return "published";
    case v1::SLOT_STATUS_FAILED:
      return "failed";
    case v1::SLOT_STATUS_CANCELLED:
      return "cancelled";
    default:
      return "";
  }
}

icalproperty_status EventStatusOf(v1::SlotStatus status) {
  switch (status) {
    case v1::SLOT_STATUS_CANCELLED:
      return ICAL_STATUS_CANCELLED;
    case v1::SLOT_STATUS_DUE:
    case v1::SLOT_STATUS_PUBLISHED:
      return ICAL_STATUS_CONFIRMED;
    default:
      return ICAL_STATUS_TENTATIVE;
  }
}

icalcomponent* SlotEvent(const std::string& tenant_id, const v1::PublishingSlot& slot,
                         icaltimetype stamp) {
  icalcomponent* event = icalcomponent_new_vevent();
  const std::string uid = absl::StrCat(slot.slot_id(), ".", tenant_id, "@flywheel");
  icalcomponent_add_property(event, icalproperty_new_uid(uid.c_str()));
  icalcomponent_add_property(event, icalproperty_new_dtstamp(stamp));
  icalcomponent_add_property(event,
                             icalproperty_new_dtstart(Utc(FromProtoTime(slot.publish_time()))));
  icalcomponent_add_property(event, icalproperty_new_sequence(static_cast<int>(slot.revision())));
  icalcomponent_add_property(event, icalproperty_new_status(EventStatusOf(slot.status())));
  icalcomponent_add_property(event, icalproperty_new_transp(ICAL_TRANSP_TRANSPARENT));
  const std::string standing = StandingOf(slot);
  const std::string summary =
      absl::StrCat("Publish on ", slot.destination(), standing.empty() ? "" : " (", standing,
                   standing.empty() ? "" : ")");
  icalcomponent_add_property(event, icalproperty_new_summary(summary.c_str()));
  std::vector<std::string> lines = {absl::StrCat("Request: ", slot.request_id()),
                                    absl::StrCat("Channel: ", ChannelLabel(slot.channel()))};
  if (!slot.campaign_id().empty()) lines.push_back(absl::StrCat("Campaign: ", slot.campaign_id()));
  if (!slot.team_id().empty()) lines.push_back(absl::StrCat("Team: ", slot.team_id()));
  if (!slot.owner_id().empty()) lines.push_back(absl::StrCat("Owner: ", slot.owner_id()));
  for (const v1::SlotHold& hold : slot.holds()) {
    lines.push_back(absl::StrCat("Held: ", hold.description()));
  }
  if (!slot.outcome_detail().empty()) lines.push_back(slot.outcome_detail());
  if (!slot.note().empty()) lines.push_back(slot.note());
  const std::string description = absl::StrJoin(lines, "\n");
  icalcomponent_add_property(event, icalproperty_new_description(description.c_str()));
  icalcomponent_add_property(event,
                             icalproperty_new_categories(ChannelLabel(slot.channel()).c_str()));
  AddX(event, "X-FLYWHEEL-REQUEST-ID", slot.request_id());
  AddX(event, "X-FLYWHEEL-SLOT-STATUS",
       std::string(absl::StripPrefix(v1::SlotStatus_Name(slot.status()), "SLOT_STATUS_")));
  return event;
}

icalcomponent* BlackoutEvent(const std::string& tenant_id, const v1::Blackout& blackout,
                             icaltimetype stamp) {
  icalcomponent* event = icalcomponent_new_vevent();
  const std::string uid = absl::StrCat(blackout.blackout_id(), ".", tenant_id, "@flywheel");
  icalcomponent_add_property(event, icalproperty_new_uid(uid.c_str()));
  icalcomponent_add_property(event, icalproperty_new_dtstamp(stamp));
  icalcomponent_add_property(
      event, icalproperty_new_dtstart(Utc(FromProtoTime(blackout.range().start_time()))));
  icalcomponent_add_property(
      event, icalproperty_new_dtend(Utc(FromProtoTime(blackout.range().end_time()))));
  icalcomponent_add_property(event, icalproperty_new_status(ICAL_STATUS_CONFIRMED));
  icalcomponent_add_property(event, icalproperty_new_transp(ICAL_TRANSP_OPAQUE));
  const std::string summary = absl::StrCat("Blackout: ", blackout.reason());
  icalcomponent_add_property(event, icalproperty_new_summary(summary.c_str()));
  std::vector<std::string> over;
  for (int channel : blackout.channels()) {
    over.push_back(ChannelLabel(static_cast<common::v1::Channel>(channel)));
  }
  over.insert(over.end(), blackout.destinations().begin(), blackout.destinations().end());
  const std::string description =
      absl::StrCat("Nothing publishes on ",
                   over.empty() ? "any channel" : absl::StrJoin(over, ", "), " in this period.");
  icalcomponent_add_property(event, icalproperty_new_description(description.c_str()));
  AddX(event, "X-FLYWHEEL-BLACKOUT-ID", blackout.blackout_id());
  return event;
}

}  // namespace

std::string RenderFeed(const FeedContent& content, absl::Time now) {
  Component calendar(icalcomponent_new_vcalendar());
  icalcomponent_add_property(calendar.get(),
                             icalproperty_new_prodid("-//Flywheel//Publishing calendar//EN"));
  icalcomponent_add_property(calendar.get(), icalproperty_new_version("2.0"));
  icalcomponent_add_property(calendar.get(), icalproperty_new_calscale("GREGORIAN"));
  icalcomponent_add_property(calendar.get(), icalproperty_new_method(ICAL_METHOD_PUBLISH));
  // RFC 7986's NAME and REFRESH-INTERVAL, and the X- forms older apps
  // (Outlook, Apple Calendar) read instead.
  icalcomponent_add_property(calendar.get(), icalproperty_new_name(content.title.c_str()));
  AddX(calendar.get(), "X-WR-CALNAME", content.title);
  icalproperty* refresh = icalproperty_new_refreshinterval(
      icaldurationtype_from_int(static_cast<int>(absl::ToInt64Seconds(kFeedRefresh))));
  icalproperty_add_parameter(refresh, icalparameter_new_value(ICAL_VALUE_DURATION));
  icalcomponent_add_property(calendar.get(), refresh);
  AddX(calendar.get(), "X-PUBLISHED-TTL",
       absl::StrCat("PT", absl::ToInt64Minutes(kFeedRefresh), "M"));
  const icaltimetype stamp = Utc(now);
  for (const v1::PublishingSlot& slot : content.slots) {
    icalcomponent_add_component(calendar.get(), SlotEvent(content.tenant_id, slot, stamp));
  }
  for (const v1::Blackout& blackout : content.blackouts) {
    icalcomponent_add_component(calendar.get(), BlackoutEvent(content.tenant_id, blackout, stamp));
  }
  char* text = icalcomponent_as_ical_string_r(calendar.get());
  std::string out(text);
  icalmemory_free_buffer(text);
  return out;
}

}  // namespace flywheel::scheduler
