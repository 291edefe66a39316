#include "calendar_proto.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace flywheel::scheduler {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

v1::BusinessCalendar Emea() {
  v1::BusinessCalendar message;
  message.set_calendar_id("emea");
  message.set_time_zone("Europe/Berlin");
  for (int day : {5, 1}) {
    for (auto [from, to] : {std::pair{540, 750}, std::pair{810, 1050}}) {
      v1::WorkingHours* hours = message.add_working_hours();
      hours->set_day_of_week(day);
      hours->set_start_minute(from);
      hours->set_end_minute(to);
    }
  }
  common::v1::Date* christmas = message.add_holidays();
  christmas->set_year(2026);
  christmas->set_month(12);
  christmas->set_day(25);
  return message;
}

TEST(CalendarProtoTest, MessageBuildsTheCalendarAndComesBack) {
  absl::StatusOr<CalendarSpec> spec = SpecFromProto(Emea());
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->time_zone, "Europe/Berlin");
  EXPECT_THAT(spec->hours[0], ElementsAre(WorkingInterval{540, 750}, WorkingInterval{810, 1050}));
  EXPECT_EQ(spec->hours[4].size(), 2u);
  EXPECT_TRUE(spec->hours[6].empty());
  EXPECT_THAT(spec->holidays, ElementsAre(absl::CivilDay(2026, 12, 25)));
  absl::StatusOr<BusinessCalendar> calendar = BusinessCalendar::Create(*spec);
  ASSERT_TRUE(calendar.ok()) << calendar.status();
  EXPECT_EQ(calendar->weekly_time(), absl::Hours(15));

  v1::BusinessCalendar back = Emea();
  SpecToProto(calendar->spec(), back);
  EXPECT_EQ(back.calendar_id(), "emea");
  ASSERT_EQ(back.working_hours_size(), 4);
  EXPECT_EQ(back.working_hours(0).day_of_week(), 1);  // Monday first now
  EXPECT_EQ(back.working_hours(3).day_of_week(), 5);
  absl::StatusOr<CalendarSpec> again = SpecFromProto(back);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->hours, calendar->spec().hours);
  EXPECT_EQ(again->holidays, calendar->spec().holidays);
}

TEST(CalendarProtoTest, BadFieldsAreNamed) {
  v1::BusinessCalendar sunday_zero = Emea();
  sunday_zero.mutable_working_hours(2)->set_day_of_week(0);
  EXPECT_THAT(SpecFromProto(sunday_zero).status().message(),
              HasSubstr("working_hours[2].day_of_week: must be 1 (Monday) to 7 (Sunday), got 0"));
  v1::BusinessCalendar february = Emea();
  february.mutable_holidays(0)->set_month(2);
  february.mutable_holidays(0)->set_day(30);
  EXPECT_THAT(SpecFromProto(february).status().message(),
              HasSubstr("holidays[0]: 2026-2-30 is not a date"));
  // What the message cannot say is left to Create.
  v1::BusinessCalendar closed = Emea();
  closed.clear_working_hours();
  absl::StatusOr<CalendarSpec> spec = SpecFromProto(closed);
  ASSERT_TRUE(spec.ok());
  EXPECT_THAT(BusinessCalendar::Create(*spec).status().message(), HasSubstr("no working hours"));
}

}  // namespace
}  // namespace flywheel::scheduler
