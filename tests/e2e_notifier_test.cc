// End to end: notification emails. The dev broker, a loopback SMTP server (Debian's aiosmtpd,
// tests/support/smtp_sink.py, writing each message it accepts to a folder) and the real
// customers, bookings, checkins and helpdesk services. The customers service sends every email
// (it alone holds the keys of the recipients' addresses); the test reads what arrives:
//  - a welcome message with access details, whose setup code really sets the password;
//  - a booking confirmation, a visitor's arrival and a help desk reply, each to the customer;
//  - a restart (SIGTERM) and kill -9 after a send repeat nothing; kill -9 while the SMTP server
//    holds its answer to a message ends that notification as DELIVERY_UNKNOWN, not in a copy;
//  - with the SMTP server down a notification waits, and arrives once the server is back and
//    its retry falls due (the customers service runs on a simulated clock the test moves); an
//    erased customer's notification fails without an email;
//  - NotificationSent and NotificationFailed are on cowork.customers.events, one per
//    notification, and no address travels there in clear.

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "cowork/bookings/v1/bookings.grpc.pb.h"
#include "cowork/checkins/v1/checkins.grpc.pb.h"
#include "cowork/common/v1/test_clock.grpc.pb.h"
#include "cowork/customers/v1/events.pb.h"
#include "cowork/helpdesk/v1/helpdesk.grpc.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"
#include "libs/clock/proto_time.h"
#include "libs/testing/suite.h"
#include "tests/support/e2e.h"

namespace cowork::e2e {
namespace {

namespace bv1 = ::cowork::bookings::v1;
namespace cv1 = ::cowork::customers::v1;
namespace hv1 = ::cowork::helpdesk::v1;
namespace kv1 = ::cowork::checkins::v1;
using testing::Call;
using ::testing::IsEmpty;
using ::testing::SizeIs;

constexpr char kFrom[] = "desk@cowork.test";

// ---------------------------------------------------------------- the SMTP server

// One message the SMTP server accepted.
struct Mail {
  std::string file;
  std::vector<std::string> recipients;       // the envelope's RCPT TO
  std::map<std::string, std::string> headers;  // lower-cased name -> value (unfolded)
  std::string body;                           // decoded
};

// tests/support/smtp_sink.py on 127.0.0.1 (`port` 0: any free port), writing to `dir`.
struct SmtpServer {
  std::unique_ptr<testing::Subprocess> process;
  int port = 0;

