// The notifier over a real Store, with the customers written through the service's own write
// path, a simulated clock and a fake mailer: what is sent, when, and what is recorded.

#include "services/customers/notifier/notifier.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_replace.h"
#include "cowork/bookings/v1/events.pb.h"
#include "cowork/checkins/v1/events.pb.h"
#include "cowork/helpdesk/v1/events.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/clock/proto_time.h"
#include "libs/crypto/crypto.h"
#include "libs/directory/directory.h"
#include "libs/eventstore/command.h"
#include "libs/testing/process.h"
#include "services/customers/domain/customer.h"
#include "services/customers/domain/directory.h"
#include "services/customers/domain/testing.h"
#include "services/customers/notifier/message.h"

namespace cowork::customers::notifier {
namespace {

using domain::testing::Person;

using eventstore::Space;
using eventstore::WriteSet;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

const absl::Time kStart = absl::FromUnixSeconds(1'780'000'000);

// One email as the fake mailer saw it.
struct Sent {
  std::string from, to, data;
  bool marked_in_flight = false;  // the store had the attempt on record when it went out
};

// Answers each Send with the next of `answers` (OK once they run out) and records it.
class FakeMailer final : public Mailer {
 public:
  explicit FakeMailer(const eventstore::Store& store) : store_(store) {}

  absl::Status Send(absl::string_view from, absl::string_view to,
                    absl::string_view data) override {
    bool marked = false;
    EXPECT_TRUE(store_
                    .Scan(Space::kMeta, "notifier/pending/", "",
                          [&](absl::string_view, absl::string_view value) {
                            PendingNotification row;
                            EXPECT_TRUE(row.ParseFromString(std::string(value)));
                            marked = marked || row.attempt_in_flight();
                            return true;
                          })
                    .ok());
    sent.push_back({std::string(from), std::string(to), std::string(data), marked});
    if (answers.empty()) return absl::OkStatus();
    absl::Status answer = answers.front();
    answers.erase(answers.begin());
    return answer;
  }

  std::vector<absl::Status> answers;
  std::vector<Sent> sent;

 private:
  const eventstore::Store& store_;
};

class NotifierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<eventstore::Store>> store =
        eventstore::Store::Open({.path = dir_.Sub("store"), .durable = false});
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    directory_ = std::make_unique<directory::Directory>(*store_);
    projection_ = std::make_unique<projection::Projection>(*store_, *directory_);
    StartNotifier({});

    Stage(&projection::Projection::LoadOperator, &projection::Projection::StageOperator, "op-1",
          domain::CreateOperator{"op-1", "Cowork Madrid"});
    Stage(&projection::Projection::LoadLocation, &projection::Projection::StageLocation, "loc-1",
          domain::CreateLocation{.operator_id = "op-1",
                                 .operator_exists = true,
                                 .location_id = "loc-1",
                                 .name = "Centro",
                                 .time_zone = "Europe/Madrid",
                                 .currency = "EUR"});
    domain::AddCustomer ana = Person("c-ana", "Zoë", "zoe@example.com");
    ana.welcome_setup_code = "K7PQ2M9XAB";
    Stage(&projection::Projection::LoadCustomer, &projection::Projection::StageCustomer, "c-ana",
          ana);
    Stage(&projection::Projection::LoadCustomer, &projection::Projection::StageCustomer, "c-ben",
          Person("c-ben", "Ben", "ben@example.com"));
  }

  // A Notifier as after a restart: the same store, a new mailer.
  void StartNotifier(RetryPolicy retry) {
    notifier_.reset();
    auto mailer = std::make_unique<FakeMailer>(*store_);
    mailer_ = mailer.get();
    notifier_ = std::make_unique<Notifier>(
        *store_, *projection_, clock_, std::move(mailer),
        NotifierOptions{.from_address = "desk@cowork.example", .retry = retry});
  }

  template <typename Load, typename StageFn, typename Command>
  void Stage(Load load, StageFn stage, const std::string& id, const Command& command) {
    auto before = ((*projection_).*load)(id);
    ASSERT_TRUE(before.ok()) << before.status();
    const eventstore::EnvelopeContext context = Context("customers");
    auto events = domain::Decide(before->state, command, context.now);
    ASSERT_TRUE(events.ok()) << events.status();
    WriteSet writes;
    auto after = ((*projection_).*stage)(context, *before, *events, writes);
    ASSERT_TRUE(after.ok()) << after.status();
    ASSERT_TRUE(store_->Commit(std::move(writes)).ok());
  }

