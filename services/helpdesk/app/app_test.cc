// The helpdesk application layer over a real Store (RocksDB in a temp dir), a simulated clock
// and a directory fed with customers events as the customers consumer would feed it.

#include "services/helpdesk/app/app.h"

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "cowork/customers/v1/events.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/clock/proto_time.h"
#include "libs/runtime/requests.h"
#include "libs/status/field_errors.h"
#include "libs/testing/app_fixtures.h"
#include "services/helpdesk/projection/projection.h"

namespace cowork::helpdesk::app {
namespace {

namespace events = ::cowork::customers::v1;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr char kOp[] = "op-1";  // AppTest's operator
constexpr char kSubject[] = "The printer on floor 2 is jammed";
constexpr char kBody[] = "It eats every page.\nSince Monday.";

auth::Principal Admin(std::vector<std::string> locations = {"*"}, std::string op = kOp) {
  return cowork::testing::AdminOf(std::move(op), std::move(locations));
}
auth::Principal Customer(std::string id) { return cowork::testing::CustomerOf(kOp, std::move(id)); }

std::vector<std::string> Fields(const absl::Status& status) {
  std::vector<std::string> out;
  for (const FieldViolation& v : FieldViolationsOf(status)) out.push_back(v.field);
  return out;
}

std::vector<std::string> Bodies(const v1::Ticket& t) {
  std::vector<std::string> out;
  for (const v1::TicketMessage& m : t.messages()) out.push_back(m.body());
  return out;
}

class HelpdeskAppTest : public cowork::testing::AppTest<App> {
 protected:
  HelpdeskAppTest() : AppTest(absl::FromCivil(absl::CivilSecond(2026, 6, 1, 9, 0, 0), absl::UTCTimeZone())) {}

  static v1::OpenTicketRequest Opening(const std::string& customer, const std::string& location,
                                       const std::string& request_id) {
    v1::OpenTicketRequest r;
    r.set_request_id(request_id);
    r.set_customer_id(customer);
    r.set_location_id(location);
    r.set_subject(kSubject);
    r.set_message(kBody);
    r.set_priority(v1::NORMAL);
    return r;
  }
  absl::StatusOr<v1::Ticket> Open(const auth::Principal& as, const std::string& customer = "",
                                  const std::string& location = "loc-mad",
                                  const std::string& request_id = "") {
    return app_.OpenTicket(as, Opening(customer, location, request_id));
  }
  absl::StatusOr<v1::Ticket> Reply(const auth::Principal& as, const std::string& ticket,
                                   const std::string& text = "We are on it.",
                                   const std::string& request_id = "") {
    v1::ReplyToTicketRequest r;
    r.set_request_id(request_id);
    r.set_ticket_id(ticket);
    r.set_message(text);
    return app_.ReplyToTicket(as, r);
  }
  absl::StatusOr<v1::Ticket> Note(const auth::Principal& as, const std::string& ticket,
                                  const std::string& text = "Call the technician.") {
    v1::AddTicketNoteRequest r;
    r.set_ticket_id(ticket);
    r.set_message(text);
    return app_.AddTicketNote(as, r);
  }
  absl::StatusOr<v1::Ticket> Close(const auth::Principal& as, const std::string& ticket) {
    v1::CloseTicketRequest r;
    r.set_ticket_id(ticket);
    return app_.CloseTicket(as, r);
  }
  absl::StatusOr<v1::Ticket> Reopen(const auth::Principal& as, const std::string& ticket) {
    v1::ReopenTicketRequest r;
    r.set_ticket_id(ticket);
    return app_.ReopenTicket(as, r);
  }
  absl::StatusOr<v1::Ticket> Priority(const auth::Principal& as, const std::string& ticket,
                                      v1::Priority priority) {
    v1::SetTicketPriorityRequest r;
    r.set_ticket_id(ticket);
    r.set_priority(priority);
    return app_.SetTicketPriority(as, r);
  }
  absl::StatusOr<v1::Ticket> Get(const auth::Principal& as, const std::string& ticket) {
    v1::GetTicketRequest r;
    r.set_ticket_id(ticket);
    return app_.GetTicket(as, r);
  }
  // The ticket ids of a listing (every page), or the error.
  absl::StatusOr<std::vector<std::string>> List(
      const auth::Principal& as, const std::string& location, const std::string& customer,
      v1::TicketStatus status = v1::TICKET_STATUS_UNSPECIFIED, int page_size = 2) {
    v1::ListTicketsRequest r;
    r.set_location_id(location);
    r.set_customer_id(customer);
    r.set_status(status);
    r.set_page_size(page_size);
    std::vector<std::string> ids;
    for (int page = 0; page < 100; ++page) {
      absl::StatusOr<v1::ListTicketsResponse> out = app_.ListTickets(as, r);
      if (!out.ok()) return out.status();
      for (const v1::Ticket& t : out->tickets()) {
        EXPECT_TRUE(t.messages().empty());
        ids.push_back(t.ticket_id());
      }
      if (out->next_page_token().empty()) break;
      r.set_page_token(out->next_page_token());
    }
    return ids;
  }