  static absl::StatusOr<SmtpServer> Start(const std::string& dir, const std::string& log_dir,
                                          int port = 0) {
    absl::StatusOr<std::unique_ptr<testing::Subprocess>> process = testing::Subprocess::Start(
        {.program = "/usr/bin/python3",
         .args = {COWORK_SMTP_SINK, "--dir", dir, "--port", absl::StrCat(port)},
         .log_path = testing::NextLogPath(log_dir + "/smtp", "smtp"),
         .stop_timeout = absl::Seconds(5)});
    if (!process.ok()) return process.status();
    absl::StatusOr<std::vector<std::string>> line =
        (*process)->WaitForLine(R"(smtp listening on 127\.0\.0\.1:([0-9]+))", absl::Seconds(30));
    if (!line.ok()) return line.status();
    SmtpServer server{*std::move(process)};
    if (!absl::SimpleAtoi((*line)[1], &server.port)) return absl::InternalError("bad port");
    return server;
  }
};

Mail ParseMail(const std::string& file) {
  Mail mail{.file = file};
  const std::string envelope =
      testing::ReadFileOrEmpty(absl::StrCat(absl::StripSuffix(file, ".eml"), ".envelope"));
  std::vector<std::string> lines = absl::StrSplit(envelope, '\n', absl::SkipEmpty());
  if (!lines.empty()) mail.recipients.assign(lines.begin() + 1, lines.end());
  const std::string data = testing::ReadFileOrEmpty(file);
  const size_t end = data.find("\r\n\r\n");
  EXPECT_NE(end, std::string::npos) << file;
  if (end == std::string::npos) return mail;
  std::string last;
  for (absl::string_view line : absl::StrSplit(data.substr(0, end), "\r\n")) {
    if (absl::StartsWith(line, " ") && !last.empty()) {
      mail.headers[last] += std::string(line);
      continue;
    }
    const size_t colon = line.find(':');
    if (colon == absl::string_view::npos) continue;
    last = absl::AsciiStrToLower(line.substr(0, colon));
    EXPECT_FALSE(mail.headers.contains(last)) << "two " << last << " headers in " << file;
    mail.headers[last] = std::string(absl::StripAsciiWhitespace(line.substr(colon + 1)));
  }
  EXPECT_EQ(mail.headers["content-transfer-encoding"], "base64");
  EXPECT_TRUE(absl::Base64Unescape(absl::StrReplaceAll(data.substr(end + 4), {{"\r\n", ""}}),
                                   &mail.body))
      << file;
  return mail;
}

// Every message in `dir`, in arrival order.
std::vector<Mail> ReadMails(const std::string& dir) {
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".eml") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  std::vector<Mail> mails;
  for (const std::string& f : files) mails.push_back(ParseMail(f));
  return mails;
}

std::vector<Mail> MailsTo(const std::vector<Mail>& mails, absl::string_view address) {
  std::vector<Mail> out;
  for (const Mail& m : mails) {
    if (m.recipients.size() == 1 && m.recipients[0] == address) out.push_back(m);
  }
  return out;
}

// Polls the folder until `count` messages to `address` are there (30 s at most).
std::vector<Mail> WaitForMailsTo(const std::string& dir, absl::string_view address, size_t count) {
  return MailsTo(Until([&] { return ReadMails(dir); },
                       [&](const std::vector<Mail>& all) {
                         return MailsTo(all, address).size() >= count;
                       }),
                 address);
}

// The line of a body that starts with `label`, without it.
std::string LineAfter(const std::string& body, absl::string_view label) {
  for (absl::string_view line : absl::StrSplit(body, "\r\n")) {
    if (absl::ConsumePrefix(&line, label)) return std::string(line);
  }
  return "";
}

// ---------------------------------------------------------------- the events

// The event id of the WelcomeMessageRequested of `customer_id`: the notification's id.
absl::StatusOr<std::string> WelcomeRequestOf(const std::string& bootstrap,
                                             const std::string& customer_id) {
  absl::StatusOr<std::vector<Event>> events = WaitForEvents(
      bootstrap, testing::kCustomersTopic,
      [&](const std::vector<Event>& all) {
        return CountOf(all, customer_id, "WelcomeMessageRequested") == 1;
      },
      absl::Seconds(30), "a welcome message requested");
  if (!events.ok()) return events.status();
  for (const Event& e : EventsOf(*events, customer_id)) {
    if (e.type == "cowork.customers.v1.WelcomeMessageRequested") return e.envelope.event_id();
  }
  return absl::NotFoundError("no WelcomeMessageRequested");
}

// The notification outcomes on the customers topic, by notification id.
struct Outcomes {
  std::map<std::string, std::vector<cv1::NotificationSent>> sent;
  std::map<std::string, std::vector<cv1::NotificationFailed>> failed;
};

Outcomes OutcomesIn(const std::vector<Event>& events) {
  Outcomes out;
  for (const Event& e : events) {
    if (cv1::NotificationSent sent; e.envelope.payload().UnpackTo(&sent)) {
      EXPECT_EQ(e.envelope.aggregate_id(), sent.notification_id());
      out.sent[sent.notification_id()].push_back(sent);
    } else if (cv1::NotificationFailed failed; e.envelope.payload().UnpackTo(&failed)) {
      EXPECT_EQ(e.envelope.aggregate_id(), failed.notification_id());
      out.failed[failed.notification_id()].push_back(failed);
    }
  }
  return out;
}

absl::StatusOr<Outcomes> WaitForOutcomes(const std::string& bootstrap,
                                         const std::vector<std::string>& ids) {
  absl::StatusOr<std::vector<Event>> events = WaitForEvents(
      bootstrap, testing::kCustomersTopic,
      [&](const std::vector<Event>& all) {
        const Outcomes outcomes = OutcomesIn(all);
        for (const std::string& id : ids) {
          if (!outcomes.sent.contains(id) && !outcomes.failed.contains(id)) return false;
        }
        return true;
      },
      absl::Seconds(30), "the notifications' outcomes");
  if (!events.ok()) return events.status();
  return OutcomesIn(*events);
}

// ---------------------------------------------------------------- the test

class NotifierEndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    mail_dir_ = dir_.Sub("mail");
    std::filesystem::create_directories(mail_dir_);
    absl::StatusOr<SmtpServer> smtp = SmtpServer::Start(mail_dir_, dir_.path());
    ASSERT_TRUE(smtp.ok()) << smtp.status();
    smtp_ = *std::move(smtp);
    absl::StatusOr<std::unique_ptr<Suite>> suite = Suite::Start(
        {.extra_args = {"--smtp-url", absl::StrCat("smtp://127.0.0.1:", smtp_.port), "--smtp-from",
                        kFrom, "--simulated-clock", "now"}});
    ASSERT_TRUE(suite.ok()) << suite.status();
    suite_ = *std::move(suite);
    absl::StatusOr<Tenant> tenant = CreateTenant(suite_->stubs(), "Cowork Madrid");
    ASSERT_TRUE(tenant.ok()) << tenant.status();
    tenant_ = *std::move(tenant);
  }

  // A customer added by an admin with a welcome message.
  absl::StatusOr<cv1::Customer> Welcome(absl::string_view first, absl::string_view email) {
    cv1::AddCustomerRequest add = Individual(tenant_.location_id, first, "Tester", email);
    add.set_send_welcome_message(true);
    return AddCustomer(suite_->stubs(), tenant_.admin_token, add);
  }

  absl::StatusOr<testing::Service> StartService(absl::string_view name) {
    return testing::StartService(
        name, {.data_dir = suite_->dir().Sub(std::string(name)), .bootstrap = suite_->bootstrap()});
  }

  testing::TempDir dir_{"cowork-e2e-notifier"};
  std::string mail_dir_;
  SmtpServer smtp_;
  std::unique_ptr<Suite> suite_;
  Tenant tenant_;
};

