#include "services/customers/notifier/content.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace cowork::customers::notifier {
namespace {

constexpr const char* kWeekdays[] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                     "Friday", "Saturday", "Sunday"};
constexpr const char* kMonths[] = {"January", "February", "March",     "April",
                                   "May",     "June",     "July",      "August",
                                   "September", "October", "November", "December"};

std::string FormatDay(absl::CivilDay day) {
  return absl::StrFormat("%s %d %s %d", kWeekdays[static_cast<int>(absl::GetWeekday(day))],
                         day.day(), kMonths[day.month() - 1], day.year());
}

std::string FormatClock(absl::CivilSecond s) {
  return absl::StrFormat("%02d:%02d", s.hour(), s.minute());
}

std::string Hello(const Greeting& g) { return absl::StrCat("Hello ", g.first_name, ",\n\n"); }
std::string Signature(const Greeting& g) { return absl::StrCat("\n", g.operator_name, "\n"); }

}  // namespace

std::string FormatLocal(absl::Time t, absl::TimeZone zone) {
  const absl::CivilSecond s = absl::ToCivilSecond(t, zone);
  return absl::StrCat(FormatDay(absl::CivilDay(s)), ", ", FormatClock(s));
}

Text WelcomeText(const Greeting& greeting, absl::string_view email, absl::string_view setup_code) {
  return {absl::StrCat("Welcome to ", greeting.operator_name, ": your access details"),
          absl::StrCat(Hello(greeting), greeting.operator_name,
                       " has created an account for you in its members portal.\n\n"
                       "Your sign-in email: ", email, "\n",
                       "Your one-time setup code: ", setup_code, "\n\n",
                       "Choose your password with this code to sign in. The code works until "
                       "you have set a password.\n",
                       Signature(greeting))};
}

Text BookingConfirmationText(const Greeting& greeting, absl::string_view resource_name,
                             const Place& place, absl::Time start, absl::Time end) {
  const absl::CivilSecond from = absl::ToCivilSecond(start, place.zone);
  const absl::CivilSecond to = absl::ToCivilSecond(end, place.zone);
  // One day: "Monday 1 June 2026, 10:00–11:30"; across midnight both dates in full.
  const std::string when =
      absl::CivilDay(from) == absl::CivilDay(to)
          ? absl::StrCat(FormatLocal(start, place.zone), "–", FormatClock(to))
          : absl::StrCat(FormatLocal(start, place.zone), " – ", FormatLocal(end, place.zone));
  return {absl::StrCat("Booking confirmed: ", resource_name, " on ",
                       FormatDay(absl::CivilDay(from))),
          absl::StrCat(Hello(greeting), "your booking is confirmed:\n\n",
                       "  ", resource_name, "\n",
                       "  ", place.name, "\n",
                       "  ", when, " (", place.zone_name, " time)\n",
                       Signature(greeting))};
}

Text VisitorArrivalText(const Greeting& greeting, const Place& place, absl::Time arrived_at) {
  return {absl::StrCat("Your visitor has arrived at ", place.name),
          absl::StrCat(Hello(greeting), "a visitor you registered arrived at ", place.name,
                       " on ", FormatLocal(arrived_at, place.zone), " (", place.zone_name,
                       " time).\n", Signature(greeting))};
}

Text HelpdeskReplyText(const Greeting& greeting, const Place& place, absl::string_view ticket_id) {
  return {"New reply to your help desk ticket",
          absl::StrCat(Hello(greeting), "there is a new reply to your help desk ticket ",
                       ticket_id, " at ", place.name, ".\n",
                       "Sign in to the members portal to read it and to answer.\n",
                       Signature(greeting))};
}

}  // namespace cowork::customers::notifier
