// Opening tickets, replies and notes and the statuses they lead to, closing and reopening,
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

// Stands in for crypto::Seal: visibly not the clear text, and reversible by eye.
std::string FakeSeal(absl::string_view clear) { return absl::StrCat("sealed[", clear, "]"); }

const Actor kCustomer{v1::CUSTOMER, "c-1"};
const Actor kStaff{v1::STAFF, "admin-1"};

Opening Ticket(Actor by = kCustomer) {
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

TicketState Opened() { return Applied(TicketState(), *DecideOpen(Ticket(), FakeSeal)); }

Posting Reply(Actor by, std::string id = "m-2") {
  return {.message_id = std::move(id), .kind = v1::REPLY, .message = "On it.", .by = by};
}

std::vector<std::string> Fields(const absl::Status& status) {
  std::vector<std::string> out;
  for (const FieldViolation& v : FieldViolationsOf(status)) out.push_back(v.field);
  return out;
}

TEST(TicketOpen, StartsOpenWithItsFirstMessageSealedAndTrimmed) {
  absl::StatusOr<Events> opened = DecideOpen(Ticket(), FakeSeal);
  ASSERT_TRUE(opened.ok()) << opened.status();
  ASSERT_EQ(opened->size(), 1u);
  const v1::TicketOpened& o = (*opened)[0].ticket_opened();
  EXPECT_EQ(o.sealed_subject(), "sealed[Wi-Fi is down]");
  EXPECT_EQ(o.sealed_body(), "sealed[Since this morning.\nSecond floor.]");
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

TEST(TicketOpen, StaffMayOpenOnACustomersBehalfButNobodyForASuspendedOne) {
  EXPECT_TRUE(DecideOpen(Ticket(kStaff), FakeSeal).ok());
  Opening suspended = Ticket(kStaff);
  suspended.customer.suspended = true;
  EXPECT_EQ(DecideOpen(suspended, FakeSeal).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(TicketOpen, BadFieldsAreNamedTogether) {
  Opening bad = Ticket();
  bad.subject = std::string(201, 'x');
  bad.message = " \n ";
  bad.priority = v1::PRIORITY_UNSPECIFIED;
  EXPECT_THAT(Fields(DecideOpen(bad, FakeSeal).status()),
              ElementsAre("subject", "message", "priority"));
  bad = Ticket();
  bad.subject = "two\nlines";
  bad.message = std::string(10'001, 'x');
  bad.priority = static_cast<v1::Priority>(99);
  EXPECT_THAT(Fields(DecideOpen(bad, FakeSeal).status()),
              ElementsAre("subject", "message", "priority"));
  bad = Ticket();
  bad.subject = std::string(200, 'x');
  bad.message = std::string(10'000, 'x');
  EXPECT_TRUE(DecideOpen(bad, FakeSeal).ok());
}

TEST(TicketReplies, StaffAwaitsTheCustomerAndEmailsThemTheCustomerReopensTheQuestion) {
  TicketState s = Opened();
  absl::StatusOr<Events> staff = DecidePost(s, Reply(kStaff), FakeSeal);
  ASSERT_TRUE(staff.ok()) << staff.status();
  ASSERT_EQ(staff->size(), 2u);
  EXPECT_EQ((*staff)[0].message_posted().status(), v1::AWAITING_CUSTOMER);
  const v1::ReplyNotificationRequested& mail = (*staff)[1].reply_notification_requested();
  EXPECT_EQ(mail.customer_id(), "c-1");
  EXPECT_EQ(mail.message_id(), "m-2");
  EXPECT_FALSE(absl::StrContains((*staff)[1].SerializeAsString(), "On it."));
  s = Applied(s, *staff);
  EXPECT_EQ(s.status(), v1::AWAITING_CUSTOMER);

  absl::StatusOr<Events> customer = DecidePost(s, Reply(kCustomer, "m-3"), FakeSeal);
  ASSERT_TRUE(customer.ok());
  ASSERT_EQ(customer->size(), 1u);  // no email for the customer's own reply
  s = Applied(s, *customer);
  EXPECT_EQ(s.status(), v1::OPEN);
  EXPECT_EQ(s.message_count(), 3);
  EXPECT_EQ(MessageOf((*customer)[0])->message_id(), "m-3");
  EXPECT_FALSE(MessageOf((*staff)[1]).has_value()) << "a notification request is no message";
}

TEST(TicketReplies, ATicketHoldsAtMostItsMessagesAndBytes) {
  TicketState s = Opened();
  for (int i = 1; i < kMaxMessagesPerTicket; ++i) {
    absl::StatusOr<Events> posted = DecidePost(s, Reply(kStaff, absl::StrCat("m-", i)), FakeSeal);
    ASSERT_TRUE(posted.ok()) << i << ": " << posted.status();
    s = Applied(s, *posted);
  }
  EXPECT_EQ(s.message_count(), kMaxMessagesPerTicket);
  // The state stays the size of its counters, whatever the conversation holds.
  EXPECT_LT(s.ByteSizeLong(), 200u);
  const absl::Status full = DecidePost(s, Reply(kStaff, "m-full"), FakeSeal).status();
  EXPECT_EQ(full.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Fields(full), ElementsAre("message"));
  Posting note{.message_id = "m-note", .kind = v1::NOTE, .message = "VIP", .by = kStaff};
  EXPECT_THAT(Fields(DecidePost(s, note, FakeSeal).status()), ElementsAre("message"));

  // Bytes: a few messages of the longest kind fill a megabyte first.
  TicketState big = Opened();
  const std::string longest(kMaxMessageLength, 'x');
  int posted = 0;
  for (;; ++posted) {
    absl::StatusOr<Events> e = DecidePost(
        big, {.message_id = absl::StrCat("b-", posted), .message = longest, .by = kStaff},
        FakeSeal);
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

TEST(TicketNotes, ChangeNoStatusEmailNobodyAndMayGoOnClosedTickets) {
  TicketState s = Applied(Opened(), *DecidePost(Opened(), Reply(kStaff), FakeSeal));
  Posting note{.message_id = "m-3", .kind = v1::NOTE, .message = "VIP", .by = kStaff};
  absl::StatusOr<Events> noted = DecidePost(s, note, FakeSeal);
  ASSERT_TRUE(noted.ok());
  ASSERT_EQ(noted->size(), 1u);
  EXPECT_EQ((*noted)[0].message_posted().status(), v1::AWAITING_CUSTOMER);
  s = Applied(s, *DecideClose(s, kStaff, {}));
  noted = DecidePost(s, note, FakeSeal);
  ASSERT_TRUE(noted.ok());
  EXPECT_EQ(Applied(s, *noted).status(), v1::CLOSED);
}

TEST(TicketReplies, NotOnAClosedTicketNotBySuspendedCustomersNotForErasedOnes) {
  TicketState s = Opened();
  s = Applied(s, *DecideClose(s, kCustomer, {}));
  EXPECT_EQ(DecidePost(s, Reply(kCustomer), FakeSeal).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(DecidePost(s, Reply(kStaff), FakeSeal).status().code(),
            absl::StatusCode::kFailedPrecondition);

  s = Opened();
  Posting suspended = Reply(kCustomer);
  suspended.customer.suspended = true;
  EXPECT_EQ(DecidePost(s, suspended, FakeSeal).status().code(),
            absl::StatusCode::kFailedPrecondition);
  Posting staff_to_suspended = Reply(kStaff);
  staff_to_suspended.customer.suspended = true;
  EXPECT_TRUE(DecidePost(s, staff_to_suspended, FakeSeal).ok());
  Posting to_erased = Reply(kStaff);
  to_erased.customer.erased = true;
  EXPECT_EQ(DecidePost(s, to_erased, FakeSeal).status().code(),
            absl::StatusCode::kFailedPrecondition);
  Posting empty = Reply(kStaff);
  empty.message = "";
  EXPECT_THAT(Fields(DecidePost(s, empty, FakeSeal).status()), ElementsAre("message"));
}

TEST(TicketCloseAndReopen, RecordedWithWhoAndNeverTwice) {
  TicketState s = Opened();
  absl::StatusOr<Events> closed = DecideClose(s, kStaff, {});
  ASSERT_TRUE(closed.ok());
  EXPECT_EQ((*closed)[0].ticket_closed().by_id(), "admin-1");
  EXPECT_EQ((*closed)[0].ticket_closed().by_kind(), v1::STAFF);
  s = Applied(s, *closed);
  EXPECT_EQ(s.status(), v1::CLOSED);
  EXPECT_EQ(s.closed_by(), "admin-1");
  EXPECT_EQ(DecideClose(s, kCustomer, {}).status().code(), absl::StatusCode::kFailedPrecondition);

  absl::StatusOr<Events> reopened = DecideReopen(s, kCustomer, {});
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ((*reopened)[0].ticket_reopened().by_id(), "c-1");
  s = Applied(s, *reopened);
  EXPECT_EQ(s.status(), v1::OPEN);
  EXPECT_TRUE(s.closed_by().empty());
  EXPECT_FALSE(s.has_close_time());
  EXPECT_EQ(DecideReopen(s, kStaff, {}).status().code(), absl::StatusCode::kFailedPrecondition);

  // A suspended customer does neither; staff still close their tickets.
  EXPECT_EQ(DecideClose(s, kCustomer, {.suspended = true}).status().code(),
            absl::StatusCode::kFailedPrecondition);
  s = Applied(s, *DecideClose(s, kStaff, {.suspended = true}));
  EXPECT_EQ(DecideReopen(s, kCustomer, {.suspended = true}).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(DecideReopen(s, kStaff, {.erased = true}).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(TicketPriorities, ChangedOnceRecordedWithThePreviousOne) {
  TicketState s = Opened();
  absl::StatusOr<Events> changed = DecideSetPriority(s, v1::CRITICAL, kStaff);
  ASSERT_TRUE(changed.ok());
  ASSERT_EQ(changed->size(), 1u);
  EXPECT_EQ((*changed)[0].priority_changed().previous(), v1::HIGH);
  s = Applied(s, *changed);
  EXPECT_EQ(s.priority(), v1::CRITICAL);
  EXPECT_TRUE(DecideSetPriority(s, v1::CRITICAL, kStaff)->empty());
  EXPECT_THAT(Fields(DecideSetPriority(s, v1::PRIORITY_UNSPECIFIED, kStaff).status()),
              ElementsAre("priority"));
}

}  // namespace
}  // namespace cowork::helpdesk::domain
