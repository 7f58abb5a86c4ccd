// cowork-billing-gen: a year of a coworking network's events (tools/billinggen/generator.h)
// for the billing benchmark, put on the suite's topics and/or written to a file.
//
//   cowork-billing-gen --kafka-brokers 127.0.0.1:9092            # 50 locations, 200,000 customers
//   cowork-billing-gen --customers 2000 --out /tmp/events.bin     # a small file
//   cowork-billing-gen --dry-run                                  # only count
//
// Each event goes to cowork.<service>.events keyed by its aggregate id, with the idempotent
// producer, in the generator's order (every aggregate's events in sequence). Prints what it
// made and, last, one line "RESULT events=N ... largest_location=ID first_month=YYYY-MM
// last_month=YYYY-MM seconds=S" for scripts.

#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "libs/kafka/kafka.h"
#include "tools/billinggen/event_file.h"
#include "tools/billinggen/flags.h"
#include "tools/billinggen/generator.h"

namespace cowork::billinggen {
namespace {

int Fail(absl::string_view what, const absl::Status& status) {
  std::fprintf(stderr, "cowork-billing-gen: %s: %s\n", std::string(what).c_str(),
               status.ToString().c_str());
  return 1;
}

// Keyed messages waiting to be produced, one list per topic; a topic's list goes out once it
// holds `chunk` messages (ProduceAll waits for every delivery, so order is kept).
class Producer {
 public:
  Producer(kafka::KafkaOptions kafka, size_t chunk) : kafka_(std::move(kafka)), chunk_(chunk) {}

  absl::Status Add(const common::v1::EventEnvelope& e) {
    const std::string topic = kafka::TopicFor(e.service());
    auto& pending = pending_[topic];
    pending.emplace_back(e.aggregate_id(), e.SerializeAsString());
    if (pending.size() < chunk_) return absl::OkStatus();
    return Flush(topic);
  }

  absl::Status FlushAll() {
    for (auto& [topic, pending] : pending_) {
      if (absl::Status s = Flush(topic); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

 private:
  absl::Status Flush(const std::string& topic) {
    auto& pending = pending_[topic];
    if (pending.empty()) return absl::OkStatus();
    absl::Status s = kafka::ProduceAll(kafka_, topic, pending, absl::Minutes(5));
    pending.clear();
    return s;
  }

  kafka::KafkaOptions kafka_;
  size_t chunk_;
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> pending_;
};

int Main(int argc, char** argv) {
  CLI::App app{
      "cowork-billing-gen: a year of a coworking network's events for the billing "
      "benchmark"};
  GeneratorOptions options;
  AddGeneratorFlags(app, options);
  std::string out;
  std::string brokers;
  size_t chunk = 50000;
  bool dry_run = false;
  app.add_option("--out", out, "Write the events to this file (length-delimited envelopes)");
  app.add_option("--kafka-brokers", brokers,
                 "Produce the events to cowork.<service>.events on these brokers")
      ->envname("COWORK_KAFKA_BROKERS");
  app.add_option("--chunk", chunk, "Messages per topic produced and awaited together")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_flag("--dry-run", dry_run, "Only generate and count");
  CLI11_PARSE(app, argc, argv);
  if (absl::Status s = Validate(options); !s.ok()) return Fail("bad options", s);
  if (out.empty() && brokers.empty() && !dry_run) {
    std::fprintf(stderr, "cowork-billing-gen: give --out, --kafka-brokers or --dry-run\n");
    return 2;
  }

  std::unique_ptr<EventFileWriter> file;
  if (!out.empty()) {
    absl::StatusOr<std::unique_ptr<EventFileWriter>> opened = EventFileWriter::Open(out);
    if (!opened.ok()) return Fail("cannot write the events", opened.status());
    file = *std::move(opened);
  }
  std::unique_ptr<Producer> producer;
  if (!brokers.empty()) {
    producer = std::make_unique<Producer>(
        kafka::KafkaOptions{.brokers = brokers, .client_id = "billing-gen"}, chunk);
  }

  absl::Status failed;
  const absl::Time t0 = absl::Now();
  const GeneratedSummary summary = Generator(options).Run([&](const common::v1::EventEnvelope& e) {
    if (!failed.ok()) return;
    if (file != nullptr) failed = file->Write(e);
    if (failed.ok() && producer != nullptr) failed = producer->Add(e);
  });
  if (failed.ok() && producer != nullptr) failed = producer->FlushAll();
  if (failed.ok() && file != nullptr) failed = file->Close();
  if (!failed.ok()) return Fail("cannot put the events out", failed);
  const double seconds = absl::ToDoubleSeconds(absl::Now() - t0);

  std::printf("%s", FormatSummary(summary).c_str());
  auto of = [&](const char* service) {
    auto it = summary.by_service.find(service);
    return it == summary.by_service.end() ? uint64_t{0} : it->second;
  };
  std::printf(
      "RESULT events=%llu customers_events=%llu contracts_events=%llu bookings_events=%llu "
      "largest_location=%s first_month=%s last_month=%s seconds=%.1f\n",
      static_cast<unsigned long long>(summary.events),
      static_cast<unsigned long long>(of("customers")),
      static_cast<unsigned long long>(of("contracts")),
      static_cast<unsigned long long>(of("bookings")), summary.location_ids.front().c_str(),
      absl::FormatCivilTime(summary.first_month).c_str(),
      absl::FormatCivilTime(summary.last_month).c_str(), seconds);
  return 0;
}

}  // namespace
}  // namespace cowork::billinggen

int main(int argc, char** argv) { return cowork::billinggen::Main(argc, argv); }
