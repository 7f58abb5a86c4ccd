// cowork-replay-seed: a synthetic history on the suite's topics, for measuring cowork-replay
// and trying analysts' recipes (tools/bench/replay.sh). One operator with --locations
// locations (Europe/Madrid), --customers customers at them (customers topic), a contract for
// every third customer from the first day of the first of --months months ending with
// --month, every fifth of them ended on its 15th (contracts topic), a ticket for every
// twentieth customer (helpdesk topic), and bookings of 20 rooms per location made through the
// months, every fiftieth cancelled, until --events events in all (bookings topic). Envelopes as the services write them, keyed by aggregate id;
// published with the suite's idempotent producer.
//
// Prints "seeded N events" and exits 0; 1 when the broker refuses them, 2 on a usage error.

#include <iostream>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "cowork/bookings/v1/events.pb.h"
#include "cowork/contracts/v1/events.pb.h"
#include "cowork/customers/v1/events.pb.h"
#include "cowork/helpdesk/v1/events.pb.h"
#include "libs/clock/proto_time.h"
#include "libs/eventstore/command.h"
#include "libs/kafka/kafka.h"
#include "libs/money/money.h"

namespace {

using namespace cowork;

constexpr size_t kBatch = 50000;  // messages per ProduceAll

// Collects one topic's messages and produces them in batches.
class Topic {
 public:
  Topic(const kafka::KafkaOptions& kafka, std::string service)
      : kafka_(kafka), service_(std::move(service)), topic_(kafka::TopicFor(service_)) {}

  absl::Status Add(const std::string& op, absl::Time at, const std::string& type,
                   const std::string& id, const std::string& location,
                   const google::protobuf::Message& payload, int64_t sequence = 1) {
    const common::v1::EventEnvelope e = eventstore::MakeEnvelope(
        {.service = service_, .operator_id = op, .correlation_id = "seed", .now = at}, type, id,
        sequence, location, payload);
    pending_.emplace_back(id, e.SerializeAsString());
    ++produced_;
    return pending_.size() >= kBatch ? Flush() : absl::OkStatus();
  }

  absl::Status Flush() {
    absl::Status s = kafka::ProduceAll(kafka_, topic_, pending_, absl::Minutes(5));
    pending_.clear();
    return s;
  }
  int64_t produced() const { return produced_; }

