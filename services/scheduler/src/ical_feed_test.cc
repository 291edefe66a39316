#include "ical_feed.h"

#include <gtest/gtest.h>
#include <libical/ical.h>

#include <map>
#include <string>

#include "absl/strings/str_split.h"
#include "flywheel/core/proto_time.h"

namespace flywheel::scheduler {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'796'000'000);

// One VEVENT as a calendar app reads it back.
struct ParsedEvent {
  std::string summary;
  std::string description;
  absl::Time start;
  std::optional<absl::Time> end;
  icalproperty_status status = ICAL_STATUS_NONE;
  int sequence = -1;
  icalproperty_transp transp = ICAL_TRANSP_NONE;
};

// The events of `ics` by UID, parsed by libical's own parser; fails the
// test when libical finds errors in it.
std::map<std::string, ParsedEvent> Parse(const std::string& ics) {
  std::map<std::string, ParsedEvent> out;
  icalcomponent* calendar = icalparser_parse_string(ics.c_str());
  EXPECT_NE(calendar, nullptr);
  if (calendar == nullptr) return out;
  EXPECT_EQ(icalcomponent_isa(calendar), ICAL_VCALENDAR_COMPONENT);
  EXPECT_EQ(icalcomponent_count_errors(calendar), 0) << ics;
  for (icalcomponent* e = icalcomponent_get_first_component(calendar, ICAL_VEVENT_COMPONENT);
       e != nullptr; e = icalcomponent_get_next_component(calendar, ICAL_VEVENT_COMPONENT)) {
    ParsedEvent parsed;
    parsed.summary = icalcomponent_get_summary(e);
    parsed.description = icalcomponent_get_description(e);
    parsed.start = absl::FromTimeT(
        icaltime_as_timet_with_zone(icalcomponent_get_dtstart(e), icaltimezone_get_utc_timezone()));
    if (icalcomponent_get_first_property(e, ICAL_DTEND_PROPERTY) != nullptr) {
      parsed.end = absl::FromTimeT(
          icaltime_as_timet_with_zone(icalcomponent_get_dtend(e), icaltimezone_get_utc_timezone()));
    }
    parsed.status = icalcomponent_get_status(e);
    parsed.sequence = icalcomponent_get_sequence(e);
    icalproperty* transp = icalcomponent_get_first_property(e, ICAL_TRANSP_PROPERTY);
    if (transp != nullptr) parsed.transp = icalproperty_get_transp(transp);
    out[icalcomponent_get_uid(e)] = parsed;
  }
  icalcomponent_free(calendar);
  return out;
}

v1::PublishingSlot Slot(const std::string& id, v1::SlotStatus status, absl::Time at) {
  v1::PublishingSlot slot;
  slot.set_tenant_id("acme");
  slot.set_slot_id(id);
  slot.set_request_id("req_" + id);
  slot.set_channel(common::v1::CHANNEL_SOCIAL_ORGANIC);
  slot.set_destination("linkedin:acme-corp");
  *slot.mutable_publish_time() = ToProtoTime(at);
  slot.set_status(status);
  slot.set_revision(3);
  slot.set_team_id("content");
  return slot;
}

TEST(IcalFeedTest, EachSlotIsAnInstantEventThatSaysWhereItStands) {
  FeedContent content{.tenant_id = "acme", .title = "Publishing: acme"};
  content.slots.push_back(Slot("s1", v1::SLOT_STATUS_RESERVED, kNow + absl::Hours(2)));
  v1::PublishingSlot waiting = Slot("s2", v1::SLOT_STATUS_RESERVED, kNow + absl::Hours(30));
  waiting.add_holds()->set_kind(v1::HOLD_KIND_AWAITING_APPROVAL);
  waiting.mutable_holds(0)->set_description("the request is not approved yet");
  content.slots.push_back(waiting);
  content.slots.push_back(Slot("s3", v1::SLOT_STATUS_PUBLISHED, kNow - absl::Hours(5)));
  content.slots.push_back(Slot("s4", v1::SLOT_STATUS_CANCELLED, kNow + absl::Hours(7)));

  std::map<std::string, ParsedEvent> events = Parse(RenderFeed(content, kNow));
  ASSERT_EQ(events.size(), 4u);
  const ParsedEvent& reserved = events.at("s1.acme@flywheel");
  EXPECT_EQ(reserved.summary, "Publish on linkedin:acme-corp");
  EXPECT_EQ(reserved.start, kNow + absl::Hours(2));
  EXPECT_FALSE(reserved.end.has_value());
  EXPECT_EQ(reserved.status, ICAL_STATUS_TENTATIVE);
  EXPECT_EQ(reserved.sequence, 3);
  EXPECT_EQ(reserved.transp, ICAL_TRANSP_TRANSPARENT);
  EXPECT_NE(reserved.description.find("Request: req_s1"), std::string::npos);
  EXPECT_NE(reserved.description.find("Channel: social organic"), std::string::npos);

  const ParsedEvent& held = events.at("s2.acme@flywheel");
  EXPECT_EQ(held.summary, "Publish on linkedin:acme-corp (awaiting approval)");
  EXPECT_NE(held.description.find("Held: the request is not approved yet"), std::string::npos);
  EXPECT_EQ(events.at("s3.acme@flywheel").status, ICAL_STATUS_CONFIRMED);
  EXPECT_EQ(events.at("s3.acme@flywheel").summary, "Publish on linkedin:acme-corp (published)");
  EXPECT_EQ(events.at("s4.acme@flywheel").status, ICAL_STATUS_CANCELLED);
}

TEST(IcalFeedTest, BlackoutsSpanTheirPeriodAndBlockTime) {
  FeedContent content{.tenant_id = "acme", .title = "Publishing: acme"};
  v1::Blackout freeze;
  freeze.set_blackout_id("blackout_1");
  *freeze.mutable_range()->mutable_start_time() = ToProtoTime(kNow);
  *freeze.mutable_range()->mutable_end_time() = ToProtoTime(kNow + absl::Hours(48));
  freeze.set_reason("brand freeze before the launch");
  freeze.add_channels(common::v1::CHANNEL_EMAIL);
  content.blackouts.push_back(freeze);

  std::map<std::string, ParsedEvent> events = Parse(RenderFeed(content, kNow));
  ASSERT_EQ(events.size(), 1u);
  const ParsedEvent& event = events.at("blackout_1.acme@flywheel");
  EXPECT_EQ(event.summary, "Blackout: brand freeze before the launch");
  EXPECT_EQ(event.start, kNow);
  EXPECT_EQ(event.end, kNow + absl::Hours(48));
  EXPECT_EQ(event.transp, ICAL_TRANSP_OPAQUE);
  EXPECT_EQ(event.description, "Nothing publishes on email in this period.");
}

TEST(IcalFeedTest, TextSurvivesEscapingAndLinesAreFoldedAsRfc5545Asks) {
  FeedContent content{.tenant_id = "acme", .title = "Publishing: acme; Q1, EMEA"};
  v1::PublishingSlot slot = Slot("s1", v1::SLOT_STATUS_RESERVED, kNow + absl::Hours(1));
  const std::string note =
      "Launch post; mention the partners, the webinar and the \"early bird\" offer \\ then "
      "link the landing page — twice as long as one line may be, so it folds";
  slot.set_note(note);
  content.slots.push_back(slot);

  const std::string ics = RenderFeed(content, kNow);
  for (absl::string_view line : absl::StrSplit(ics, "\r\n")) {
    EXPECT_LE(line.size(), 75u) << "an unfolded line: " << line;
  }
  std::map<std::string, ParsedEvent> events = Parse(ics);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_NE(events.at("s1.acme@flywheel").description.find(note), std::string::npos);
  EXPECT_NE(ics.find("\r\nNAME:Publishing: acme\\; Q1\\, EMEA\r\n"), std::string::npos) << ics;
  EXPECT_NE(ics.find("\r\nREFRESH-INTERVAL;VALUE=DURATION:PT15M\r\n"), std::string::npos) << ics;
}

}  // namespace
}  // namespace flywheel::scheduler