TEST_F(NotifierEndToEnd, EmailsArriveOnceThroughOutagesAndRestarts) {
  // ---- a welcome message: the setup code it carries sets the password
  COWORK_ASSERT_OK_AND_ASSIGN(cv1::Customer zoe, Welcome("Zoë", "zoe@example.test"));
  COWORK_ASSERT_OK_AND_ASSIGN(const std::string zoe_welcome,
                              WelcomeRequestOf(suite_->bootstrap(), zoe.customer_id()));
  std::vector<Mail> to_zoe = WaitForMailsTo(mail_dir_, "zoe@example.test", 1);
  ASSERT_THAT(to_zoe, SizeIs(1));
  const Mail& welcome = to_zoe[0];
  EXPECT_EQ(welcome.headers.at("from"), "Cowork Madrid <desk@cowork.test>");
  EXPECT_TRUE(absl::EndsWith(welcome.headers.at("to"), " <zoe@example.test>"))
      << welcome.headers.at("to");
  EXPECT_EQ(welcome.headers.at("subject"), "Welcome to Cowork Madrid: your access details");
  EXPECT_EQ(welcome.headers.at("message-id"), absl::StrCat("<", zoe_welcome, "@cowork.test>"));
  EXPECT_TRUE(welcome.headers.contains("date"));
  EXPECT_EQ(welcome.headers.at("content-type"), "text/plain; charset=UTF-8");
  EXPECT_TRUE(absl::StartsWith(welcome.body, "Hello Zoë,")) << welcome.body;
  const std::string code = LineAfter(welcome.body, "Your one-time setup code: ");
  ASSERT_FALSE(code.empty()) << welcome.body;
  cv1::ChangePasswordRequest set_password;
  set_password.set_request_id(testing::NewRequestId());
  set_password.set_operator_id(tenant_.operator_id);
  set_password.set_email("zoe@example.test");
  set_password.set_setup_code(code);
  set_password.set_new_password("Correct-Horse-42");
  COWORK_ASSERT_OK(Call(*suite_->stubs().accounts, &cv1::AccountsService::Stub::ChangePassword,
                        set_password, ""));

  // ---- a booking confirmation, a visitor's arrival and a help desk reply, each to Zoë
  COWORK_ASSERT_OK_AND_ASSIGN(testing::Service bookings, StartService("bookings"));
  COWORK_ASSERT_OK_AND_ASSIGN(testing::Service checkins, StartService("checkins"));
  COWORK_ASSERT_OK_AND_ASSIGN(testing::Service helpdesk, StartService("helpdesk"));
  auto resources = bv1::ResourcesService::NewStub(testing::Connect(bookings.address));
  auto bookings_stub = bv1::BookingsService::NewStub(testing::Connect(bookings.address));
  auto visitors = kv1::VisitorsService::NewStub(testing::Connect(checkins.address));
  auto tickets = hv1::HelpdeskService::NewStub(testing::Connect(helpdesk.address));

  bv1::CreateResourceRequest room;
  room.set_request_id(testing::NewRequestId());
  room.set_location_id(tenant_.location_id);
  room.mutable_spec()->set_name("Sala Goya");
  room.mutable_spec()->set_kind(bv1::MEETING_ROOM);
  room.mutable_spec()->set_capacity(4);
  COWORK_ASSERT_OK_AND_ASSIGN(
      bv1::Resource goya, Until([&] {
        return Call(*resources, &bv1::ResourcesService::Stub::CreateResource, room,
                    tenant_.admin_token);
      }, Known<bv1::Resource>));
  const absl::Time start = absl::FromUnixSeconds(
      (absl::ToUnixSeconds(absl::Now() + absl::Hours(48)) / 900) * 900);
  bv1::CreateBookingRequest book;
  book.set_resource_id(goya.resource_id());
  book.set_customer_id(zoe.customer_id());
  *book.mutable_start_time() = ToTimestamp(start);
  *book.mutable_end_time() = ToTimestamp(start + absl::Minutes(90));
  COWORK_ASSERT_OK(Until([&] {
    book.set_request_id(testing::NewRequestId());
    return Call(*bookings_stub, &bv1::BookingsService::Stub::CreateBooking, book,
                tenant_.admin_token);
  }, Known<bv1::Booking>));

  kv1::RegisterVisitorRequest visit;
  visit.set_location_id(tenant_.location_id);
  visit.set_host_customer_id(zoe.customer_id());
  visit.set_name("Olga Kuznetsova");
  visit.set_email("olga@visitor.test");
  *visit.mutable_expected_arrival() = ToTimestamp(absl::Now() + absl::Minutes(30));
  COWORK_ASSERT_OK_AND_ASSIGN(kv1::Visitor olga, Until([&] {
    visit.set_request_id(testing::NewRequestId());
    return Call(*visitors, &kv1::VisitorsService::Stub::RegisterVisitor, visit,
                tenant_.admin_token);
  }, Known<kv1::Visitor>));
  kv1::RecordVisitorArrivalRequest arrival;
  arrival.set_request_id(testing::NewRequestId());
  arrival.set_visitor_id(olga.visitor_id());
  COWORK_ASSERT_OK(Call(*visitors, &kv1::VisitorsService::Stub::RecordVisitorArrival, arrival,
                        tenant_.admin_token));

  hv1::OpenTicketRequest open;
  open.set_customer_id(zoe.customer_id());
  open.set_location_id(tenant_.location_id);
  open.set_subject("Wi-Fi is down");
  open.set_message("Since 9 am on the second floor");
  open.set_priority(hv1::HIGH);
  COWORK_ASSERT_OK_AND_ASSIGN(hv1::Ticket ticket, Until([&] {
    open.set_request_id(testing::NewRequestId());
    return Call(*tickets, &hv1::HelpdeskService::Stub::OpenTicket, open, tenant_.admin_token);
  }, Known<hv1::Ticket>));
  hv1::ReplyToTicketRequest reply;
  reply.set_request_id(testing::NewRequestId());
  reply.set_ticket_id(ticket.ticket_id());
  reply.set_message("A technician comes at 3 pm.");
  COWORK_ASSERT_OK(
      Call(*tickets, &hv1::HelpdeskService::Stub::ReplyToTicket, reply, tenant_.admin_token));

  to_zoe = WaitForMailsTo(mail_dir_, "zoe@example.test", 4);
  ASSERT_THAT(to_zoe, SizeIs(4));
  std::set<std::string> subjects;
  for (const Mail& m : to_zoe) subjects.insert(m.headers.at("subject"));
  bool booking_seen = false, visitor_seen = false, reply_seen = false;
  for (const Mail& m : to_zoe) {
    if (absl::StartsWith(m.headers.at("subject"), "Booking confirmed: Sala Goya on ")) {
      booking_seen = true;
      EXPECT_TRUE(absl::StrContains(m.body, "Sala Goya")) << m.body;
    } else if (m.headers.at("subject") == "Your visitor has arrived at Cowork Madrid Centro") {
      visitor_seen = true;
      EXPECT_FALSE(absl::StrContains(m.body, "Olga")) << "the visitor's name is not ours to send";
    } else if (m.headers.at("subject") == "New reply to your help desk ticket") {
      reply_seen = true;
      EXPECT_TRUE(absl::StrContains(m.body, ticket.ticket_id())) << m.body;
      EXPECT_FALSE(absl::StrContains(m.body, "technician")) << "the reply text stays sealed";
    }
  }
  EXPECT_TRUE(booking_seen && visitor_seen && reply_seen) << ::testing::PrintToString(subjects);

  // ---- SIGTERM, and kill -9 after a send: nothing is sent again
  COWORK_ASSERT_OK(suite_->Restart());
  COWORK_ASSERT_OK_AND_ASSIGN(cv1::Customer lea, Welcome("Lea", "lea@example.test"));
  ASSERT_THAT(WaitForMailsTo(mail_dir_, "lea@example.test", 1), SizeIs(1));
  COWORK_ASSERT_OK_AND_ASSIGN(const std::string lea_welcome,
                              WelcomeRequestOf(suite_->bootstrap(), lea.customer_id()));
  COWORK_ASSERT_OK(WaitForOutcomes(suite_->bootstrap(), {lea_welcome}).status());
  COWORK_ASSERT_OK(suite_->KillAndRestart());

  // ---- kill -9 while the SMTP server holds its answer: never sent twice
  const std::string hold = absl::StrCat(mail_dir_, "/hold");
  { std::ofstream(hold) << "hold\n"; }
  COWORK_ASSERT_OK_AND_ASSIGN(cv1::Customer kim, Welcome("Kim", "kim@example.test"));
  ASSERT_THAT(WaitForMailsTo(mail_dir_, "kim@example.test", 1), SizeIs(1));
  COWORK_ASSERT_OK(suite_->customers().Kill9().status());
  std::filesystem::remove(hold);
  COWORK_ASSERT_OK(suite_->StartCustomersAgain());
  COWORK_ASSERT_OK_AND_ASSIGN(const std::string kim_welcome,
                              WelcomeRequestOf(suite_->bootstrap(), kim.customer_id()));
  COWORK_ASSERT_OK_AND_ASSIGN(Outcomes outcomes,
                              WaitForOutcomes(suite_->bootstrap(), {kim_welcome}));
  ASSERT_THAT(outcomes.failed[kim_welcome], SizeIs(1));
  EXPECT_EQ(outcomes.failed[kim_welcome][0].reason(), cv1::DELIVERY_UNKNOWN);
  EXPECT_EQ(outcomes.failed[kim_welcome][0].attempts(), 1);

  // ---- the SMTP server down: a notification waits for it; an erased customer gets nothing
  COWORK_ASSERT_OK(smtp_.process->Terminate().status());
  size_t log_offset = suite_->customers().LogSize();
  COWORK_ASSERT_OK_AND_ASSIGN(cv1::Customer nia, Welcome("Nia", "nia@example.test"));
  COWORK_ASSERT_OK_AND_ASSIGN(cv1::Customer ed, Welcome("Ed", "ed@example.test"));
  COWORK_ASSERT_OK_AND_ASSIGN(const std::string nia_welcome,
                              WelcomeRequestOf(suite_->bootstrap(), nia.customer_id()));
  COWORK_ASSERT_OK_AND_ASSIGN(const std::string ed_welcome,
                              WelcomeRequestOf(suite_->bootstrap(), ed.customer_id()));
  for (const std::string& id : {nia_welcome, ed_welcome}) {
    COWORK_ASSERT_OK(suite_->customers().WaitForLine(
        absl::StrCat("notification not sent; trying again later.*", id), absl::Seconds(30),
        log_offset));
  }
  cv1::EraseCustomerRequest erase;
  erase.set_request_id(testing::NewRequestId());
  erase.set_customer_id(ed.customer_id());
  COWORK_ASSERT_OK(Call(*suite_->stubs().customers, &cv1::CustomersService::Stub::EraseCustomer,
                        erase, tenant_.admin_token));
  COWORK_ASSERT_OK_AND_ASSIGN(smtp_, SmtpServer::Start(mail_dir_, dir_.path(), smtp_.port));
  // A new notification goes out at once; the ones that failed wait for their retry.
  COWORK_ASSERT_OK_AND_ASSIGN(cv1::Customer max, Welcome("Max", "max@example.test"));
  ASSERT_THAT(WaitForMailsTo(mail_dir_, "max@example.test", 1), SizeIs(1));
  EXPECT_THAT(MailsTo(ReadMails(mail_dir_), "nia@example.test"), IsEmpty());
  auto clock = common::v1::TestClockService::NewStub(suite_->stubs().channel);
  common::v1::AdvanceRequest advance;
  *advance.mutable_by() = google::protobuf::util::TimeUtil::SecondsToDuration(120);
  COWORK_ASSERT_OK(Call(*clock, &common::v1::TestClockService::Stub::Advance, advance,
                        tenant_.admin_token));
  std::vector<Mail> to_nia = WaitForMailsTo(mail_dir_, "nia@example.test", 1);
  ASSERT_THAT(to_nia, SizeIs(1));
  EXPECT_EQ(to_nia[0].headers.at("message-id"), absl::StrCat("<", nia_welcome, "@cowork.test>"));

  // ---- what the topic says: one outcome per notification, no address in clear
  const std::vector<std::string> all = {zoe_welcome, lea_welcome, kim_welcome, nia_welcome,
                                        ed_welcome};
  COWORK_ASSERT_OK_AND_ASSIGN(outcomes, WaitForOutcomes(suite_->bootstrap(), all));
  ASSERT_THAT(outcomes.failed[ed_welcome], SizeIs(1));
  EXPECT_EQ(outcomes.failed[ed_welcome][0].reason(), cv1::RECIPIENT_ERASED);
  ASSERT_THAT(outcomes.sent[nia_welcome], SizeIs(1));
  EXPECT_EQ(outcomes.sent[nia_welcome][0].attempts(), 2);
  for (const std::string& id : {zoe_welcome, lea_welcome}) {
    ASSERT_THAT(outcomes.sent[id], SizeIs(1)) << id;
    EXPECT_EQ(outcomes.sent[id][0].attempts(), 1);
  }
  int sent_to_zoe = 0;
  for (const auto& [id, sent] : outcomes.sent) {
    EXPECT_THAT(sent, SizeIs(1)) << id;
    EXPECT_FALSE(outcomes.failed.contains(id)) << id;
    for (const cv1::NotificationSent& s : sent) {
      EXPECT_EQ(s.message_id(), absl::StrCat("<", id, "@cowork.test>"));
      if (s.customer_id() == zoe.customer_id()) ++sent_to_zoe;
    }
  }
  EXPECT_EQ(sent_to_zoe, 4);  // welcome, booking, visitor, reply
  for (const auto& [id, failed] : outcomes.failed) EXPECT_THAT(failed, SizeIs(1)) << id;
  COWORK_ASSERT_OK_AND_ASSIGN(std::vector<Event> events,
                              ReadEvents(suite_->bootstrap(), testing::kCustomersTopic));
  EXPECT_THAT(ApplyOnce(events).problems, IsEmpty());
  COWORK_ASSERT_OK_AND_ASSIGN(std::vector<RawMessage> raw,
                              ReadTopicFromZero(suite_->bootstrap(), testing::kCustomersTopic));
  for (const char* address : {"zoe@example.test", "lea@example.test", "kim@example.test",
                                     "nia@example.test", "ed@example.test", "max@example.test"}) {
    EXPECT_EQ(FindBytes(raw, address), -1) << address << " found in clear";
  }
  EXPECT_EQ(FindBytes(raw, code), -1) << "the setup code found in clear";

  // ---- what arrived: each notification once, none for the erased customer
  const std::vector<Mail> mails = ReadMails(mail_dir_);
  std::set<std::string> message_ids;
  for (const Mail& m : mails) {
    EXPECT_TRUE(message_ids.insert(m.headers.at("message-id")).second)
        << "sent twice: " << m.headers.at("message-id");
  }
  EXPECT_THAT(MailsTo(mails, "zoe@example.test"), SizeIs(4));
  EXPECT_THAT(MailsTo(mails, "lea@example.test"), SizeIs(1));
  EXPECT_THAT(MailsTo(mails, "kim@example.test"), SizeIs(1));
  EXPECT_THAT(MailsTo(mails, "nia@example.test"), SizeIs(1));
  EXPECT_THAT(MailsTo(mails, "max@example.test"), SizeIs(1));
  EXPECT_THAT(MailsTo(mails, "ed@example.test"), IsEmpty());
  EXPECT_THAT(mails, SizeIs(8));
}

}  // namespace
}  // namespace cowork::e2e