 private:
  const kafka::KafkaOptions& kafka_;
  const std::string service_;
  const std::string topic_;
  std::vector<std::pair<std::string, std::string>> pending_;
  int64_t produced_ = 0;
};

absl::Status Seed(const kafka::KafkaOptions& kafka, int64_t events, int locations,
                  int customers, absl::CivilMonth first, absl::CivilMonth last) {
  absl::TimeZone madrid;
  if (!absl::LoadTimeZone("Europe/Madrid", &madrid)) {
    return absl::InternalError("no time zone Europe/Madrid");
  }
  const absl::Time start = absl::FromCivil(first, madrid);
  const absl::Duration length = absl::FromCivil(last + 1, madrid) - start;
  const std::string op = "op-seed";
  Topic people(kafka, "customers"), contracts(kafka, "contracts"), bookings(kafka, "bookings"),
      tickets(kafka, "helpdesk");
  std::mt19937_64 random(7);

  customers::v1::OperatorCreated operator_created;
  operator_created.set_operator_id(op);
  operator_created.set_name("Seeded operator");
  if (absl::Status s = people.Add(op, start, "operator", op, "", operator_created); !s.ok()) {
    return s;
  }
  for (int l = 0; l < locations; ++l) {
    customers::v1::LocationCreated location;
    location.set_location_id(absl::StrCat("loc-seed-", l));
    location.set_name(absl::StrCat("Seeded location ", l));
    location.set_time_zone("Europe/Madrid");
    location.set_currency("EUR");
    if (absl::Status s = people.Add(op, start, "location", location.location_id(), "", location);
        !s.ok()) {
      return s;
    }
  }
  for (int c = 0; c < customers; ++c) {
    const std::string location = absl::StrCat("loc-seed-", c % locations);
    customers::v1::CustomerAdded added;
    added.set_customer_id(absl::StrCat("c-seed-", c));
    added.set_type(customers::v1::INDIVIDUAL);
    added.set_home_location_id(location);
    added.set_sealed_personal(std::string(120, static_cast<char>('a' + c % 26)));
    if (absl::Status s = people.Add(op, start, "customer", added.customer_id(), location, added);
        !s.ok()) {
      return s;
    }
    if (c % 20 == 0) {
      helpdesk::v1::TicketOpened opened;
      opened.set_ticket_id(absl::StrCat("t-seed-", c));
      opened.set_customer_id(added.customer_id());
      opened.set_location_id(location);
      opened.set_priority(static_cast<helpdesk::v1::Priority>(1 + c / 20 % 4));
      opened.set_sealed_subject(std::string(40, 's'));
      if (absl::Status s = tickets.Add(op, start + absl::Hours(c % 600), "ticket",
                                       opened.ticket_id(), location, opened);
          !s.ok()) {
        return s;
      }
    }
    if (c % 3 != 0) continue;
    contracts::v1::ContractStarted started;
    started.set_contract_id(absl::StrCat("ct-seed-", c));
    started.set_customer_id(added.customer_id());
    started.set_plan_id(absl::StrCat("pl-seed-", c % locations));
    started.set_location_id(location);
    *started.mutable_start_date() = ToDate(absl::CivilDay(first));
    started.set_cycle(contracts::v1::MONTHLY);
    if (absl::Status s = contracts.Add(op, start, "contract", started.contract_id(), location,
                                       started);
        !s.ok()) {
      return s;
    }
    if (c % 15 != 0) continue;
    contracts::v1::ContractEnded ended;
    ended.set_contract_id(started.contract_id());
    ended.set_customer_id(started.customer_id());
    ended.set_plan_id(started.plan_id());
    ended.set_location_id(location);
    *ended.mutable_end_date() = ToDate(absl::CivilDay(first) + 14);
    ended.set_started(true);
    if (absl::Status s = contracts.Add(op, start + absl::Hours(24 * 15), "contract",
                                       ended.contract_id(), location, ended, 2);
        !s.ok()) {
      return s;
    }
  }
  std::uniform_int_distribution<int> customer_of(0, customers - 1);
  std::uniform_int_distribution<int> room_of(0, 19);
  std::uniform_int_distribution<int64_t> second_of(0, absl::ToInt64Seconds(length) - 7200);
  auto produced = [&] {
    return people.produced() + contracts.produced() + bookings.produced() + tickets.produced();
  };
  for (int64_t b = 0; produced() < events; ++b) {
    const int c = customer_of(random);
    const std::string location = absl::StrCat("loc-seed-", c % locations);
    const absl::Time at = start + absl::Seconds(second_of(random));
    bookings::v1::BookingCreated booking;
    booking.set_booking_id(absl::StrCat("b-seed-", b));
    booking.set_resource_id(absl::StrCat("rs-seed-", c % locations, "-", room_of(random)));
    booking.set_location_id(location);
    booking.set_customer_id(absl::StrCat("c-seed-", c));
    *booking.mutable_start_time() = ToTimestamp(at + absl::Hours(1));
    *booking.mutable_end_time() = ToTimestamp(at + absl::Hours(2));
    booking.set_resource_name(absl::StrCat("Room ", booking.resource_id()));
    *booking.mutable_charge() = MoneyOf(2500, "EUR");
    booking.set_booked_by("admin@seed.example");
    if (absl::Status s = bookings.Add(op, at, "booking", booking.booking_id(), location, booking);
        !s.ok()) {
      return s;
    }
    if (b % 50 != 49) continue;
    bookings::v1::BookingCancelled cancelled;
    cancelled.set_booking_id(booking.booking_id());
    cancelled.set_resource_id(booking.resource_id());
    cancelled.set_location_id(location);
    cancelled.set_customer_id(booking.customer_id());
    if (absl::Status s = bookings.Add(op, at + absl::Minutes(30), "booking",
                                      booking.booking_id(), location, cancelled, 2);
        !s.ok()) {
      return s;
    }
  }
  for (Topic* topic : {&people, &contracts, &bookings, &tickets}) {
    if (absl::Status s = topic->Flush(); !s.ok()) return s;
  }
  std::cout << "seeded " << produced() << " events (customers " << people.produced()
            << ", contracts " << contracts.produced() << ", bookings " << bookings.produced()
            << ", helpdesk " << tickets.produced() << ") of operator " << op << std::endl;
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"cowork-replay-seed: a synthetic history on the suite's topics"};
  std::string brokers;
  int64_t events = 1000000;
  int locations = 4;
  int customers = 10000;
  std::string month_text = "2026-06";
  int months = 1;
  app.add_option("--brokers,--kafka-brokers", brokers, "Kafka bootstrap servers")
      ->envname("COWORK_KAFKA_BROKERS")
      ->required();
  app.add_option("--events", events, "Events in all")->capture_default_str();
  app.add_option("--locations", locations, "Locations")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  app.add_option("--customers", customers, "Customers")
      ->check(CLI::Range(1, 10000000))
      ->capture_default_str();
  app.add_option("--month", month_text, "The last month of the history, YYYY-MM")
      ->capture_default_str();
  app.add_option("--months", months, "Months of history, ending with --month")
      ->check(CLI::Range(1, 120))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  absl::CivilMonth month;
  if (!absl::ParseCivilTime(month_text, &month)) {
    std::cerr << "cowork-replay-seed: --month: not YYYY-MM: " << month_text << std::endl;
    return 2;
  }
  absl::Status s = Seed({.brokers = brokers, .client_id = "cowork-replay-seed"}, events,
                        locations, customers, month - (months - 1), month);
  if (!s.ok()) {
    std::cerr << "cowork-replay-seed: " << s << std::endl;
    return 1;
  }
  return 0;
}
