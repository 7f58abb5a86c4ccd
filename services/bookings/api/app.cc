#include "services/bookings/api/app.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "cowork/contracts/v1/events.pb.h"
#include "libs/calendar/calendar.h"
#include "libs/clock/proto_time.h"
#include "libs/crypto/crypto.h"
#include "libs/eventstore/command.h"
#include "libs/eventstore/staging.h"
#include "libs/eventstore/views.h"
#include "libs/runtime/pages.h"
#include "libs/runtime/requests.h"
#include "libs/status/field_errors.h"
#include "libs/status/macros.h"
#include "libs/validation/validation.h"
#include "services/bookings/domain/booking.h"
#include "services/bookings/domain/resource.h"

namespace cowork::bookings::api {
namespace {

using eventstore::Decided;
using eventstore::Loaded;
using eventstore::Space;
using eventstore::Views;
using eventstore::WriteSet;
using eventstore::WriteViews;

constexpr absl::string_view kTopic = "cowork.bookings.events";
constexpr absl::string_view kResourceAggregate = "resource";
constexpr absl::string_view kBookingAggregate = "booking";
constexpr absl::string_view kScheduleAggregate = "schedule";
constexpr absl::string_view kCreditAggregate = "credit";
// Schedules and credit accounts race every booking of the resource or customer: retry more.
constexpr int kBookingAttempts = 32;
constexpr int kMaxAvailabilityDays = 31;
constexpr int64_t kMaxGrantMinutes = 1'000'000;
constexpr int kMaxReasonLength = 500;
constexpr absl::string_view kViewPrefixes[] = {"resloc/", "bkcust/", "bkres/", "bkloc/"};

eventstore::EnvelopeContext Context(absl::string_view op, absl::string_view request_id,
                                    absl::Time now) {
  return eventstore::CommandContext(kService, op, request_id, now);
}

// ---------------------------------------------------------------- views

v1::Resource ResourceView(const domain::ResourceState& s) {
  v1::Resource out;
  out.set_resource_id(s.resource_id());
  out.set_location_id(s.location_id());
  const v1::ResourceSettings& r = s.settings();
  out.set_name(r.name());
  out.set_kind(r.kind());
  out.set_capacity(r.capacity());
  *out.mutable_hourly_price() = r.hourly_price();
  out.set_portal_bookable(r.portal_bookable());
  out.set_min_minutes(r.min_minutes());
  out.set_max_minutes(r.max_minutes());
  return out;
}

std::string ResourcesAtPrefix(absl::string_view op, absl::string_view location) {
  return absl::StrCat("resloc/", op, "/", location, "/");
}

Views ResourceViews(const domain::ResourceState& s) {
  const std::string view = ResourceView(s).SerializeAsString();
  return {{ResourcesAtPrefix(s.operator_id(), s.location_id()) + s.resource_id(), view}};
}

v1::Booking BookingView(const domain::BookingState& s) {
  const v1::BookingCreated& c = s.created();
  v1::Booking out;
  out.set_booking_id(c.booking_id());
  out.set_resource_id(c.resource_id());
  out.set_location_id(c.location_id());
  out.set_customer_id(c.customer_id());
  *out.mutable_start_time() = c.start_time();
  *out.mutable_end_time() = c.end_time();
  out.set_state(s.cancelled() ? v1::CANCELLED : v1::CONFIRMED);
  *out.mutable_create_time() = s.create_time();
  out.set_credit_minutes(c.credit_minutes());
  *out.mutable_charge() = c.charge();
  out.set_resource_name(c.resource_name());
  out.set_booked_by(c.booked_by());
  return out;
}

std::string Start12(absl::Time t) { return absl::StrFormat("%012d", absl::ToUnixSeconds(t)); }
std::string DayPrefix(absl::string_view kind, absl::string_view op, absl::string_view id,
                      absl::CivilDay day) {
  return absl::StrCat(kind, "/", op, "/", id, "/", FormatDay(day), "/");
}
std::string CustomerBookingsPrefix(absl::string_view op, absl::string_view customer) {
  return absl::StrCat("bkcust/", op, "/", customer, "/");
}

// The local days [start, end) touches.
std::vector<absl::CivilDay> LocalDays(absl::Time start, absl::Time end, absl::TimeZone tz) {
  std::vector<absl::CivilDay> out;
  const absl::CivilDay last = calendar::Today(end - absl::Seconds(1), tz);
  for (absl::CivilDay d = calendar::Today(start, tz); d <= last; ++d) out.push_back(d);
  return out;
}

Views BookingViews(const domain::BookingState& s, absl::TimeZone tz) {
  const v1::BookingCreated& c = s.created();
  const std::string view = BookingView(s).SerializeAsString();
  const absl::Time start = FromTimestamp(c.start_time());
  const std::string tail = absl::StrCat(Start12(start), "/", c.booking_id());
  Views out = {{CustomerBookingsPrefix(s.operator_id(), c.customer_id()) + tail, view}};
  for (absl::CivilDay d : LocalDays(start, FromTimestamp(c.end_time()), tz)) {
    out.emplace(DayPrefix("bkres", s.operator_id(), c.resource_id(), d) + tail, view);
    out.emplace(DayPrefix("bkloc", s.operator_id(), c.location_id(), d) + tail, view);
  }
  return out;
}

std::string ContractCreditPrefix(absl::string_view op, absl::string_view customer) {
  return absl::StrCat("bkcontract/", op, "/", customer, "/");
}

// ---------------------------------------------------------------- loading


std::string ScheduleId(absl::string_view resource_id, absl::string_view day) {
  return absl::StrCat(resource_id, ":", day);
}
std::string CreditId(absl::string_view location_id, absl::string_view customer_id) {
  return absl::StrCat(location_id, ":", customer_id);
}

// A resource's schedule days, loaded for one command.
struct Schedules {
  std::map<std::string, Loaded<domain::ScheduleState>> days;  // schedule id -> state
  std::vector<domain::SlotTaken> slots;                       // every slot, once
};

absl::StatusOr<Schedules> LoadSchedules(const eventstore::Store& store,
                                        absl::string_view resource_id,
                                        const std::vector<std::string>& days) {
  Schedules out;
  std::set<std::string> seen;
  for (const std::string& day : days) {
    const std::string id = ScheduleId(resource_id, day);
    COWORK_ASSIGN_OR_RETURN(Loaded<domain::ScheduleState> s,
                            eventstore::LoadState<domain::ScheduleState>(
                                store, kScheduleAggregate, id));
    for (const domain::SlotTaken& slot : s.state.slots()) {
      if (seen.insert(slot.booking_id()).second) out.slots.push_back(slot);
    }
    out.days.emplace(id, std::move(s));
  }
  return out;
}

// The contracts of a customer at a location, as the contracts events told.
absl::StatusOr<std::vector<domain::ContractCredit>> ContractsOf(const eventstore::Store& store,
                                                                absl::string_view op,
                                                                absl::string_view customer,
                                                                absl::string_view location) {
  std::vector<domain::ContractCredit> out;
  absl::Status bad;
  COWORK_RETURN_IF_ERROR(store.Scan(
      Space::kViews, ContractCreditPrefix(op, customer), "",
      [&](absl::string_view key, absl::string_view value) {
        domain::ContractCredit c;
        if (!c.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          bad = absl::InternalError(absl::StrCat("view ", key, " does not parse"));
          return false;
        }
        if (c.location_id() == location) out.push_back(std::move(c));
        return true;
      }));
  COWORK_RETURN_IF_ERROR(bad);
  return out;
}

// Booking credit a customer may use at a location on a day, in the order it is used, with
// the credit accounts it comes from.
struct Wallet {
  std::vector<domain::CreditSource> own_plans, grants, team;
  std::map<std::string, Loaded<domain::CreditState>> accounts;  // credit id -> state
};

absl::StatusOr<Wallet> OpenWallet(const eventstore::Store& store,
                                  const directory::Directory& directory, absl::string_view op,
                                  absl::string_view customer, absl::string_view location,
                                  absl::CivilDay day) {
  Wallet w;
  auto account = [&](absl::string_view owner) -> absl::StatusOr<const domain::CreditState*> {
    const std::string id = CreditId(location, owner);
    auto it = w.accounts.find(id);
    if (it == w.accounts.end()) {
      COWORK_ASSIGN_OR_RETURN(Loaded<domain::CreditState> loaded,
                              eventstore::LoadState<domain::CreditState>(store, kCreditAggregate,
                                                                         id));
      it = w.accounts.emplace(id, std::move(loaded)).first;
    }
    return &it->second.state;
  };
  COWORK_ASSIGN_OR_RETURN(const domain::CreditState* own, account(customer));
  COWORK_ASSIGN_OR_RETURN(std::vector<domain::ContractCredit> contracts,
                          ContractsOf(store, op, customer, location));
  w.own_plans = domain::PlanSources(contracts, *own, day);
  if (own->granted_left() > 0) {
    w.grants.push_back({.owner = std::string(customer),
                        .source = v1::GRANT,
                        .available = own->granted_left()});
  }
  COWORK_ASSIGN_OR_RETURN(std::vector<directory::TeamInfo> teams,
                          directory.TeamsOf(op, customer));
  std::set<std::string> mates_seen;
  for (const directory::TeamInfo& team : teams) {
    if (!team.share_booking_credit) continue;
    COWORK_ASSIGN_OR_RETURN(std::vector<std::string> members, directory.MembersOf(op, team.team_id));
    for (const std::string& mate : members) {
      if (mate == customer || !mates_seen.insert(mate).second) continue;
      COWORK_ASSIGN_OR_RETURN(std::vector<domain::ContractCredit> theirs,
                              ContractsOf(store, op, mate, location));
      if (theirs.empty()) continue;
      COWORK_ASSIGN_OR_RETURN(const domain::CreditState* account_of_mate, account(mate));
      for (domain::CreditSource& s : domain::PlanSources(theirs, *account_of_mate, day)) {
        w.team.push_back(std::move(s));
      }
    }
  }
  return w;
}

int64_t Sum(const std::vector<domain::CreditSource>& sources) {
  int64_t total = 0;
  for (const domain::CreditSource& s : sources) total += s.available;
  return total;
}

// Stages credit events, grouped by the account they belong to.
void StageCredit(const eventstore::EnvelopeContext& context, absl::string_view location_id,
                 const std::map<std::string, Loaded<domain::CreditState>>& accounts,
                 const std::map<std::string, domain::Events>& events_by_owner, WriteSet& writes) {
  for (const auto& [owner, events] : events_by_owner) {
    const std::string id = CreditId(location_id, owner);
    auto it = accounts.find(id);
    const Loaded<domain::CreditState> before =
        it == accounts.end() ? Loaded<domain::CreditState>() : it->second;
    eventstore::Stage(context, kCreditAggregate, id, location_id, before, events, kTopic, writes);
  }
}

domain::Event SlotEvent(const v1::BookingCreated& b) {
  domain::Event e;
  domain::SlotTaken* taken = e.mutable_slot_taken();
  taken->set_booking_id(b.booking_id());
  taken->set_start_unix(absl::ToUnixSeconds(FromTimestamp(b.start_time())));
  taken->set_end_unix(absl::ToUnixSeconds(FromTimestamp(b.end_time())));
  return e;
}

domain::Event FreedEvent(absl::string_view booking_id) {
  domain::Event e;
  e.mutable_slot_freed()->set_booking_id(std::string(booking_id));
  return e;
}

domain::Event Confirmation(const v1::BookingCreated& b) {
  domain::Event e;
  v1::BookingConfirmationRequested* n = e.mutable_booking_confirmation_requested();
  n->set_booking_id(b.booking_id());
  n->set_customer_id(b.customer_id());
  n->set_location_id(b.location_id());
  n->set_resource_name(b.resource_name());
  *n->mutable_start_time() = b.start_time();
  *n->mutable_end_time() = b.end_time();
  return e;
}

// Stages the schedule events per day (topic "": never published).
void StageSchedules(const eventstore::EnvelopeContext& context, absl::string_view location_id,
                    const Schedules& schedules,
                    std::map<std::string, domain::Events> events_by_id, WriteSet& writes) {
  for (auto& [id, events] : events_by_id) {
    auto it = schedules.days.find(id);
    const Loaded<domain::ScheduleState> before =
        it == schedules.days.end() ? Loaded<domain::ScheduleState>() : it->second;
    eventstore::Stage(context, kScheduleAggregate, id, location_id, before, std::move(events), "",
                      writes);
  }
}

std::optional<absl::Time> TimeOf(bool has, const google::protobuf::Timestamp& t) {
  if (!has) return std::nullopt;
  return FromTimestamp(t);
}

// NOT_FOUND unless the customer exists (and is not erased); their standing otherwise.
absl::StatusOr<directory::CustomerStanding> KnownCustomer(const directory::Directory& directory,
                                                         absl::string_view op,
                                                         absl::string_view customer) {
  COWORK_ASSIGN_OR_RETURN(std::optional<directory::CustomerStanding> standing,
                          directory.GetCustomer(op, customer));
  if (!standing.has_value() || standing->erased) {
    return absl::NotFoundError(absl::StrCat("customer ", customer, " not found"));
  }
  return *std::move(standing);
}

absl::Status RequireKnownCustomer(const directory::Directory& directory, absl::string_view op,
                                  absl::string_view customer) {
  return KnownCustomer(directory, op, customer).status();
}

absl::Status RequireCustomerInGoodStanding(const directory::Directory& directory,
                                           absl::string_view op, absl::string_view customer) {
  COWORK_ASSIGN_OR_RETURN(const directory::CustomerStanding standing,
                          KnownCustomer(directory, op, customer));
  if (standing.suspended) {
    return absl::FailedPreconditionError(
        absl::StrCat("customer ", customer, " is suspended and cannot book"));
  }
  return absl::OkStatus();
}

}  // namespace

App::App(eventstore::Store& store, const directory::Directory& directory, const Clock& clock,
         const auth::TokenVerifier& verifier)
    : store_(store), directory_(directory), clock_(clock), authn_(verifier, directory) {}

// ---------------------------------------------------------------- resources

absl::StatusOr<v1::Resource> App::CreateResource(const auth::Principal& p,
                                                 const v1::CreateResourceRequest& r) {
  COWORK_RETURN_IF_ERROR(validation::CheckIds(r.request_id(), {{"location_id", r.location_id()}}));
  COWORK_RETURN_IF_ERROR(auth::RequireAdmin(p, auth::kBookingsWrite, r.location_id()));
  return eventstore::Execute<v1::Resource>(
      store_, runtime::RequestOf(p, "CreateResource", r),
      [&]() -> absl::StatusOr<Decided<v1::Resource>> {
        COWORK_ASSIGN_OR_RETURN(const directory::LocationInfo location,
                                directory_.FindLocation(p.operator_id, r.location_id()));
        const std::string id = crypto::NewId("rs-");
        COWORK_ASSIGN_OR_RETURN(
            domain::Events events,
            domain::DecideCreateResource(id, r.location_id(), r.spec(), location.currency));
        WriteSet writes;
        const domain::ResourceState after = eventstore::Stage(
            Context(p.operator_id, r.request_id(), clock_.Now()), kResourceAggregate, id,
            r.location_id(), Loaded<domain::ResourceState>(), std::move(events), kTopic, writes);
        WriteViews({}, ResourceViews(after), writes);
        return Decided<v1::Resource>{std::move(writes), ResourceView(after)};
      },
      runtime::AdminAtAnswer<v1::Resource>(p, auth::kBookingsWrite));
}

absl::StatusOr<v1::Resource> App::UpdateResource(const auth::Principal& p,
                                                 const v1::UpdateResourceRequest& r) {
  COWORK_RETURN_IF_ERROR(validation::CheckIds(r.request_id(), {{"resource_id", r.resource_id()}}));
  COWORK_RETURN_IF_ERROR(auth::RequirePermission(p, auth::kBookingsWrite));
  return eventstore::Execute<v1::Resource>(
      store_, runtime::RequestOf(p, "UpdateResource", r),
      [&]() -> absl::StatusOr<Decided<v1::Resource>> {
        COWORK_ASSIGN_OR_RETURN(Loaded<domain::ResourceState> before,
                                eventstore::LoadOwned<domain::ResourceState>(store_, kResourceAggregate,
                                                                 p.operator_id, r.resource_id(),
                                                                 "resource"));
        COWORK_RETURN_IF_ERROR(
            auth::RequireAdmin(p, auth::kBookingsWrite, before.state.location_id()));
        COWORK_ASSIGN_OR_RETURN(domain::Events events,
                                domain::DecideUpdateResource(before.state, r.spec()));
        WriteSet writes;
        const domain::ResourceState after = eventstore::Stage(
            Context(p.operator_id, r.request_id(), clock_.Now()), kResourceAggregate,
            r.resource_id(), before.state.location_id(), before, std::move(events), kTopic,
            writes);
        WriteViews(ResourceViews(before.state), ResourceViews(after), writes);
        return Decided<v1::Resource>{std::move(writes), ResourceView(after)};
      },
      runtime::AdminAtAnswer<v1::Resource>(p, auth::kBookingsWrite));
}

absl::StatusOr<v1::Resource> App::GetResource(const auth::Principal& p,
                                              const v1::GetResourceRequest& r) const {
  COWORK_RETURN_IF_ERROR(validation::CheckIds("", {{"resource_id", r.resource_id()}}));
  COWORK_ASSIGN_OR_RETURN(Loaded<domain::ResourceState> resource,
                          eventstore::LoadOwned<domain::ResourceState>(store_, kResourceAggregate,
                                                           p.operator_id, r.resource_id(),
                                                           "resource"));
  COWORK_RETURN_IF_ERROR(auth::RequireCatalogueReader(p, auth::kBookingsRead, resource.state.location_id()));
  return ResourceView(resource.state);
}

absl::StatusOr<v1::ListResourcesResponse> App::ListResources(
    const auth::Principal& p, const v1::ListResourcesRequest& r) const {
  COWORK_RETURN_IF_ERROR(validation::CheckIds("", {{"location_id", r.location_id()}}));
  COWORK_RETURN_IF_ERROR(auth::RequireCatalogueReader(p, auth::kBookingsRead, r.location_id()));
  COWORK_ASSIGN_OR_RETURN(
      eventstore::PageOf<v1::Resource> page,
      runtime::PageFor<v1::Resource>(store_, p, ResourcesAtPrefix(p.operator_id, r.location_id()),
                                     r.page_token(), r.page_size()));
  v1::ListResourcesResponse out;
  eventstore::MovePage(std::move(page), *out.mutable_resources(), out);
  return out;
}

// ---------------------------------------------------------------- bookings

absl::StatusOr<v1::Booking> App::CreateBooking(const auth::Principal& p,
                                               const v1::CreateBookingRequest& r) {
  const std::string customer_id =
      r.customer_id().empty() && p.is_customer() ? p.subject : r.customer_id();
  FieldErrors errors;
  errors.Merge(validation::CheckIds(
      r.request_id(), {{"resource_id", r.resource_id()}, {"customer_id", customer_id}}));
  if (r.has_start_time()) validation::CheckTimestamp(r.start_time(), "start_time", errors);
  if (r.has_end_time()) validation::CheckTimestamp(r.end_time(), "end_time", errors);
  COWORK_RETURN_IF_ERROR(errors.ToStatus());
  COWORK_RETURN_IF_ERROR(auth::RequireSelfOrPermission(p, auth::kBookingsWrite, customer_id));
  return eventstore::Execute<v1::Booking>(
      store_, runtime::RequestOf(p, "CreateBooking", r),
      [&]() -> absl::StatusOr<Decided<v1::Booking>> {
        COWORK_ASSIGN_OR_RETURN(Loaded<domain::ResourceState> resource,
                                eventstore::LoadOwned<domain::ResourceState>(store_, kResourceAggregate,
                                                                 p.operator_id, r.resource_id(),
                                                                 "resource"));
        const v1::ResourceSettings& settings = resource.state.settings();
        const std::string& location_id = resource.state.location_id();
        if (p.is_admin()) {
          COWORK_RETURN_IF_ERROR(auth::RequireAdmin(p, auth::kBookingsWrite, location_id));
        } else if (!settings.portal_bookable()) {
          return absl::PermissionDeniedError(
              absl::StrCat(settings.name(), " cannot be booked from the portal"));
        }
        const absl::Time now = clock_.Now();
        const std::optional<absl::Time> start = TimeOf(r.has_start_time(), r.start_time());
        const std::optional<absl::Time> end = TimeOf(r.has_end_time(), r.end_time());
        COWORK_RETURN_IF_ERROR(domain::CheckTimes(start, end, settings, now));
        COWORK_RETURN_IF_ERROR(
            RequireCustomerInGoodStanding(directory_, p.operator_id, customer_id));
        COWORK_ASSIGN_OR_RETURN(const directory::LocationInfo location,
                                directory_.FindLocation(p.operator_id, location_id));
        COWORK_ASSIGN_OR_RETURN(const absl::TimeZone tz, directory::TimeZoneOf(location));

        const std::vector<std::string> days = domain::ScheduleDays(*start, *end);
        COWORK_ASSIGN_OR_RETURN(Schedules schedules,
                                LoadSchedules(store_, r.resource_id(), days));
        COWORK_RETURN_IF_ERROR(domain::CheckRoom(schedules.slots, absl::ToUnixSeconds(*start),
                                                 absl::ToUnixSeconds(*end), settings.capacity()));

        // Paying: credit first, the rest at the hourly price; a free resource uses no credit.
        const std::string id = crypto::NewId("bk-");
        const int64_t minutes = absl::ToInt64Minutes(*end - *start);
        std::vector<v1::CreditDrawn> draws;
        Wallet wallet;
        if (settings.hourly_price().amount_minor() > 0) {
          COWORK_ASSIGN_OR_RETURN(wallet, OpenWallet(store_, directory_, p.operator_id,
                                                     customer_id, location_id,
                                                     calendar::Today(*start, tz)));
          std::vector<domain::CreditSource> sources = wallet.own_plans;
          sources.insert(sources.end(), wallet.grants.begin(), wallet.grants.end());
          sources.insert(sources.end(), wallet.team.begin(), wallet.team.end());
          draws = domain::Draw(sources, minutes, id, customer_id, location_id);
        }
        int64_t credit_minutes = 0;
        std::map<std::string, domain::Events> credit_events;
        for (const v1::CreditDrawn& d : draws) {
          credit_minutes += d.minutes();
          domain::Event e;
          *e.mutable_credit_drawn() = d;
          credit_events[d.customer_id()].push_back(std::move(e));
        }

        domain::Event created;
        v1::BookingCreated* b = created.mutable_booking_created();
        b->set_booking_id(id);
        b->set_resource_id(r.resource_id());
        b->set_location_id(location_id);
        b->set_customer_id(customer_id);
        *b->mutable_start_time() = ToTimestamp(*start);
        *b->mutable_end_time() = ToTimestamp(*end);
        b->set_resource_name(settings.name());
        b->mutable_charge()->set_amount_minor(
            domain::PriceOf(settings.hourly_price().amount_minor(), minutes - credit_minutes));
        b->mutable_charge()->set_currency(settings.hourly_price().currency());
        b->set_credit_minutes(credit_minutes);
        b->set_booked_by(p.subject);
        for (const v1::CreditDrawn& d : draws) *b->add_draws() = d;

        const eventstore::EnvelopeContext context = Context(p.operator_id, r.request_id(), now);
        WriteSet writes;
        std::map<std::string, domain::Events> slot_events;
        for (const std::string& day : days) {
          slot_events[ScheduleId(r.resource_id(), day)].push_back(SlotEvent(*b));
        }
        StageSchedules(context, location_id, schedules, std::move(slot_events), writes);
        StageCredit(context, location_id, wallet.accounts, credit_events, writes);
        domain::Event confirmation = Confirmation(*b);
        const domain::BookingState after = eventstore::Stage(
            context, kBookingAggregate, id, location_id, Loaded<domain::BookingState>(),
            domain::Events{std::move(created), std::move(confirmation)}, kTopic, writes);
        WriteViews({}, BookingViews(after, tz), writes);
        return Decided<v1::Booking>{std::move(writes), BookingView(after)};
      },
      runtime::AdminAtAnswerOrSelf<v1::Booking>(p, auth::kBookingsWrite), kBookingAttempts);
}

namespace {

// The booking of the caller's operator that the caller may change: an admin with
// bookings.write at its location, or its customer.
absl::StatusOr<Loaded<domain::BookingState>> ChangeableBooking(const eventstore::Store& store,
                                                               const auth::Principal& p,
                                                               absl::string_view booking_id) {
  COWORK_ASSIGN_OR_RETURN(Loaded<domain::BookingState> booking,
                          eventstore::LoadOwned<domain::BookingState>(store, kBookingAggregate,
                                                          p.operator_id, booking_id, "booking"));
  const v1::BookingCreated& b = booking.state.created();
  COWORK_RETURN_IF_ERROR(
      auth::RequireAdminOrSelf(p, auth::kBookingsWrite, b.location_id(), b.customer_id()));
  if (booking.state.cancelled()) {
    return absl::FailedPreconditionError(absl::StrCat("booking ", booking_id, " is cancelled"));
  }
  return booking;
}

}  // namespace

absl::StatusOr<v1::Booking> App::CancelBooking(const auth::Principal& p,
                                               const v1::CancelBookingRequest& r) {
  COWORK_RETURN_IF_ERROR(validation::CheckIds(r.request_id(), {{"booking_id", r.booking_id()}}));
  if (p.is_platform()) return absl::PermissionDeniedError("platform tokens cannot cancel");
  return eventstore::Execute<v1::Booking>(
      store_, runtime::RequestOf(p, "CancelBooking", r),
      [&]() -> absl::StatusOr<Decided<v1::Booking>> {
        COWORK_ASSIGN_OR_RETURN(Loaded<domain::BookingState> before,
                                ChangeableBooking(store_, p, r.booking_id()));
        const v1::BookingCreated& b = before.state.created();
        const absl::Time now = clock_.Now();
        if (FromTimestamp(b.end_time()) <= now) {
          return absl::FailedPreconditionError("the booking is over; it cannot be cancelled");
        }
        COWORK_ASSIGN_OR_RETURN(const directory::LocationInfo location,
                                directory_.FindLocation(p.operator_id, b.location_id()));
        COWORK_ASSIGN_OR_RETURN(const absl::TimeZone tz, directory::TimeZoneOf(location));
        const std::vector<std::string> days = domain::ScheduleDays(
            FromTimestamp(b.start_time()), FromTimestamp(b.end_time()));
        COWORK_ASSIGN_OR_RETURN(Schedules schedules, LoadSchedules(store_, b.resource_id(), days));

        const eventstore::EnvelopeContext context = Context(p.operator_id, r.request_id(), now);
        WriteSet writes;
        std::map<std::string, domain::Events> slot_events;
        for (const std::string& day : days) {
          slot_events[ScheduleId(b.resource_id(), day)].push_back(FreedEvent(b.booking_id()));
        }
        StageSchedules(context, b.location_id(), schedules, std::move(slot_events), writes);
        std::map<std::string, Loaded<domain::CreditState>> accounts;
        std::map<std::string, domain::Events> credit_events;
        for (const v1::CreditDrawn& d : b.draws()) {
          const std::string id = CreditId(b.location_id(), d.customer_id());
          if (!accounts.contains(id)) {
            COWORK_ASSIGN_OR_RETURN(accounts[id], eventstore::LoadState<domain::CreditState>(
                                                      store_, kCreditAggregate, id));
          }
          domain::Event e;
          *e.mutable_credit_returned() = domain::ReturnOf(d);
          credit_events[d.customer_id()].push_back(std::move(e));
        }
        StageCredit(context, b.location_id(), accounts, credit_events, writes);
        domain::Event cancelled;
        v1::BookingCancelled* c = cancelled.mutable_booking_cancelled();
        c->set_booking_id(b.booking_id());
        c->set_resource_id(b.resource_id());
        c->set_location_id(b.location_id());
        c->set_customer_id(b.customer_id());
        const domain::BookingState after =
            eventstore::Stage(context, kBookingAggregate, b.booking_id(), b.location_id(), before,
                              domain::Events{std::move(cancelled)}, kTopic, writes);
        WriteViews(BookingViews(before.state, tz), BookingViews(after, tz), writes);
        return Decided<v1::Booking>{std::move(writes), BookingView(after)};
      },
      runtime::AdminAtAnswerOrSelf<v1::Booking>(p, auth::kBookingsWrite), kBookingAttempts);
}

absl::StatusOr<v1::Booking> App::MoveBooking(const auth::Principal& p,
                                             const v1::MoveBookingRequest& r) {
  FieldErrors errors;
  errors.Merge(validation::CheckIds(r.request_id(), {{"booking_id", r.booking_id()}}));
  if (r.has_start_time()) validation::CheckTimestamp(r.start_time(), "start_time", errors);
  COWORK_RETURN_IF_ERROR(errors.ToStatus());
  if (p.is_platform()) return absl::PermissionDeniedError("platform tokens cannot move bookings");
  return eventstore::Execute<v1::Booking>(
      store_, runtime::RequestOf(p, "MoveBooking", r),
      [&]() -> absl::StatusOr<Decided<v1::Booking>> {
        COWORK_ASSIGN_OR_RETURN(Loaded<domain::BookingState> before,
                                ChangeableBooking(store_, p, r.booking_id()));
        const v1::BookingCreated& b = before.state.created();
        COWORK_ASSIGN_OR_RETURN(Loaded<domain::ResourceState> resource,
                                eventstore::LoadOwned<domain::ResourceState>(store_, kResourceAggregate,
                                                                 p.operator_id, b.resource_id(),
                                                                 "resource"));
        const absl::Time now = clock_.Now();
        const absl::Time old_start = FromTimestamp(b.start_time());
        const absl::Time old_end = FromTimestamp(b.end_time());
        if (old_start <= now) {
          return absl::FailedPreconditionError("the booking has started; it cannot be moved");
        }
        const std::optional<absl::Time> start = TimeOf(r.has_start_time(), r.start_time());
        const std::optional<absl::Time> end =
            start.has_value() ? std::optional<absl::Time>(*start + (old_end - old_start))
                              : std::nullopt;
        // The length was right when it was booked: only the new start is checked.
        v1::ResourceSettings as_booked = resource.state.settings();
        as_booked.set_min_minutes(0);
        as_booked.set_max_minutes(domain::kMaxBookingMinutes);
        COWORK_RETURN_IF_ERROR(domain::CheckTimes(start, end, as_booked, now));
        COWORK_ASSIGN_OR_RETURN(const directory::LocationInfo location,
                                directory_.FindLocation(p.operator_id, b.location_id()));
        COWORK_ASSIGN_OR_RETURN(const absl::TimeZone tz, directory::TimeZoneOf(location));

        const std::vector<std::string> old_days = domain::ScheduleDays(old_start, old_end);
        const std::vector<std::string> new_days = domain::ScheduleDays(*start, *end);
        std::vector<std::string> all_days = old_days;
        all_days.insert(all_days.end(), new_days.begin(), new_days.end());
        std::sort(all_days.begin(), all_days.end());
        all_days.erase(std::unique(all_days.begin(), all_days.end()), all_days.end());
        COWORK_ASSIGN_OR_RETURN(Schedules schedules,
                                LoadSchedules(store_, b.resource_id(), all_days));
        COWORK_RETURN_IF_ERROR(domain::CheckRoom(
            schedules.slots, absl::ToUnixSeconds(*start), absl::ToUnixSeconds(*end),
            resource.state.settings().capacity(), b.booking_id()));

        domain::Event moved;
        v1::BookingMoved* m = moved.mutable_booking_moved();
        m->set_booking_id(b.booking_id());
        m->set_resource_id(b.resource_id());
        m->set_location_id(b.location_id());
        m->set_customer_id(b.customer_id());
        *m->mutable_start_time() = ToTimestamp(*start);
        *m->mutable_end_time() = ToTimestamp(*end);
        *m->mutable_previous_start_time() = b.start_time();
        v1::BookingCreated now_booked = b;
        *now_booked.mutable_start_time() = m->start_time();
        *now_booked.mutable_end_time() = m->end_time();

        const eventstore::EnvelopeContext context = Context(p.operator_id, r.request_id(), now);
        WriteSet writes;
        std::map<std::string, domain::Events> slot_events;
        for (const std::string& day : old_days) {
          slot_events[ScheduleId(b.resource_id(), day)].push_back(FreedEvent(b.booking_id()));
        }
        for (const std::string& day : new_days) {
          slot_events[ScheduleId(b.resource_id(), day)].push_back(SlotEvent(now_booked));
        }
        StageSchedules(context, b.location_id(), schedules, std::move(slot_events), writes);
        const domain::BookingState after = eventstore::Stage(
            context, kBookingAggregate, b.booking_id(), b.location_id(), before,
            domain::Events{std::move(moved), Confirmation(now_booked)}, kTopic, writes);
        WriteViews(BookingViews(before.state, tz), BookingViews(after, tz), writes);
        return Decided<v1::Booking>{std::move(writes), BookingView(after)};
      },
      runtime::AdminAtAnswerOrSelf<v1::Booking>(p, auth::kBookingsWrite), kBookingAttempts);
}

absl::StatusOr<v1::Booking> App::GetBooking(const auth::Principal& p,
                                            const v1::GetBookingRequest& r) const {
  COWORK_RETURN_IF_ERROR(validation::CheckIds("", {{"booking_id", r.booking_id()}}));
  COWORK_ASSIGN_OR_RETURN(Loaded<domain::BookingState> booking,
                          eventstore::LoadOwned<domain::BookingState>(store_, kBookingAggregate,
                                                          p.operator_id, r.booking_id(),
                                                          "booking"));
  const v1::BookingCreated& b = booking.state.created();
  COWORK_RETURN_IF_ERROR(
      auth::RequireAdminOrSelf(p, auth::kBookingsRead, b.location_id(), b.customer_id()));
  return BookingView(booking.state);
}

absl::StatusOr<v1::ListBookingsResponse> App::ListBookings(const auth::Principal& p,
                                                           const v1::ListBookingsRequest& r) const {
  const int chosen = !r.resource_id().empty() + !r.customer_id().empty() + !r.location_id().empty();
  if (chosen != 1) {
    return InvalidField("resource_id",
                        "give exactly one of resource_id, customer_id and location_id");
  }
  const bool by_resource = !r.resource_id().empty(), by_location = !r.location_id().empty();
  const std::string& id =
      by_resource ? r.resource_id() : by_location ? r.location_id() : r.customer_id();
  COWORK_RETURN_IF_ERROR(validation::CheckIds(
      "", {{by_resource ? "resource_id" : by_location ? "location_id" : "customer_id", id}}));
  std::optional<absl::CivilDay> day;
  if (r.has_day()) {
    day = FromDate(r.day());
    if (!day.has_value()) return InvalidField("day", "must be a calendar date");
  }
  if (p.is_platform()) return absl::PermissionDeniedError("platform tokens cannot read this");

  // Time zones of the locations the listed bookings are at.
  std::map<std::string, absl::TimeZone> zones;
  absl::Status zone_error;
  auto zone_of = [&](const std::string& location_id) -> std::optional<absl::TimeZone> {
    auto it = zones.find(location_id);
    if (it != zones.end()) return it->second;
    absl::StatusOr<directory::LocationInfo> location =
        directory_.FindLocation(p.operator_id, location_id);
    absl::StatusOr<absl::TimeZone> tz =
        location.ok() ? directory::TimeZoneOf(*location) : location.status();
    if (!tz.ok()) {
      zone_error = tz.status();
      return std::nullopt;
    }
    return zones.emplace(location_id, *tz).first->second;
  };

  std::string prefix;
  if (by_resource || by_location) {
    std::string location_id = r.location_id();
    if (by_resource) {
      COWORK_ASSIGN_OR_RETURN(Loaded<domain::ResourceState> resource,
                              eventstore::LoadOwned<domain::ResourceState>(store_, kResourceAggregate,
                                                               p.operator_id, r.resource_id(),
                                                               "resource"));
      location_id = resource.state.location_id();
    } else {
      COWORK_RETURN_IF_ERROR(directory_.FindLocation(p.operator_id, location_id).status());
    }
    if (p.is_customer()) {
      return absl::PermissionDeniedError("customers list their own bookings (customer_id)");
    }
    COWORK_RETURN_IF_ERROR(auth::RequireAdmin(p, auth::kBookingsRead, location_id));
    const std::string kind = by_resource ? "bkres" : "bkloc";
    prefix = day.has_value() ? DayPrefix(kind, p.operator_id, id, *day)
                             : absl::StrCat(kind, "/", p.operator_id, "/", id, "/");
  } else {
    COWORK_RETURN_IF_ERROR(auth::RequireSelfOrPermission(p, auth::kBookingsRead, r.customer_id()));
    prefix = CustomerBookingsPrefix(p.operator_id, r.customer_id());
  }

  COWORK_ASSIGN_OR_RETURN(const int page_size, eventstore::PageSize(r.page_size()));
  COWORK_ASSIGN_OR_RETURN(
      eventstore::PageOf<v1::Booking> page,
      eventstore::Paginate<v1::Booking>(
          store_, prefix, r.page_token(), page_size, eventstore::kMaxScan,
          [&](absl::string_view key,
              absl::string_view value) -> absl::StatusOr<std::optional<v1::Booking>> {
            COWORK_ASSIGN_OR_RETURN(std::optional<v1::Booking> b,
                                    eventstore::ParseView<v1::Booking>(key, value));
            if (p.is_admin() && !p.CoversLocation(b->location_id())) return std::nullopt;
            const std::optional<absl::TimeZone> tz = zone_of(b->location_id());
            if (!tz.has_value()) return zone_error;
            const absl::Time start = FromTimestamp(b->start_time());
            if (!day.has_value()) {
              // Resource and location lists hold a booking once per day it touches: keep
              // its first.
              if (by_resource || by_location) {
                const std::vector<std::string> parts = absl::StrSplit(key, '/');
                if (parts.size() < 4 || parts[3] != FormatDay(calendar::Today(start, *tz))) {
                  return std::nullopt;
                }
              }
              return b;
            }
            if (by_resource || by_location) return b;  // the day's own prefix
            const bool overlaps = start < calendar::StartOfDay(*day + 1, *tz) &&
                                  FromTimestamp(b->end_time()) > calendar::StartOfDay(*day, *tz);
            return overlaps ? b : std::nullopt;
          }));
  v1::ListBookingsResponse out;
  eventstore::MovePage(std::move(page), *out.mutable_bookings(), out);
  return out;
}

absl::StatusOr<v1::GetAvailabilityResponse> App::GetAvailability(
    const auth::Principal& p, const v1::GetAvailabilityRequest& r) const {
  FieldErrors errors;
  const bool by_resource = !r.resource_id().empty();
  if (by_resource == !r.location_id().empty()) {
    errors.Add("resource_id", "give exactly one of resource_id and location_id");
  } else {
    validation::CheckId(by_resource ? r.resource_id() : r.location_id(),
                        by_resource ? "resource_id" : "location_id", errors);
  }
  if (!r.has_from()) errors.Add("from", "is required");
  if (!r.has_to()) errors.Add("to", "is required");
  validation::CheckTimestamp(r.from(), "from", errors);
  validation::CheckTimestamp(r.to(), "to", errors);
  const absl::Time from = FromTimestamp(r.from()), to = FromTimestamp(r.to());
  if (r.has_from() && r.has_to() && errors.empty()) {
    if (to <= from) {
      errors.Add("to", "must be after from");
    } else if (to - from > absl::Hours(24 * kMaxAvailabilityDays)) {
      errors.Add("to", absl::StrCat("must be at most ", kMaxAvailabilityDays, " days after from"));
    }
  }
  COWORK_RETURN_IF_ERROR(errors.ToStatus());

  std::vector<domain::ResourceState> resources;
  std::string location_id = r.location_id();
  if (by_resource) {
    COWORK_ASSIGN_OR_RETURN(Loaded<domain::ResourceState> resource,
                            eventstore::LoadOwned<domain::ResourceState>(store_, kResourceAggregate,
                                                             p.operator_id, r.resource_id(),
                                                             "resource"));
    location_id = resource.state.location_id();
    resources.push_back(std::move(resource.state));
  } else {
    COWORK_RETURN_IF_ERROR(directory_.FindLocation(p.operator_id, location_id).status());
  }
  COWORK_RETURN_IF_ERROR(auth::RequireCatalogueReader(p, auth::kBookingsRead, location_id));
  if (!by_resource) {
    absl::Status bad;
    COWORK_RETURN_IF_ERROR(store_.Scan(
        Space::kViews, ResourcesAtPrefix(p.operator_id, location_id), "",
        [&](absl::string_view key, absl::string_view value) {
          v1::Resource view;
          if (!view.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
            bad = absl::InternalError(absl::StrCat("view ", key, " does not parse"));
            return false;
          }
          domain::ResourceState s;
          s.set_resource_id(view.resource_id());
          s.mutable_settings()->set_capacity(view.capacity());
          resources.push_back(std::move(s));
          return true;
        }));
    COWORK_RETURN_IF_ERROR(bad);
  }
  const std::vector<std::string> days = domain::ScheduleDays(from, to);
  v1::GetAvailabilityResponse out;
  for (const domain::ResourceState& resource : resources) {
    COWORK_ASSIGN_OR_RETURN(Schedules schedules,
                            LoadSchedules(store_, resource.resource_id(), days));
    v1::ResourceAvailability* a = out.add_resources();
    a->set_resource_id(resource.resource_id());
    a->set_capacity(resource.settings().capacity());
    for (const domain::Stretch& s : domain::BusyStretches(
             schedules.slots, absl::ToUnixSeconds(from), absl::ToUnixSeconds(to))) {
      v1::Busy* busy = a->add_busy();
      *busy->mutable_start_time() = ToTimestamp(absl::FromUnixSeconds(s.start_unix));
      *busy->mutable_end_time() = ToTimestamp(absl::FromUnixSeconds(s.end_unix));
      busy->set_taken(s.taken);
    }
  }
  return out;
}

// ---------------------------------------------------------------- credit

namespace {

// What a customer may book with at a location on a day; `own` replaces their stored credit
// account when given (a grant about to be committed).
absl::StatusOr<v1::CreditBalance> BalanceOf(const eventstore::Store& store,
                                            const directory::Directory& directory,
                                            absl::string_view op, absl::string_view customer,
                                            absl::string_view location, absl::CivilDay day,
                                            const domain::CreditState* own = nullptr) {
  COWORK_ASSIGN_OR_RETURN(Wallet wallet,
                          OpenWallet(store, directory, op, customer, location, day));
  const domain::CreditState& account =
      own != nullptr ? *own : wallet.accounts[CreditId(location, customer)].state;
  v1::CreditBalance out;
  out.set_customer_id(std::string(customer));
  out.set_location_id(std::string(location));
  int64_t plans_left = 0;
  COWORK_ASSIGN_OR_RETURN(std::vector<domain::ContractCredit> contracts,
                          ContractsOf(store, op, customer, location));
  for (const domain::ContractCredit& c : contracts) {
    const std::optional<calendar::Period> period = domain::CreditPeriodOn(c, day);
    if (!period.has_value()) continue;
    auto used = account.plan_used().find(domain::PlanKey(c.contract_id(), period->first));
    v1::PlanCredit* plan = out.add_plans();
    plan->set_contract_id(c.contract_id());
    *plan->mutable_period_start() = ToDate(period->first);
    *plan->mutable_period_end() = ToDate(period->last);
    plan->set_included_minutes(c.credit_minutes());
    plan->set_used_minutes(used == account.plan_used().end() ? 0 : used->second);
    plans_left += std::max<int64_t>(0, plan->included_minutes() - plan->used_minutes());
  }
  out.set_granted_minutes_left(std::max<int64_t>(0, account.granted_left()));
  out.set_team_minutes_left(Sum(wallet.team));
  out.set_available_minutes(plans_left + out.granted_minutes_left() + out.team_minutes_left());
  return out;
}

}  // namespace

absl::StatusOr<v1::CreditBalance> App::GrantCredit(const auth::Principal& p,
                                                   const v1::GrantCreditRequest& r) {
  FieldErrors errors;
  errors.Merge(validation::CheckIds(r.request_id(), {{"customer_id", r.customer_id()},
                                                      {"location_id", r.location_id()}}));
  if (r.minutes() < 1 || r.minutes() > kMaxGrantMinutes) {
    errors.Add("minutes", absl::StrCat("must be 1..", kMaxGrantMinutes));
  }
  validation::CheckLabel(r.reason(), "reason", kMaxReasonLength, errors, /*required=*/false);
  COWORK_RETURN_IF_ERROR(errors.ToStatus());
  COWORK_RETURN_IF_ERROR(auth::RequireAdmin(p, auth::kBookingsWrite, r.location_id()));
  return eventstore::Execute<v1::CreditBalance>(
      store_, runtime::RequestOf(p, "GrantCredit", r),
      [&]() -> absl::StatusOr<Decided<v1::CreditBalance>> {
        COWORK_ASSIGN_OR_RETURN(const directory::LocationInfo location,
                                directory_.FindLocation(p.operator_id, r.location_id()));
        COWORK_ASSIGN_OR_RETURN(const absl::TimeZone tz, directory::TimeZoneOf(location));
        COWORK_RETURN_IF_ERROR(RequireKnownCustomer(directory_, p.operator_id, r.customer_id()));
        const std::string id = CreditId(r.location_id(), r.customer_id());
        COWORK_ASSIGN_OR_RETURN(Loaded<domain::CreditState> before,
                                eventstore::LoadState<domain::CreditState>(
                                    store_, kCreditAggregate, id));
        domain::Event granted;
        v1::CreditGranted* g = granted.mutable_credit_granted();
        g->set_customer_id(r.customer_id());
        g->set_location_id(r.location_id());
        g->set_minutes(r.minutes());
        g->set_reason(std::string(validation::TrimSpaces(r.reason())));
        const absl::Time now = clock_.Now();
        WriteSet writes;
        const domain::CreditState after = eventstore::Stage(
            Context(p.operator_id, r.request_id(), now), kCreditAggregate, id, r.location_id(),
            before, domain::Events{std::move(granted)}, kTopic, writes);
        COWORK_ASSIGN_OR_RETURN(
            v1::CreditBalance balance,
            BalanceOf(store_, directory_, p.operator_id, r.customer_id(), r.location_id(),
                      calendar::Today(now, tz), &after));
        return Decided<v1::CreditBalance>{std::move(writes), std::move(balance)};
      },
      runtime::AdminAtAnswer<v1::CreditBalance>(p, auth::kBookingsWrite));
}

absl::StatusOr<v1::CreditBalance> App::GetCredit(const auth::Principal& p,
                                                 const v1::GetCreditRequest& r) const {
  COWORK_RETURN_IF_ERROR(validation::CheckIds(
      "", {{"customer_id", r.customer_id()}, {"location_id", r.location_id()}}));
  std::optional<absl::CivilDay> day;
  if (r.has_day()) {
    day = FromDate(r.day());
    if (!day.has_value()) return InvalidField("day", "must be a calendar date");
  }
  COWORK_RETURN_IF_ERROR(
      auth::RequireAdminOrSelf(p, auth::kBookingsRead, r.location_id(), r.customer_id()));
  COWORK_RETURN_IF_ERROR(RequireKnownCustomer(directory_, p.operator_id, r.customer_id()));
  COWORK_ASSIGN_OR_RETURN(const directory::LocationInfo location,
                          directory_.FindLocation(p.operator_id, r.location_id()));
  COWORK_ASSIGN_OR_RETURN(const absl::TimeZone tz, directory::TimeZoneOf(location));
  return BalanceOf(store_, directory_, p.operator_id, r.customer_id(), r.location_id(),
                   day.value_or(calendar::Today(clock_.Now(), tz)));
}

// ---------------------------------------------------------------- contracts events

absl::Status App::OnContractEvent(const common::v1::EventEnvelope& envelope,
                                  const google::protobuf::Message& payload,
                                  WriteSet& writes) const {
  namespace cv1 = ::cowork::contracts::v1;
  const std::string& type = payload.GetDescriptor()->full_name();
  const std::string bytes = payload.SerializeAsString();
  auto key_of = [&](const std::string& customer, const std::string& contract) {
    return ContractCreditPrefix(envelope.operator_id(), customer) + contract;
  };
  if (type == cv1::ContractSigned::descriptor()->full_name()) {
    cv1::ContractSigned e;
    if (!e.ParseFromString(bytes)) return absl::InvalidArgumentError("ContractSigned");
    domain::ContractCredit c;
    c.set_contract_id(e.contract_id());
    c.set_customer_id(e.customer_id());
    c.set_location_id(e.location_id());
    *c.mutable_start_date() = e.start_date();
    if (e.has_end_date()) *c.mutable_end_date() = e.end_date();
    c.set_cycle(e.cycle());
    c.set_credit_minutes(e.booking_credit_minutes());
    writes.Put(Space::kViews, key_of(e.customer_id(), e.contract_id()), c.SerializeAsString());
    return absl::OkStatus();
  }
  // Cancelled and ended contracts: the end date (and whether it ever started) change.
  std::string customer, contract;
  google::type::Date end_date;
  bool never_started = false;
  if (type == cv1::ContractCancelled::descriptor()->full_name()) {
    cv1::ContractCancelled e;
    if (!e.ParseFromString(bytes)) return absl::InvalidArgumentError("ContractCancelled");
    customer = e.customer_id();
    contract = e.contract_id();
    end_date = e.end_date();
  } else if (type == cv1::ContractEnded::descriptor()->full_name()) {
    cv1::ContractEnded e;
    if (!e.ParseFromString(bytes)) return absl::InvalidArgumentError("ContractEnded");
    customer = e.customer_id();
    contract = e.contract_id();
    end_date = e.end_date();
    never_started = !e.started();
  } else {
    return absl::OkStatus();
  }
  const std::string key = key_of(customer, contract);
  COWORK_ASSIGN_OR_RETURN(std::optional<domain::ContractCredit> c,
                          eventstore::ReadView<domain::ContractCredit>(store_, key));
  if (!c.has_value()) return absl::OkStatus();  // signed before this service listened
  *c->mutable_end_date() = end_date;
  if (never_started) c->set_never_started(true);
  writes.Put(Space::kViews, key, c->SerializeAsString());
  return absl::OkStatus();
}

void App::SubscribeToContracts(kafka::EventConsumer& consumer) const {
  auto handle = [this](const common::v1::EventEnvelope& envelope,
                       const google::protobuf::Message& payload, WriteSet& writes) {
    return OnContractEvent(envelope, payload, writes);
  };
  consumer.On<contracts::v1::ContractSigned>(handle);
  consumer.On<contracts::v1::ContractCancelled>(handle);
  consumer.On<contracts::v1::ContractEnded>(handle);
}

absl::Status App::ResetContracts() const {
  return store_.DeletePrefix(Space::kViews, "bkcontract/");
}

// ---------------------------------------------------------------- rebuild

absl::Status App::Rebuild() {
  COWORK_RETURN_IF_ERROR(eventstore::DeleteViews(store_, kViewPrefixes));
  std::map<std::string, domain::ResourceState> resources;
  std::map<std::string, domain::BookingState> bookings;
  COWORK_RETURN_IF_ERROR(eventstore::ForEachDomainEvent<domain::Event>(
      store_, [&](const common::v1::EventEnvelope& envelope, const domain::Event& e) {
        const std::string& type = envelope.aggregate_type();
        const std::string& id = envelope.aggregate_id();
        if (type == kResourceAggregate) {
          resources[id] = domain::Apply(std::move(resources[id]), e);
        } else if (type == kBookingAggregate) {
          bookings[id] = domain::Apply(std::move(bookings[id]), e);
        }
      }));

  eventstore::ViewBatches out(store_);
  for (const auto& [id, resource] : resources) {
    COWORK_RETURN_IF_ERROR(out.Write(ResourceViews(resource)));
  }
  for (const auto& [id, booking] : bookings) {
    COWORK_ASSIGN_OR_RETURN(const directory::LocationInfo location,
                            directory_.FindLocation(booking.operator_id(),
                                                    booking.created().location_id()));
    COWORK_ASSIGN_OR_RETURN(const absl::TimeZone tz, directory::TimeZoneOf(location));
    COWORK_RETURN_IF_ERROR(out.Write(BookingViews(booking, tz)));
  }
  return out.Finish();
}

}  // namespace cowork::bookings::api
