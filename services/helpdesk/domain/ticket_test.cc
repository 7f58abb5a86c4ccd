// OpenTicket tickets, replies and notes and the statuses they lead to, closing and reopening,
// priorities, refusals; texts reach the events only through the sealer.

#include "services/helpdesk/domain/ticket.h"

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cowork::helpdesk::domain {
namespace {

using ::testing::ElementsAre;

const absl::Time kNow = absl::FromUnixSeconds(1'780'000'000);

// Stands in for crypto::Seal: visibly not the clear text, reversible by eye, and exactly
// kSealOverhead bytes longer.
std::string FakeSeal(absl::string_view clear) {
  return absl::StrCat(std::string(kSealOverhead - 8, '#'), "sealed[", clear, "]");
}

// What staging does to decided events: the clear texts sealed into the payload.
absl::StatusOr<Events> Sealed(absl::StatusOr<Events> events) {
  if (!events.ok()) return events;
  for (Event& e : *events) {
    if (!e.has_clear_texts()) continue;
    if (e.has_ticket_opened()) {
      e.mutable_ticket_opened()->set_sealed_subject(FakeSeal(e.clear_texts().subject()));
      e.mutable_ticket_opened()->set_sealed_body(FakeSeal(e.clear_texts().body()));
    } else if (e.has_message_posted()) {
      e.mutable_message_posted()->set_sealed_body(FakeSeal(e.clear_texts().body()));
    }
    e.clear_clear_texts();
  }
  return events;
}

const Actor kCustomer{v1::CUSTOMER, "c-1"};
const Actor kStaff{v1::STAFF, "admin-1"};

OpenTicket Ticket(Actor by = kCustomer) {
  return {.ticket_id = "t-1",
          .message_id = "m-1",
          .customer_id = "c-1",
          .location_id = "loc-1",
          .subject = "  Wi-Fi is down ",
          .message = "Since this morning.\nSecond floor.\n",
          .priority = v1::HIGH,
          .by = by};
}

TicketState Applied(TicketState s, const Events& events) {
  for (const Event& e : events) s = Apply(std::move(s), e);
  return s;
}

TicketState Opened() {
  return Applied(TicketState(), *Sealed(Decide(TicketState(), Ticket(), kNow)));
}

PostMessage Reply(Actor by, std::string id = "m-2") {
  return {.message_id = std::move(id), .kind = v1::REPLY, .message = "On it.", .by = by};
}

std::vector<std::string> Fields(const absl::Status& status) {
  std::vector<std::string> out;
  for (const FieldViolation& v : FieldViolationsOf(status)) out.push_back(v.field);
  return out;
}

TEST(TicketDecide, OpenStartsOpenWithItsFirstMessageSealedAndTrimmed) {
  absl::StatusOr<Events> opened = Sealed(Decide(TicketState(), Ticket(), kNow));
  ASSERT_TRUE(opened.ok()) << opened.status();
  ASSERT_EQ(opened->size(), 1u);
  const v1::TicketOpened& o = (*opened)[0].ticket_opened();
  EXPECT_EQ(o.sealed_subject(), FakeSeal("Wi-Fi is down"));
  EXPECT_EQ(o.sealed_body(), FakeSeal("Since this morning.\nSecond floor."));
  const TicketState s = Applied(TicketState(), *opened);
  EXPECT_EQ(s.status(), v1::OPEN);
  EXPECT_EQ(s.priority(), v1::HIGH);
  EXPECT_EQ(s.message_count(), 1);
  EXPECT_EQ(s.message_bytes(), static_cast<int64_t>(o.sealed_body().size()));
  const std::optional<StoredMessage> first = MessageOf((*opened)[0]);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->kind(), v1::REPLY);
  EXPECT_EQ(first->author_kind(), v1::CUSTOMER);
  EXPECT_EQ(first->sealed_body(), o.sealed_body());
}

TEST(TicketDecide, OpenStaffMayOpenOnACustomersBehalfButNobodyForASuspendedOne) {
  EXPECT_TRUE(Sealed(Decide(TicketState(), Ticket(kStaff), kNow)).ok());
  OpenTicket suspended = Ticket(kStaff);
  suspended.customer.suspended = true;
  EXPECT_EQ(Sealed(Decide(TicketState(), suspended, kNow)).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(TicketDecide, OpenBadFieldsAreNamedTogether) {
  OpenTicket bad = Ticket();
  bad.subject = std::string(201, 'x');
  bad.message = " \n ";
  bad.priority = v1::PRIORITY_UNSPECIFIED;
  EXPECT_THAT(Fields(Sealed(Decide(TicketState(), bad, kNow)).status()),
              ElementsAre("subject", "message", "priority"));
  bad = Ticket();
  bad.subject = "two\nlines";
  bad.message = std::string(10'001, 'x');
  bad.priority = static_cast<v1::Priority>(99);
  EXPECT_THAT(Fields(Sealed(Decide(TicketState(), bad, kNow)).status()),
              ElementsAre("subject", "message", "priority"));
  bad = Ticket();
  bad.subject = std::string(200, 'x');
  bad.message = std::string(10'000, 'x');
  EXPECT_TRUE(Sealed(Decide(TicketState(), bad, kNow)).ok());
}

TEST(TicketDecide, RepliesStaffAwaitsTheCustomerAndEmailsThemTheCustomerReopensTheQuestion) {
  TicketState s = Opened();
  absl::StatusOr<Events> staff = Sealed(Decide(s, Reply(kStaff), kNow));
  ASSERT_TRUE(staff.ok()) << staff.status();
  ASSERT_EQ(staff->size(), 2u);
  EXPECT_EQ((*staff)[0].message_posted().status(), v1::AWAITING_CUSTOMER);
  const v1::ReplyNotificationRequested& mail = (*staff)[1].reply_notification_requested();
  EXPECT_EQ(mail.customer_id(), "c-1");
  EXPECT_EQ(mail.message_id(), "m-2");
  EXPECT_FALSE(absl::StrContains((*staff)[1].SerializeAsString(), "On it."));
  s = Applied(s, *staff);
  EXPECT_EQ(s.status(), v1::AWAITING_CUSTOMER);

  absl::StatusOr<Events> customer = Sealed(Decide(s, Reply(kCustomer, "m-3"), kNow));
  ASSERT_TRUE(customer.ok());
  ASSERT_EQ(customer->size(), 1u);  // no email for the customer's own reply
  s = Applied(s, *customer);
  EXPECT_EQ(s.status(), v1::OPEN);
  EXPECT_EQ(s.message_count(), 3);
  EXPECT_EQ(MessageOf((*customer)[0])->message_id(), "m-3");
  EXPECT_FALSE(MessageOf((*staff)[1]).has_value()) << "a notification request is no message";
}

TEST(TicketDecide, RepliesATicketHoldsAtMostItsMessagesAndBytes) {
  TicketState s = Opened();
  for (int i = 1; i < kMaxMessagesPerTicket; ++i) {
    absl::StatusOr<Events> posted = Sealed(Decide(s, Reply(kStaff, absl::StrCat("m-", i)), kNow));
    ASSERT_TRUE(posted.ok()) << i << ": " << posted.status();
    s = Applied(s, *posted);
  }
  EXPECT_EQ(s.message_count(), kMaxMessagesPerTicket);
  // The state stays the size of its counters, whatever the conversation holds.
  EXPECT_LT(s.ByteSizeLong(), 200u);
  const absl::Status full = Sealed(Decide(s, Reply(kStaff, "m-full"), kNow)).status();
  EXPECT_EQ(full.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Fields(full), ElementsAre("message"));
  PostMessage note{.message_id = "m-note", .kind = v1::NOTE, .message = "VIP", .by = kStaff};
  EXPECT_THAT(Fields(Sealed(Decide(s, note, kNow)).status()), ElementsAre("message"));

  // Bytes: a few messages of the longest kind fill a megabyte first.
  TicketState big = Opened();
  const std::string longest(kMaxMessageLength, 'x');
  int posted = 0;
  for (;; ++posted) {
    absl::StatusOr<Events> e = Sealed(Decide(
        big,
        PostMessage{.message_id = absl::StrCat("b-", posted), .message = longest, .by = kStaff},
        kNow));
    if (!e.ok()) {
      EXPECT_THAT(Fields(e.status()), ElementsAre("message"));
      break;
    }
    big = Applied(big, *e);
  }
  EXPECT_LE(big.message_bytes(), kMaxTicketBytes);
  EXPECT_EQ(posted, (kMaxTicketBytes - Opened().message_bytes()) /
                        static_cast<int64_t>(FakeSeal(longest).size()));
}

TEST(TicketDecide, NotesChangeNoStatusEmailNobodyAndMayGoOnClosedTickets) {
  TicketState s = Applied(Opened(), *Sealed(Decide(Opened(), Reply(kStaff), kNow)));
  PostMessage note{.message_id = "m-3", .kind = v1::NOTE, .message = "VIP", .by = kStaff};
  absl::StatusOr<Events> noted = Sealed(Decide(s, note, kNow));
  ASSERT_TRUE(noted.ok());
  ASSERT_EQ(noted->size(), 1u);
  EXPECT_EQ((*noted)[0].message_posted().status(), v1::AWAITING_CUSTOMER);
  s = Applied(s, *Decide(s, CloseTicket{kStaff, {}}, kNow));
  noted = Sealed(Decide(s, note, kNow));
  ASSERT_TRUE(noted.ok());
  EXPECT_EQ(Applied(s, *noted).status(), v1::CLOSED);
}

TEST(TicketDecide, RepliesNotOnAClosedTicketNotBySuspendedCustomersNotForErasedOnes) {
  TicketState s = Opened();
  s = Applied(s, *Decide(s, CloseTicket{kCustomer, {}}, kNow));
  EXPECT_EQ(Sealed(Decide(s, Reply(kCustomer), kNow)).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Sealed(Decide(s, Reply(kStaff), kNow)).status().code(),
            absl::StatusCode::kFailedPrecondition);

  s = Opened();
  PostMessage suspended = Reply(kCustomer);
  suspended.customer.suspended = true;
  EXPECT_EQ(Sealed(Decide(s, suspended, kNow)).status().code(),
            absl::StatusCode::kFailedPrecondition);
  PostMessage staff_to_suspended = Reply(kStaff);
  staff_to_suspended.customer.suspended = true;
  EXPECT_TRUE(Sealed(Decide(s, staff_to_suspended, kNow)).ok());
  PostMessage to_erased = Reply(kStaff);
  to_erased.customer.erased = true;
  EXPECT_EQ(Sealed(Decide(s, to_erased, kNow)).status().code(),
            absl::StatusCode::kFailedPrecondition);
  PostMessage empty = Reply(kStaff);
  empty.message = "";
  EXPECT_THAT(Fields(Sealed(Decide(s, empty, kNow)).status()), ElementsAre("message"));
}

TEST(TicketDecide, CloseAndReopenRecordedWithWhoAndNeverTwice) {
  TicketState s = Opened();
  absl::StatusOr<Events> closed = Decide(s, CloseTicket{kStaff, {}}, kNow);
  ASSERT_TRUE(closed.ok());
  EXPECT_EQ((*closed)[0].ticket_closed().by_id(), "admin-1");
  EXPECT_EQ((*closed)[0].ticket_closed().by_kind(), v1::STAFF);
  s = Applied(s, *closed);
  EXPECT_EQ(s.status(), v1::CLOSED);
  EXPECT_EQ(s.closed_by(), "admin-1");
  EXPECT_EQ(Decide(s, CloseTicket{kCustomer, {}}, kNow).status().code(),
            absl::StatusCode::kFailedPrecondition);

  absl::StatusOr<Events> reopened = Decide(s, ReopenTicket{kCustomer, {}}, kNow);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ((*reopened)[0].ticket_reopened().by_id(), "c-1");
  s = Applied(s, *reopened);
  EXPECT_EQ(s.status(), v1::OPEN);
  EXPECT_TRUE(s.closed_by().empty());
  EXPECT_FALSE(s.has_close_time());
  EXPECT_EQ(Decide(s, ReopenTicket{kStaff, {}}, kNow).status().code(),
            absl::StatusCode::kFailedPrecondition);

  // A suspended customer does neither; staff still close their tickets.
  EXPECT_EQ(Decide(s, CloseTicket{kCustomer, {.suspended = true}}, kNow).status().code(),
            absl::StatusCode::kFailedPrecondition);
  s = Applied(s, *Decide(s, CloseTicket{kStaff, {.suspended = true}}, kNow));
  EXPECT_EQ(Decide(s, ReopenTicket{kCustomer, {.suspended = true}}, kNow).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Decide(s, ReopenTicket{kStaff, {.erased = true}}, kNow).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(TicketDecide, PrioritiesChangedOnceRecordedWithThePreviousOne) {
  TicketState s = Opened();
  absl::StatusOr<Events> changed = Decide(s, SetTicketPriority{v1::CRITICAL, kStaff}, kNow);
  ASSERT_TRUE(changed.ok());
  ASSERT_EQ(changed->size(), 1u);
  EXPECT_EQ((*changed)[0].priority_changed().previous(), v1::HIGH);
  s = Applied(s, *changed);
  EXPECT_EQ(s.priority(), v1::CRITICAL);
  EXPECT_TRUE(Decide(s, SetTicketPriority{v1::CRITICAL, kStaff}, kNow)->empty());
  EXPECT_THAT(Fields(Decide(s, SetTicketPriority{v1::PRIORITY_UNSPECIFIED, kStaff}, kNow).status()),
              ElementsAre("priority"));
}

}  // namespace
}  // namespace cowork::helpdesk::domain
