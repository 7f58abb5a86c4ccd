// End to end: the dev broker, the customers service and the helpdesk service as real
// processes. A customer registered in the portal opens a ticket with their session and sees
// the staff reply (not the internal note) in their portal view, while the reply's email
// request is on the topic and no text is; customer B never sees A's ticket; a password change
// ends the session in the helpdesk service too; a suspended customer gets no new ticket; once
// the customer is erased, the key that sealed their tickets is in no file of the store.

#include <string>

#include "cowork/helpdesk/v1/helpdesk.grpc.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/testing/suite.h"
#include "tests/support/e2e.h"

namespace cowork::e2e {
namespace {

namespace hv1 = ::cowork::helpdesk::v1;
namespace cv1 = ::cowork::customers::v1;
using testing::Call;

constexpr char kPassword[] = "Correct-Horse-42";
constexpr char kSubject[] = "Locker 12 does not open";
constexpr char kMessage[] = "My badge is refused by locker 12.";


TEST(HelpdeskEndToEnd, PortalTicketsRepliesPrivacySessionsAndSuspension) {
  COWORK_ASSERT_OK_AND_ASSIGN(std::unique_ptr<Suite> suite, Suite::Start());
  COWORK_ASSERT_OK_AND_ASSIGN(Tenant tenant, CreateTenant(suite->stubs(), "Helpdesk Co"));
  COWORK_ASSERT_OK_AND_ASSIGN(
      testing::Service helpdesk,
      testing::StartService("helpdesk", {.data_dir = suite->dir().Sub("helpdesk"),
                                         .bootstrap = suite->bootstrap()}));
  auto stub = hv1::HelpdeskService::NewStub(testing::Connect(helpdesk.address));

  auto register_customer = [&](const std::string& first, const std::string& email) {
    return RegisterPortalCustomer(suite->stubs(), tenant, first, email, kPassword);
  };
  COWORK_ASSERT_OK_AND_ASSIGN(cv1::Session ana, register_customer("Ana", "ana@example.test"));
  COWORK_ASSERT_OK_AND_ASSIGN(cv1::Session ben, register_customer("Ben", "ben@example.test"));
  const std::string& ana_id = ana.customer().customer_id();

  // Ana opens a ticket from the portal, once the helpdesk service knows her.
  hv1::OpenTicketRequest open;
  open.set_location_id(tenant.location_id);
  open.set_subject(kSubject);
  open.set_message(kMessage);
  open.set_priority(hv1::HIGH);
  COWORK_ASSERT_OK_AND_ASSIGN(
      hv1::Ticket ticket,
      Until([&] {
              open.set_request_id(testing::NewRequestId());
              return Call(*stub, &hv1::HelpdeskService::Stub::OpenTicket, open, ana.token());
            },
            Known<hv1::Ticket>));
  EXPECT_EQ(ticket.customer_id(), ana_id);
  EXPECT_EQ(ticket.status(), hv1::OPEN);

  // Staff reply and note; Ana's portal view shows the reply, not the note.
  hv1::ReplyToTicketRequest reply;
  reply.set_request_id(testing::NewRequestId());
  reply.set_ticket_id(ticket.ticket_id());
  reply.set_message("A technician comes at 3 pm.");
  COWORK_ASSERT_OK_AND_ASSIGN(
      hv1::Ticket replied,
      Call(*stub, &hv1::HelpdeskService::Stub::ReplyToTicket, reply, tenant.admin_token));
  EXPECT_EQ(replied.status(), hv1::AWAITING_CUSTOMER);
  hv1::AddTicketNoteRequest note;
  note.set_request_id(testing::NewRequestId());
  note.set_ticket_id(ticket.ticket_id());
  note.set_message("Locker firmware is outdated.");
  COWORK_ASSERT_OK(
      Call(*stub, &hv1::HelpdeskService::Stub::AddTicketNote, note, tenant.admin_token));
  hv1::GetTicketRequest get;
  get.set_ticket_id(ticket.ticket_id());
  COWORK_ASSERT_OK_AND_ASSIGN(
      hv1::Ticket portal, Call(*stub, &hv1::HelpdeskService::Stub::GetTicket, get, ana.token()));
  ASSERT_EQ(portal.messages_size(), 2);
  EXPECT_EQ(portal.messages(1).body(), "A technician comes at 3 pm.");
  EXPECT_EQ(portal.messages(1).author_kind(), hv1::STAFF);
  COWORK_ASSERT_OK_AND_ASSIGN(
      hv1::Ticket staff_view,
      Call(*stub, &hv1::HelpdeskService::Stub::GetTicket, get, tenant.admin_token));
  EXPECT_EQ(staff_view.messages_size(), 3);
  hv1::ListTicketsRequest mine;  // the portal's list: their own tickets
  COWORK_ASSERT_OK_AND_ASSIGN(
      hv1::ListTicketsResponse ana_list,
      Call(*stub, &hv1::HelpdeskService::Stub::ListTickets, mine, ana.token()));
  ASSERT_EQ(ana_list.tickets_size(), 1);
  EXPECT_EQ(ana_list.tickets(0).status(), hv1::AWAITING_CUSTOMER);
  EXPECT_EQ(ana_list.tickets(0).subject(), kSubject);

  // The email request is on the topic; no text travels in clear.
  COWORK_ASSERT_OK_AND_ASSIGN(
      std::vector<Event> events,
      WaitForEvents(
          suite->bootstrap(), "cowork.helpdesk.events",
          [&](const std::vector<Event>& all) {
            return CountOf(all, ticket.ticket_id(), "ReplyNotificationRequested") >= 1 &&
                   CountOf(all, ticket.ticket_id(), "MessagePosted") >= 2;
          },
          absl::Seconds(30), "the staff reply's notification"));
  EXPECT_THAT(ApplyOnce(events).problems, ::testing::IsEmpty());
  EXPECT_EQ(CountOf(events, ticket.ticket_id(), "TicketOpened"), 1);
  std::vector<RawMessage> raw;
  for (const Event& e : events) raw.push_back(e.raw);
  EXPECT_EQ(FindBytes(raw, "Locker 12"), -1);
  EXPECT_EQ(FindBytes(raw, "technician"), -1);
  EXPECT_EQ(FindBytes(raw, "firmware"), -1);

  // Ben (once his session is known here) neither sees nor touches Ana's ticket.
  COWORK_ASSERT_OK_AND_ASSIGN(
      hv1::ListTicketsResponse ben_list,
      Until([&] { return Call(*stub, &hv1::HelpdeskService::Stub::ListTickets, mine, ben.token()); },
            [](const auto& r) { return r.ok(); }));
  EXPECT_EQ(ben_list.tickets_size(), 0);
  EXPECT_EQ(Call(*stub, &hv1::HelpdeskService::Stub::GetTicket, get, ben.token()).status().code(),
            absl::StatusCode::kPermissionDenied);
  reply.set_request_id(testing::NewRequestId());
  EXPECT_EQ(Call(*stub, &hv1::HelpdeskService::Stub::ReplyToTicket, reply, ben.token())
                .status()
                .code(),
            absl::StatusCode::kPermissionDenied);
  hv1::ListTicketsRequest anas;
  anas.set_customer_id(ana_id);
  EXPECT_EQ(Call(*stub, &hv1::HelpdeskService::Stub::ListTickets, anas, ben.token())
                .status()
                .code(),
            absl::StatusCode::kPermissionDenied);
  hv1::ListTicketsRequest location;
  location.set_location_id(tenant.location_id);
  EXPECT_EQ(Call(*stub, &hv1::HelpdeskService::Stub::ListTickets, location, ben.token())
                .status()
                .code(),
            absl::StatusCode::kPermissionDenied);

  // A password change ends Ana's session here too.
  COWORK_ASSERT_OK_AND_ASSIGN(
      cv1::Session renewed,
      ChangePortalPassword(suite->stubs(), ana, kPassword, "Battery-Staple-77"));
  absl::StatusOr<hv1::Ticket> dead = Until(
      [&] { return Call(*stub, &hv1::HelpdeskService::Stub::GetTicket, get, ana.token()); },
      [](const auto& r) { return r.status().code() == absl::StatusCode::kUnauthenticated; });
  EXPECT_EQ(dead.status().code(), absl::StatusCode::kUnauthenticated);
  COWORK_ASSERT_OK(Until(
      [&] { return Call(*stub, &hv1::HelpdeskService::Stub::GetTicket, get, renewed.token()); },
      [](const auto& r) { return r.ok(); }));

  // Ben, suspended, gets no new ticket, not even through staff.
  cv1::SuspendCustomerRequest suspend;
  suspend.set_request_id(testing::NewRequestId());
  suspend.set_customer_id(ben.customer().customer_id());
  COWORK_ASSERT_OK(Call(*suite->stubs().customers, &cv1::CustomersService::Stub::SuspendCustomer,
                        suspend, tenant.admin_token));
  hv1::OpenTicketRequest for_ben = open;
  for_ben.set_customer_id(ben.customer().customer_id());
  absl::StatusOr<hv1::Ticket> refused = Until(
      [&] {
        for_ben.set_request_id(testing::NewRequestId());
        return Call(*stub, &hv1::HelpdeskService::Stub::OpenTicket, for_ben, tenant.admin_token);
      },
      [](const auto& r) { return r.status().code() == absl::StatusCode::kFailedPrecondition; });
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  open.set_request_id(testing::NewRequestId());
  EXPECT_EQ(Call(*stub, &hv1::HelpdeskService::Stub::OpenTicket, open, ben.token()).status().code(),
            absl::StatusCode::kUnauthenticated);

  // Erasing Ana (in the customers service) leaves the key that sealed her ticket in no file of
  // the helpdesk store, write-ahead log included, once the helpdesk has learnt of it.
  const std::string data_dir = suite->dir().Sub("helpdesk");
  COWORK_ASSERT_OK(helpdesk.process->Terminate().status());
  COWORK_ASSERT_OK_AND_ASSIGN(const std::string key,
                              SealKeyIn(data_dir, tenant.operator_id, ana_id));
  ASSERT_THAT(testing::FilesContaining(data_dir, key), ::testing::Not(::testing::IsEmpty()));
  COWORK_ASSERT_OK_AND_ASSIGN(
      testing::Service again,
      testing::StartService("helpdesk", {.data_dir = data_dir, .bootstrap = suite->bootstrap()}));
  auto again_stub = hv1::HelpdeskService::NewStub(testing::Connect(again.address));
  cv1::EraseCustomerRequest erase;
  erase.set_request_id(testing::NewRequestId());
  erase.set_customer_id(ana_id);
  COWORK_ASSERT_OK(Call(*suite->stubs().customers, &cv1::CustomersService::Stub::EraseCustomer,
                        erase, tenant.admin_token));
  absl::StatusOr<hv1::Ticket> erased = Until(
      [&] {
        return Call(*again_stub, &hv1::HelpdeskService::Stub::GetTicket, get, tenant.admin_token);
      },
      [](const auto& r) { return r.ok() && r->erased(); });
  ASSERT_TRUE(erased.ok() && erased->erased()) << erased.status();
  COWORK_ASSERT_OK(again.process->Terminate().status());
  EXPECT_THAT(testing::FilesContaining(data_dir, key), ::testing::IsEmpty());
}

}  // namespace
}  // namespace cowork::e2e