  // Whether any event, view or state of the store holds `text` in clear.
  bool StoredInClear(const std::string& text) {
    bool found = false;
    EXPECT_TRUE(store_
                    ->ForEachEvent([&](const common::v1::EventEnvelope& e) {
                      found = found || absl::StrContains(e.SerializeAsString(), text);
                      return true;
                    })
                    .ok());
    for (const auto& [key, value] : AllViews()) found = found || absl::StrContains(value, text);
    return found;
  }
};

TEST_F(HelpdeskAppTest, RepliesMoveTheStatusAndStaffRepliesAreEmailed) {
  absl::StatusOr<v1::Ticket> opened = Open(Customer("c-1"));
  ASSERT_TRUE(opened.ok()) << opened.status();
  const std::string id = opened->ticket_id();
  EXPECT_TRUE(absl::StartsWith(id, "t-"));
  EXPECT_EQ(opened->customer_id(), "c-1");
  EXPECT_EQ(opened->subject(), kSubject);
  EXPECT_EQ(opened->status(), v1::OPEN);
  EXPECT_THAT(Bodies(*opened), ElementsAre(kBody));
  EXPECT_EQ(opened->messages(0).author_kind(), v1::CUSTOMER);

  clock_.Advance(absl::Hours(1));
  absl::StatusOr<v1::Ticket> staff = Reply(Admin({"loc-mad"}), id);
  ASSERT_TRUE(staff.ok()) << staff.status();
  EXPECT_EQ(staff->status(), v1::AWAITING_CUSTOMER);
  EXPECT_EQ(FromTimestamp(staff->update_time()), clock_.Now());

  // The customer's portal view shows the staff reply.
  absl::StatusOr<v1::Ticket> portal = Get(Customer("c-1"), id);
  ASSERT_TRUE(portal.ok());
  EXPECT_THAT(Bodies(*portal), ElementsAre(kBody, "We are on it."));
  EXPECT_EQ(portal->messages(1).author_kind(), v1::STAFF);
  EXPECT_EQ(portal->status(), v1::AWAITING_CUSTOMER);

  absl::StatusOr<v1::Ticket> answer = Reply(Customer("c-1"), id, "Thanks!");
  ASSERT_TRUE(answer.ok());
  EXPECT_EQ(answer->status(), v1::OPEN);
  EXPECT_THAT(EventTypes(), ElementsAre("TicketOpened", "MessagePosted",
                                        "ReplyNotificationRequested", "MessagePosted"));
  // Subjects and texts are sealed everywhere they are stored (ids are not).
  EXPECT_TRUE(StoredInClear(id));
  EXPECT_FALSE(StoredInClear("printer on floor 2"));
  EXPECT_FALSE(StoredInClear("eats every page"));
  EXPECT_FALSE(StoredInClear("on it"));
}

TEST_F(HelpdeskAppTest, NotesAreForStaffOnly) {
  const std::string id = Open(Customer("c-1"))->ticket_id();
  absl::StatusOr<v1::Ticket> noted = Note(Admin(), id);
  ASSERT_TRUE(noted.ok()) << noted.status();
  EXPECT_EQ(noted->status(), v1::OPEN);
  EXPECT_THAT(Bodies(*noted), ElementsAre(kBody, "Call the technician."));
  EXPECT_EQ(noted->messages(1).kind(), v1::NOTE);
  EXPECT_THAT(Bodies(*Get(Customer("c-1"), id)), ElementsAre(kBody));
  // The answer to the customer's own reply leaves the note out too.
  EXPECT_THAT(Bodies(*Reply(Customer("c-1"), id, "Any news?")), ElementsAre(kBody, "Any news?"));
  EXPECT_THAT(Bodies(*Get(Admin(), id)), ElementsAre(kBody, "Call the technician.", "Any news?"));
  EXPECT_EQ(Note(Customer("c-1"), id).status().code(), absl::StatusCode::kPermissionDenied);
  // No email for a note.
  EXPECT_THAT(EventTypes(), ElementsAre("TicketOpened", "MessagePosted", "MessagePosted"));
}

TEST_F(HelpdeskAppTest, ClosingAndReopeningAreRecordedOnce) {
  const std::string id = Open(Customer("c-1"))->ticket_id();
  clock_.Advance(absl::Minutes(5));
  absl::StatusOr<v1::Ticket> closed = Close(Customer("c-1"), id);
  ASSERT_TRUE(closed.ok()) << closed.status();
  EXPECT_EQ(closed->status(), v1::CLOSED);
  EXPECT_EQ(closed->closed_by(), "c-1");
  EXPECT_EQ(FromTimestamp(closed->close_time()), clock_.Now());
  EXPECT_EQ(Close(Admin(), id).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Reply(Customer("c-1"), id).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Reply(Admin(), id).status().code(), absl::StatusCode::kFailedPrecondition);

  absl::StatusOr<v1::Ticket> reopened = Reopen(Admin(), id);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ(reopened->status(), v1::OPEN);
  EXPECT_FALSE(reopened->has_close_time());
  EXPECT_EQ(Reopen(Customer("c-1"), id).status().code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(Priority(Admin(), id, v1::CRITICAL).ok());
  EXPECT_EQ(Get(Admin(), id)->priority(), v1::CRITICAL);
  ASSERT_TRUE(Priority(Admin(), id, v1::CRITICAL).ok());  // unchanged: nothing recorded
  EXPECT_THAT(EventTypes(),
              ElementsAre("TicketOpened", "TicketClosed", "TicketReopened", "PriorityChanged"));
}

TEST_F(HelpdeskAppTest, ARetryDoesNothingTwiceAndAnswersOnlyItsOwner) {
  absl::StatusOr<v1::Ticket> first = Open(Customer("c-1"), "", "loc-mad", "req-open-1");
  ASSERT_TRUE(first.ok());
  absl::StatusOr<v1::Ticket> again = Open(Customer("c-1"), "", "loc-mad", "req-open-1");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->ticket_id(), first->ticket_id());
  // The recorded answer is the sealed ticket, not its texts.
  absl::StatusOr<std::optional<common::v1::StoredResponse>> recorded = store_->FindRequest(
      runtime::RequestOf(Customer("c-1"), "OpenTicket", Opening("", "loc-mad", "req-open-1"))
          .RecordKey());
  ASSERT_TRUE(recorded.ok() && recorded->has_value());
  EXPECT_TRUE(absl::StrContains((*recorded)->SerializeAsString(), first->ticket_id()));
  EXPECT_FALSE(absl::StrContains((*recorded)->SerializeAsString(), "printer on floor 2"));
  // Someone else sending the same request id gets a ticket of their own.
  absl::StatusOr<v1::Ticket> theirs = Open(Customer("c-2"), "", "loc-mad", "req-open-1");
  ASSERT_TRUE(theirs.ok()) << theirs.status();
  EXPECT_NE(theirs->ticket_id(), first->ticket_id());
  EXPECT_EQ(theirs->customer_id(), "c-2");
  ASSERT_TRUE(Reply(Admin(), first->ticket_id(), "Hello", "req-reply-1").ok());
  ASSERT_TRUE(Reply(Admin(), first->ticket_id(), "Hello", "req-reply-1").ok());
  EXPECT_THAT(EventTypes(),
              ElementsAre("TicketOpened", "TicketOpened", "MessagePosted",
                          "ReplyNotificationRequested"));
}

TEST_F(HelpdeskAppTest, EveryCallKeepsCustomersAndLocationsApart) {
  const std::string a = Open(Customer("c-1"))->ticket_id();
  const std::string b = Open(Customer("c-2"))->ticket_id();
  clock_.Advance(absl::Minutes(1));  // lists are in order of opening
  const std::string nyc = Open(Admin(), "c-1", "loc-nyc")->ticket_id();
  constexpr auto kDenied = absl::StatusCode::kPermissionDenied;
  constexpr auto kNotFound = absl::StatusCode::kNotFound;

  // Customer B and customer A's ticket.
  const auth::Principal ben = Customer("c-2");
  EXPECT_EQ(Open(ben, "c-1").status().code(), kDenied);
  EXPECT_EQ(Get(ben, a).status().code(), kDenied);
  EXPECT_EQ(Reply(ben, a).status().code(), kDenied);
  EXPECT_EQ(Note(ben, a).status().code(), kDenied);
  EXPECT_EQ(Close(ben, a).status().code(), kDenied);
  EXPECT_EQ(Reopen(ben, a).status().code(), kDenied);
  EXPECT_EQ(Priority(ben, a, v1::HIGH).status().code(), kDenied);
  EXPECT_EQ(Priority(Customer("c-1"), a, v1::HIGH).status().code(), kDenied);
  EXPECT_EQ(List(ben, "", "c-1").status().code(), kDenied);
  EXPECT_EQ(List(ben, "loc-mad", "").status().code(), kDenied);
  EXPECT_THAT(*List(ben, "", ""), ElementsAre(b));
  EXPECT_THAT(*List(ben, "", "c-2"), ElementsAre(b));
  EXPECT_THAT(*List(Customer("c-1"), "", ""), ElementsAre(a, nyc));

  // An admin of another location.
  const auth::Principal ny = Admin({"loc-nyc"});
  EXPECT_EQ(Open(ny, "c-1", "loc-mad").status().code(), kDenied);
  EXPECT_EQ(Get(ny, a).status().code(), kDenied);
  EXPECT_EQ(Reply(ny, a).status().code(), kDenied);
  EXPECT_EQ(Note(ny, a).status().code(), kDenied);
  EXPECT_EQ(Close(ny, a).status().code(), kDenied);
  EXPECT_EQ(Priority(ny, a, v1::HIGH).status().code(), kDenied);
  EXPECT_EQ(List(ny, "loc-mad", "").status().code(), kDenied);
  EXPECT_THAT(*List(ny, "", "c-1"), ElementsAre(nyc));
  EXPECT_THAT(*List(ny, "loc-nyc", ""), ElementsAre(nyc));
  EXPECT_TRUE(Get(ny, nyc).ok());

  // An admin without the help desk permissions.
  auth::Principal no_perms = Admin();
  no_perms.permissions = {std::string(auth::kCheckinsRead)};
  EXPECT_EQ(Get(no_perms, a).status().code(), kDenied);
  EXPECT_EQ(Reply(no_perms, a).status().code(), kDenied);
  EXPECT_EQ(List(no_perms, "loc-mad", "").status().code(), kDenied);
  EXPECT_EQ(Open(no_perms, "c-1").status().code(), kDenied);
  auth::Principal reader = Admin();
  reader.permissions = {std::string(auth::kHelpdeskRead)};
  EXPECT_TRUE(Get(reader, a).ok());
  EXPECT_EQ(Close(reader, a).status().code(), kDenied);

  // Another operator's admin: the tickets do not exist.
  const auth::Principal other = Admin({"*"}, "op-2");
  EXPECT_EQ(Get(other, a).status().code(), kNotFound);
  EXPECT_EQ(Reply(other, a).status().code(), kNotFound);
  EXPECT_EQ(Close(other, a).status().code(), kNotFound);
  EXPECT_EQ(Open(other, "c-1", "loc-mad").status().code(), kNotFound);
  EXPECT_THAT(*List(other, "", "c-1"), IsEmpty());
  EXPECT_EQ(Get(Admin(), "t-none").status().code(), kNotFound);
  // Only the admin's tickets of three were opened by staff on a customer's behalf.
  EXPECT_EQ(Get(Admin(), nyc)->messages(0).author_kind(), v1::STAFF);
}

TEST_F(HelpdeskAppTest, SuspendedCustomersOpenNothingAndUnknownOnesAreNotFound) {
  const std::string id = Open(Customer("c-2"))->ticket_id();
  events::CustomerSuspended suspended;
  suspended.set_customer_id("c-2");
  Feed("customer", "c-2", 2, suspended);
  constexpr auto kRefused = absl::StatusCode::kFailedPrecondition;
  EXPECT_EQ(Open(Customer("c-2")).status().code(), kRefused);
  EXPECT_EQ(Open(Admin(), "c-2").status().code(), kRefused);
  EXPECT_EQ(Reply(Customer("c-2"), id).status().code(), kRefused);
  EXPECT_EQ(Close(Customer("c-2"), id).status().code(), kRefused);
  // Staff still answer and close.
  EXPECT_TRUE(Reply(Admin(), id).ok());
  EXPECT_TRUE(Close(Admin(), id).ok());
  EXPECT_EQ(Reopen(Customer("c-2"), id).status().code(), kRefused);

  EXPECT_EQ(Open(Admin(), "c-unknown").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Open(Admin(), "c-1", "loc-unknown").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(List(Admin(), "loc-unknown", "").status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(EventTypes(), ElementsAre("TicketOpened", "MessagePosted",
                                        "ReplyNotificationRequested", "TicketClosed"));
}

TEST_F(HelpdeskAppTest, ErasureLeavesTheTicketsWithoutTheirTexts) {
  const std::string id = Open(Customer("c-3"))->ticket_id();
  ASSERT_TRUE(Reply(Admin(), id).ok());
  ASSERT_TRUE(Note(Admin(), id).ok());
  const std::string kept = Open(Customer("c-1"))->ticket_id();
  events::CustomerErased erased;
  erased.set_customer_id("c-3");
  Feed("customer", "c-3", 2, erased);  // the directory deletes c-3's key

  absl::StatusOr<v1::Ticket> t = Get(Admin(), id);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_TRUE(t->erased());
  EXPECT_EQ(t->subject(), "");
  EXPECT_EQ(t->status(), v1::AWAITING_CUSTOMER);  // ids, statuses and times stay
  ASSERT_EQ(t->messages_size(), 3);
  for (const v1::TicketMessage& m : t->messages()) {
    EXPECT_TRUE(m.erased());
    EXPECT_EQ(m.body(), "");
  }
  v1::ListTicketsRequest r;
  r.set_location_id("loc-mad");
  absl::StatusOr<v1::ListTicketsResponse> listed = app_.ListTickets(Admin(), r);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->tickets_size(), 2);
  for (const v1::Ticket& each : listed->tickets()) {
    EXPECT_EQ(each.erased(), each.ticket_id() == id);
    EXPECT_EQ(each.subject().empty(), each.ticket_id() == id);
  }
  EXPECT_EQ(Get(Admin(), kept)->subject(), kSubject);

  EXPECT_EQ(Reply(Admin(), id).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Note(Admin(), id).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Close(Admin(), id).ok());
  EXPECT_EQ(Reopen(Admin(), id).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Open(Admin(), "c-3").status().code(), absl::StatusCode::kNotFound);
  // A rebuild from the log reads nothing back either.
  ASSERT_TRUE(projection::Rebuild(*store_).ok());
  EXPECT_TRUE(Get(Admin(), id)->erased());
}

TEST_F(HelpdeskAppTest, BadInputNamesEveryFieldAndWritesNothing) {
  const auto views_before = AllViews();
  v1::OpenTicketRequest open;
  open.set_request_id(std::string(200, 'r'));
  open.set_customer_id("c/1");
  open.set_subject(" ");
  open.set_message(std::string(10'001, 'x'));
  EXPECT_THAT(Fields(app_.OpenTicket(Admin(), open).status()),
              ElementsAre("request_id", "customer_id", "location_id", "subject", "message",
                          "priority"));
  open = v1::OpenTicketRequest();
  open.set_location_id("loc-mad");
  open.set_subject("Bell\x07");
  open.set_message("\xFF\xFE");
  open.set_priority(static_cast<v1::Priority>(42));
  EXPECT_THAT(Fields(app_.OpenTicket(Customer("c-1"), open).status()),
              ElementsAre("subject", "message", "priority"));

  v1::ReplyToTicketRequest reply;
  reply.set_ticket_id("../t-1");
  EXPECT_THAT(Fields(app_.ReplyToTicket(Admin(), reply).status()),
              ElementsAre("ticket_id", "message"));
  v1::AddTicketNoteRequest note;
  note.set_message("   ");
  EXPECT_THAT(Fields(app_.AddTicketNote(Admin(), note).status()),
              ElementsAre("ticket_id", "message"));
  v1::SetTicketPriorityRequest priority;
  priority.set_ticket_id("t-1");
  EXPECT_THAT(Fields(app_.SetTicketPriority(Admin(), priority).status()),
              ElementsAre("priority"));
  EXPECT_THAT(Fields(app_.CloseTicket(Admin(), v1::CloseTicketRequest()).status()),
              ElementsAre("ticket_id"));
  EXPECT_THAT(Fields(app_.ReopenTicket(Admin(), v1::ReopenTicketRequest()).status()),
              ElementsAre("ticket_id"));
  EXPECT_THAT(Fields(app_.GetTicket(Admin(), v1::GetTicketRequest()).status()),
              ElementsAre("ticket_id"));
  v1::ListTicketsRequest both;
  both.set_location_id("loc-mad");
  both.set_customer_id("c-1");
  both.set_status(static_cast<v1::TicketStatus>(9));
  EXPECT_THAT(Fields(app_.ListTickets(Admin(), both).status()), ElementsAre("customer_id", "status"));
  EXPECT_THAT(Fields(app_.ListTickets(Admin(), v1::ListTicketsRequest()).status()),
              ElementsAre("location_id"));
  v1::ListTicketsRequest negative;
  negative.set_location_id("loc-mad");
  negative.set_page_size(-1);
  EXPECT_THAT(Fields(app_.ListTickets(Admin(), negative).status()), ElementsAre("page_size"));

  EXPECT_THAT(EventTypes(), IsEmpty());
  EXPECT_EQ(AllViews(), views_before);
}

TEST_F(HelpdeskAppTest, ListsAreOldestFirstPagedAndFilteredByStatus) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(Open(Customer(i % 2 == 0 ? "c-1" : "c-2"))->ticket_id());
    clock_.Advance(absl::Minutes(1));
  }
  ASSERT_TRUE(Reply(Admin(), ids[1]).ok());
  ASSERT_TRUE(Close(Admin(), ids[3]).ok());
  EXPECT_THAT(*List(Admin(), "loc-mad", ""), ElementsAre(ids[0], ids[1], ids[2], ids[3], ids[4]));
  EXPECT_THAT(*List(Admin(), "loc-mad", "", v1::OPEN), ElementsAre(ids[0], ids[2], ids[4]));
  EXPECT_THAT(*List(Admin(), "loc-mad", "", v1::AWAITING_CUSTOMER), ElementsAre(ids[1]));
  EXPECT_THAT(*List(Customer("c-2"), "", "", v1::CLOSED), ElementsAre(ids[3]));
  EXPECT_THAT(*List(Admin(), "", "c-1"), ElementsAre(ids[0], ids[2], ids[4]));
  EXPECT_THAT(*List(Admin(), "loc-nyc", ""), IsEmpty());
}

TEST_F(HelpdeskAppTest, RebuildingTheViewsFromTheLogGivesIdenticalViews) {
  const std::string a = Open(Customer("c-1"))->ticket_id();
  clock_.Advance(absl::Minutes(3));
  const std::string b = Open(Admin(), "c-2", "loc-nyc")->ticket_id();
  ASSERT_TRUE(Reply(Admin(), a).ok());
  ASSERT_TRUE(Note(Admin(), b).ok());
  clock_.Advance(absl::Minutes(3));
  ASSERT_TRUE(Close(Customer("c-1"), a).ok());
  ASSERT_TRUE(Reopen(Customer("c-1"), a).ok());
  ASSERT_TRUE(Priority(Admin(), b, v1::LOW).ok());
  ASSERT_TRUE(Close(Admin(), b).ok());
  const auto before = AllViews();
  const std::vector<std::string> listed = *List(Admin(), "loc-mad", "");
  ASSERT_TRUE(projection::Rebuild(*store_).ok());
  EXPECT_EQ(AllViews(), before);
  EXPECT_EQ(*List(Admin(), "loc-mad", ""), listed);
  EXPECT_THAT(*List(Admin(), "", "c-2", v1::CLOSED), ElementsAre(b));
}

}  // namespace
}  // namespace cowork::helpdesk::app