  eventstore::EnvelopeContext Context(absl::string_view service) {
    return {.service = std::string(service),
            .operator_id = "op-1",
            .correlation_id = crypto::NewUuid(),
            .causation_id = "",
            .now = clock_.Now()};
  }

  // The request as another service would publish it.
  common::v1::EventEnvelope Request(absl::string_view service, absl::string_view type,
                                    absl::string_view id,
                                    const google::protobuf::Message& payload) {
    return eventstore::MakeEnvelope(Context(service), type, id, 1, "loc-1", payload);
  }

  common::v1::EventEnvelope WelcomeRequest(const std::string& customer) {
    auto events = store_->ReadEvents("customer", customer);
    EXPECT_TRUE(events.ok());
    for (const common::v1::EventEnvelope& e : *events) {
      if (e.payload().Is<v1::WelcomeMessageRequested>()) return e;
    }
    ADD_FAILURE() << "no welcome requested for " << customer;
    return {};
  }

  common::v1::EventEnvelope BookingRequest(const std::string& customer) {
    bookings::v1::BookingConfirmationRequested booking;
    booking.set_booking_id("b-1");
    booking.set_customer_id(customer);
    booking.set_location_id("loc-1");
    booking.set_resource_name("Room A");
    *booking.mutable_start_time() = ToTimestamp(kStart + absl::Hours(24));
    *booking.mutable_end_time() = ToTimestamp(kStart + absl::Hours(25));
    return Request("bookings", "booking", "b-1", booking);
  }

  void Queue(const common::v1::EventEnvelope& request, v1::NotificationKind kind,
             const std::string& customer) {
    WriteSet writes;
    ASSERT_TRUE(Enqueue(*store_, clock_, request, kind, customer, writes).ok());
    if (!writes.empty()) {
      ASSERT_TRUE(store_->Commit(std::move(writes)).ok());
    }
  }

  int RunDue() {
    absl::StatusOr<int> changed = notifier_->RunDue();
    EXPECT_TRUE(changed.ok()) << changed.status();
    return changed.value_or(-1);
  }

  int64_t Pending() { return PendingCount(*store_).value_or(-1); }

  // The outcome recorded for a notification: its events on the "notification" aggregate.
  std::vector<common::v1::EventEnvelope> Outcomes(const std::string& id) {
    auto events = store_->ReadEvents(kNotificationAggregate, id);
    EXPECT_TRUE(events.ok());
    return events.value_or(std::vector<common::v1::EventEnvelope>());
  }

  template <typename T>
  T OutcomeOf(const std::string& id) {
    std::vector<common::v1::EventEnvelope> events = Outcomes(id);
    T out;
    EXPECT_THAT(events, SizeIs(1));
    if (!events.empty()) {
      EXPECT_TRUE(events[0].payload().UnpackTo(&out)) << events[0].DebugString();
    }
    return out;
  }

  static std::string Body(const std::string& data) {
    const std::string encoded = data.substr(data.find("\r\n\r\n") + 4);
    const std::string base64 = absl::StrReplaceAll(encoded, {{"\r\n", ""}});
    std::string body;
    EXPECT_TRUE(absl::Base64Unescape(base64, &body));
    return body;
  }

  testing::TempDir dir_{"customers-notifier"};
  SimulatedClock clock_{kStart};
  std::unique_ptr<eventstore::Store> store_;
  std::unique_ptr<directory::Directory> directory_;
  std::unique_ptr<projection::Projection> projection_;
  FakeMailer* mailer_ = nullptr;
  std::unique_ptr<Notifier> notifier_;
};

TEST_F(NotifierTest, WelcomeMessageIsSentOnceWithTheSetupCode) {
  const common::v1::EventEnvelope request = WelcomeRequest("c-ana");
  Queue(request, v1::WELCOME_MESSAGE, "c-ana");
  EXPECT_EQ(Pending(), 1);
  EXPECT_EQ(RunDue(), 1);

  ASSERT_THAT(mailer_->sent, SizeIs(1));
  const Sent& sent = mailer_->sent[0];
  EXPECT_EQ(sent.from, "desk@cowork.example");
  EXPECT_EQ(sent.to, "zoe@example.com");
  EXPECT_THAT(sent.data, HasSubstr("\r\nTo: =?UTF-8?B?"));
  EXPECT_THAT(sent.data, HasSubstr(absl::StrCat("\r\nMessage-ID: <", request.event_id(),
                                                "@cowork.example>\r\n")));
  EXPECT_THAT(sent.data, HasSubstr("Subject: Welcome to Cowork Madrid: your access details"));
  EXPECT_THAT(Body(sent.data), HasSubstr("Hello Zoë,"));
  EXPECT_THAT(Body(sent.data), HasSubstr("Your one-time setup code: K7PQ2M9XAB"));
  EXPECT_TRUE(sent.marked_in_flight);

  const auto recorded = OutcomeOf<v1::NotificationSent>(request.event_id());
  EXPECT_EQ(recorded.kind(), v1::WELCOME_MESSAGE);
  EXPECT_EQ(recorded.customer_id(), "c-ana");
  EXPECT_EQ(recorded.message_id(), absl::StrCat("<", request.event_id(), "@cowork.example>"));
  EXPECT_EQ(recorded.attempts(), 1);
  const common::v1::EventEnvelope envelope = Outcomes(request.event_id())[0];
  EXPECT_EQ(envelope.causation_id(), request.event_id());
  EXPECT_EQ(envelope.operator_id(), "op-1");
  EXPECT_EQ(Pending(), 0);

  // Later passes, a restart and the same request delivered again send nothing more.
  clock_.Advance(absl::Hours(1));
  EXPECT_EQ(RunDue(), 0);
  StartNotifier({});
  Queue(request, v1::WELCOME_MESSAGE, "c-ana");
  EXPECT_EQ(Pending(), 0);
  EXPECT_EQ(RunDue(), 0);
  EXPECT_THAT(mailer_->sent, IsEmpty());
  EXPECT_THAT(Outcomes(request.event_id()), SizeIs(1));
}

TEST_F(NotifierTest, BookingVisitorAndReplyGoToTheCustomersAddress) {
  Queue(BookingRequest("c-ben"), v1::BOOKING_CONFIRMATION, "c-ben");
  checkins::v1::VisitorArrivalNotificationRequested arrival;
  arrival.set_visitor_id("v-1");
  arrival.set_host_customer_id("c-ben");
  arrival.set_location_id("loc-1");
  *arrival.mutable_arrived_at() = ToTimestamp(kStart);
  Queue(Request("checkins", "visitor", "v-1", arrival), v1::VISITOR_ARRIVAL, "c-ben");
  helpdesk::v1::ReplyNotificationRequested reply;
  reply.set_ticket_id("t-1");
  reply.set_customer_id("c-ben");
  reply.set_location_id("loc-1");
  reply.set_message_id("m-2");
  Queue(Request("helpdesk", "ticket", "t-1", reply), v1::HELPDESK_REPLY, "c-ben");

  EXPECT_EQ(RunDue(), 3);
  ASSERT_THAT(mailer_->sent, SizeIs(3));
  std::vector<std::string> subjects;
  for (const Sent& sent : mailer_->sent) {
    EXPECT_EQ(sent.to, "ben@example.com");
    EXPECT_THAT(sent.data, HasSubstr("\r\nTo: Ben Tester <ben@example.com>\r\n"));
    EXPECT_THAT(sent.data, ::testing::StartsWith("From: Cowork Madrid <desk@cowork.example>\r\n"));
    EXPECT_THAT(Body(sent.data), HasSubstr("Hello Ben,"));
    const size_t at = sent.data.find("Subject: ");
    subjects.push_back(sent.data.substr(at, sent.data.find("\r\n", at) - at));
  }
  EXPECT_THAT(subjects, ::testing::UnorderedElementsAre(
                            "Subject: Booking confirmed: Room A on Friday 29 May 2026",
                            "Subject: Your visitor has arrived at Centro",
                            "Subject: New reply to your help desk ticket"));
  EXPECT_EQ(Pending(), 0);
}

TEST_F(NotifierTest, RetriedWithBackoffWhileTheServerIsDown) {
  const common::v1::EventEnvelope request = BookingRequest("c-ben");
  Queue(request, v1::BOOKING_CONFIRMATION, "c-ben");
  mailer_->answers = {absl::UnavailableError("curl: Couldn't connect to server"),
                      absl::UnavailableError("curl: Couldn't connect to server")};
  EXPECT_EQ(RunDue(), 1);  // rescheduled in a minute
  EXPECT_THAT(mailer_->sent, SizeIs(1));
  EXPECT_THAT(Outcomes(request.event_id()), IsEmpty());
  EXPECT_EQ(Pending(), 1);

  clock_.Advance(absl::Seconds(59));
  EXPECT_EQ(RunDue(), 0);
  EXPECT_THAT(mailer_->sent, SizeIs(1));
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(RunDue(), 1);  // fails again: two minutes now
  EXPECT_THAT(mailer_->sent, SizeIs(2));
  clock_.Advance(absl::Seconds(119));
  EXPECT_EQ(RunDue(), 0);
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(RunDue(), 1);  // the server is back

  ASSERT_THAT(mailer_->sent, SizeIs(3));
  // Every attempt is the same message: one Message-ID, so a receiver recognises copies.
  const std::string message_id = absl::StrCat("Message-ID: <", request.event_id(), "@");
  for (const Sent& sent : mailer_->sent) EXPECT_THAT(sent.data, HasSubstr(message_id));
  EXPECT_THAT(mailer_->sent[2].data, HasSubstr(absl::StrCat("Date: ", FormatDate(clock_.Now()))));
  EXPECT_EQ(OutcomeOf<v1::NotificationSent>(request.event_id()).attempts(), 3);
  EXPECT_EQ(Pending(), 0);
}

TEST_F(NotifierTest, GivesUpAfterTheLastAttempt) {
  StartNotifier({.max_attempts = 2});
  const common::v1::EventEnvelope request = BookingRequest("c-ben");
  Queue(request, v1::BOOKING_CONFIRMATION, "c-ben");
  mailer_->answers = {absl::UnavailableError("down"), absl::UnavailableError("still down")};
  EXPECT_EQ(RunDue(), 1);
  clock_.Advance(absl::Minutes(1));
  EXPECT_EQ(RunDue(), 1);
  const auto failed = OutcomeOf<v1::NotificationFailed>(request.event_id());
  EXPECT_EQ(failed.reason(), v1::GAVE_UP);
  EXPECT_EQ(failed.attempts(), 2);
  EXPECT_THAT(failed.detail(), HasSubstr("after 2 attempts: still down"));
  EXPECT_EQ(Pending(), 0);
  clock_.Advance(absl::Hours(1));
  EXPECT_EQ(RunDue(), 0);
  EXPECT_THAT(mailer_->sent, SizeIs(2));
}

TEST_F(NotifierTest, ARequestOlderThanTheMaxAgeIsNotSent) {
  const common::v1::EventEnvelope request = BookingRequest("c-ben");
  clock_.Advance(absl::Hours(25));  // e.g. the notifier was off for a day
  Queue(request, v1::BOOKING_CONFIRMATION, "c-ben");
  EXPECT_EQ(RunDue(), 1);
  EXPECT_THAT(mailer_->sent, IsEmpty());
  const auto failed = OutcomeOf<v1::NotificationFailed>(request.event_id());
  EXPECT_EQ(failed.reason(), v1::GAVE_UP);
  EXPECT_EQ(failed.attempts(), 0);
}

TEST_F(NotifierTest, AnErasedCustomerGetsNoEmail) {
  const common::v1::EventEnvelope welcome = WelcomeRequest("c-ana");
  Queue(welcome, v1::WELCOME_MESSAGE, "c-ana");
  const common::v1::EventEnvelope booking = BookingRequest("c-ana");
  Queue(booking, v1::BOOKING_CONFIRMATION, "c-ana");
  Stage(&projection::Projection::LoadCustomer, &projection::Projection::StageCustomer, "c-ana",
        domain::EraseCustomer{});
  EXPECT_EQ(RunDue(), 2);
  EXPECT_THAT(mailer_->sent, IsEmpty());
  EXPECT_EQ(OutcomeOf<v1::NotificationFailed>(welcome.event_id()).reason(), v1::RECIPIENT_ERASED);
  EXPECT_EQ(OutcomeOf<v1::NotificationFailed>(booking.event_id()).reason(), v1::RECIPIENT_ERASED);
}

TEST_F(NotifierTest, AnotherOperatorsOrAnUnknownCustomerGetsNoEmail) {
  const common::v1::EventEnvelope request = BookingRequest("c-nobody");
  Queue(request, v1::BOOKING_CONFIRMATION, "c-nobody");
  common::v1::EventEnvelope foreign = BookingRequest("c-ben");
  foreign.set_operator_id("op-2");
  Queue(foreign, v1::BOOKING_CONFIRMATION, "c-ben");
  EXPECT_EQ(RunDue(), 2);
  EXPECT_THAT(mailer_->sent, IsEmpty());
  EXPECT_EQ(OutcomeOf<v1::NotificationFailed>(request.event_id()).reason(), v1::RECIPIENT_UNKNOWN);
  EXPECT_EQ(OutcomeOf<v1::NotificationFailed>(foreign.event_id()).reason(), v1::RECIPIENT_UNKNOWN);
}

// The process died during an attempt (kill -9 between the SMTP server's acceptance and the
// commit): the row is still marked. Its successor records DELIVERY_UNKNOWN and sends nothing.
TEST_F(NotifierTest, AnAttemptLeftInFlightIsNeverRepeated) {
  const common::v1::EventEnvelope request = BookingRequest("c-ben");
  Queue(request, v1::BOOKING_CONFIRMATION, "c-ben");
  const std::string key = absl::StrCat("notifier/pending/", request.event_id());
  auto stored = store_->Get(Space::kMeta, key);
  ASSERT_TRUE(stored.ok() && stored->has_value());
  PendingNotification row;
  ASSERT_TRUE(row.ParseFromString(**stored));
  row.set_attempts(1);
  row.set_attempt_in_flight(true);
  WriteSet crashed;
  crashed.Put(Space::kMeta, key, row.SerializeAsString());
  ASSERT_TRUE(store_->Commit(std::move(crashed)).ok());

  StartNotifier({});
  EXPECT_EQ(RunDue(), 1);
  EXPECT_THAT(mailer_->sent, IsEmpty());
  const auto failed = OutcomeOf<v1::NotificationFailed>(request.event_id());
  EXPECT_EQ(failed.reason(), v1::DELIVERY_UNKNOWN);
  EXPECT_EQ(failed.attempts(), 1);
  EXPECT_EQ(Pending(), 0);
}

TEST_F(NotifierTest, NoAnswerAfterTheMessageOrARefusalEndsIt) {
  const common::v1::EventEnvelope lost = BookingRequest("c-ben");
  Queue(lost, v1::BOOKING_CONFIRMATION, "c-ben");
  mailer_->answers = {absl::UnknownError("no answer after the message")};
  EXPECT_EQ(RunDue(), 1);
  EXPECT_EQ(OutcomeOf<v1::NotificationFailed>(lost.event_id()).reason(), v1::DELIVERY_UNKNOWN);

  const common::v1::EventEnvelope refused = BookingRequest("c-ben");
  Queue(refused, v1::BOOKING_CONFIRMATION, "c-ben");
  mailer_->answers = {absl::FailedPreconditionError("curl: Failed sending data; SMTP reply 550")};
  EXPECT_EQ(RunDue(), 1);
  const auto failed = OutcomeOf<v1::NotificationFailed>(refused.event_id());
  EXPECT_EQ(failed.reason(), v1::REJECTED);
  EXPECT_THAT(failed.detail(), HasSubstr("550"));

  clock_.Advance(absl::Hours(2));
  EXPECT_EQ(RunDue(), 0);
  EXPECT_THAT(mailer_->sent, SizeIs(2));
}

TEST_F(NotifierTest, OutcomesCarryNoPersonalData) {
  Queue(WelcomeRequest("c-ana"), v1::WELCOME_MESSAGE, "c-ana");
  Queue(BookingRequest("c-ben"), v1::BOOKING_CONFIRMATION, "c-ben");
  mailer_->answers = {absl::OkStatus(), absl::FailedPreconditionError("refused")};
  EXPECT_EQ(RunDue(), 2);
  int outcomes = 0;
  ASSERT_TRUE(store_
                  ->ForEachEvent([&](const common::v1::EventEnvelope& e) {
                    if (e.aggregate_type() != kNotificationAggregate) return true;
                    ++outcomes;
                    const std::string bytes = e.SerializeAsString();
                    for (const char* personal : {"zoe@example.com", "ben@example.com", "Zoë",
                                                 "Tester", "K7PQ2M9XAB"}) {
                      EXPECT_FALSE(absl::StrContains(bytes, personal)) << personal;
                    }
                    return true;
                  })
                  .ok());
  EXPECT_EQ(outcomes, 2);
}

TEST_F(NotifierTest, StopsStartingAttemptsAtTheLimitOfAPass) {
  StartNotifier({});
  notifier_ = std::make_unique<Notifier>(
      *store_, *projection_, clock_, std::make_unique<FakeMailer>(*store_),
      NotifierOptions{.from_address = "desk@cowork.example", .max_per_pass = 2});
  for (int i = 0; i < 3; ++i) Queue(BookingRequest("c-ben"), v1::BOOKING_CONFIRMATION, "c-ben");
  EXPECT_EQ(RunDue(), 2);
  EXPECT_EQ(Pending(), 1);
  EXPECT_EQ(RunDue(), 1);
  EXPECT_EQ(Pending(), 0);
}

}  // namespace
}  // namespace cowork::customers::notifier
