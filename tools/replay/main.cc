// cowork-replay: the analysts' replay of the event topics, from the dev broker or any Kafka
// cluster. Wiring only: flags, the Kafka stream, progress and signals; the rows are
// replay.h's, the active users active_users.h's.
//
//   cowork-replay --topic bookings --type BookingCreated --since 2026-06-01 --format csv
//   cowork-replay active-users --location loc-dev --month 2026-06
//
// Exit codes: 0 done (following: stopped by SIGINT or SIGTERM), 1 an error, 2 a usage error,
// 130 interrupted before the end.

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "cowork/billing/v1/billing.pb.h"
#include "libs/kafka/kafka.h"
#include "libs/kafka/topic_stream.h"
#include "libs/server/flags.h"
#include "tools/replay/active_users.h"
#include "tools/replay/replay.h"

namespace {

using namespace cowork;

constexpr int kExitOk = 0;
constexpr int kExitError = 1;
constexpr int kExitInterrupted = 130;

std::atomic<bool> interrupted{false};
void OnSignal(int) { interrupted.store(true); }

struct Flags {
  std::string brokers = "127.0.0.1:9092";
  std::vector<std::string> kafka_properties;
  std::vector<std::string> topics;
  int64_t from_offset = 0;
  std::string from_time;
  std::vector<std::string> types, locations, operators;
  std::string since, until;
  std::string format = "jsonl";
  std::string output;
  bool follow = false;
  bool progress = isatty(STDERR_FILENO) == 1;
  // active-users
  std::string location, month, work_dir;
  std::string users_format = "text";
};

CLI::Validator InstantValidator() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        absl::StatusOr<absl::Time> t = replay::ParseInstant(text);
        return t.ok() ? "" : std::string(t.status().message());
      },
      "INSTANT");
}

// --brokers and --kafka-property, on the tool and on its subcommand.
void AddKafkaOptions(CLI::App& app, Flags& flags) {
  app.add_option("--brokers,--kafka-brokers", flags.brokers, "Kafka bootstrap servers")
      ->envname("COWORK_KAFKA_BROKERS")
      ->capture_default_str();
  app.add_option("--kafka-property", flags.kafka_properties,
                 "Extra librdkafka property key=value, e.g. security.protocol=SSL "
                 "(repeatable; ';' separates several)")
      ->envname("COWORK_KAFKA_PROPERTY")
      ->delimiter(';')
      ->allow_extra_args(false);
}

absl::StatusOr<kafka::KafkaOptions> KafkaOptionsOf(const Flags& flags) {
  // The services' own parsing of --kafka-property.
  server::ServiceFlags service_flags;
  service_flags.kafka_properties = flags.kafka_properties;
  absl::StatusOr<std::map<std::string, std::string>> properties =
      server::KafkaProperties(service_flags);
  if (!properties.ok()) return properties.status();
  return kafka::KafkaOptions{
      .brokers = flags.brokers, .client_id = "cowork-replay", .properties = *properties};
}

int Fail(const absl::Status& status) {
  std::cerr << "cowork-replay: error: " << absl::StatusCodeToString(status.code()) << ": "
            << status.message() << std::endl;
  return kExitError;
}

// Prints a progress line on stderr at most once a second (when asked to).
class Progress {
 public:
  Progress(bool enabled, const kafka::TopicStream& stream, bool follow)
      : enabled_(enabled), stream_(stream), follow_(follow) {}
  void Tick(int64_t rows) {
    if (!enabled_) return;
    const auto now = std::chrono::steady_clock::now();
    if (now < next_) return;
    next_ = now + std::chrono::seconds(1);
    const bool following = follow_ && stream_.caught_up();
    // Following an idle stream, one line says so; the next comes with new messages.
    if (following && stream_.consumed() == printed_) return;
    printed_ = stream_.consumed();
    std::cerr << replay::ProgressLine(printed_, stream_.backlog(), rows, Elapsed(), following)
              << std::endl;
  }
  absl::Duration Elapsed() const {
    return absl::FromChrono(std::chrono::steady_clock::now() - start_);
  }

 private:
  const bool enabled_;
  const kafka::TopicStream& stream_;
  const bool follow_;
  const std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point next_ = start_ + std::chrono::seconds(1);
  int64_t printed_ = -1;  // messages at the last line
};

int ReplayEvents(const Flags& flags) {
  absl::StatusOr<kafka::KafkaOptions> kafka = KafkaOptionsOf(flags);
  if (!kafka.ok()) return Fail(kafka.status());
  kafka::StreamOptions options{.follow = flags.follow};
  for (const std::string& name : flags.topics.empty() ? replay::AllServices() : flags.topics) {
    options.topics.push_back(replay::ResolveTopic(name));
  }
  if (!flags.from_time.empty()) {
    options.start = {.kind = kafka::StreamStart::Kind::kTime,
                     .time = *replay::ParseInstant(flags.from_time)};
  } else if (flags.from_offset > 0) {
    options.start = {.kind = kafka::StreamStart::Kind::kOffset, .offset = flags.from_offset};
  } else if (flags.from_offset < 0) {
    options.start = {.kind = kafka::StreamStart::Kind::kTail, .offset = -flags.from_offset};
  }
  replay::Filter filter;
  filter.types.insert(flags.types.begin(), flags.types.end());
  filter.locations.insert(flags.locations.begin(), flags.locations.end());
  filter.operators.insert(flags.operators.begin(), flags.operators.end());
  if (!flags.since.empty()) filter.since = *replay::ParseInstant(flags.since);
  if (!flags.until.empty()) filter.until = *replay::ParseInstant(flags.until);

  std::ofstream file;
  if (!flags.output.empty()) {
    file.open(flags.output, std::ios::trunc);
    if (!file) return Fail(absl::InvalidArgumentError(absl::StrCat("cannot write ", flags.output)));
  }
  std::ostream& out = flags.output.empty() ? std::cout : file;

  absl::StatusOr<std::unique_ptr<kafka::TopicStream>> stream =
      kafka::TopicStream::Open(*kafka, options);
  if (!stream.ok()) return Fail(stream.status());
  replay::RowWriter writer(
      out, flags.format == "csv" ? replay::Format::kCsv : replay::Format::kJsonLines,
      std::move(filter), options.start.kind == kafka::StreamStart::Kind::kBeginning);
  Progress progress(flags.progress, **stream, flags.follow);
  absl::Status run = (*stream)->Run(
      [&](const kafka::Message& m) {
        writer.Add(m.value);
        return absl::OkStatus();
      },
      [&] {
        // Following, once at the end, a row is worth seeing as soon as it arrives.
        if (flags.follow && (*stream)->caught_up()) out.flush();
        progress.Tick(writer.counts().rows);
        return interrupted.load();
      });
  out.flush();
  std::cerr << replay::Summary(writer.counts(), progress.Elapsed()) << std::endl;
  if (!out) return Fail(absl::DataLossError("cannot write the rows"));
  if (absl::IsCancelled(run)) return flags.follow ? kExitOk : kExitInterrupted;
  if (!run.ok()) return Fail(run);
  return kExitOk;
}

void PrintActiveUsers(const billing::v1::ActiveUsers& users) {
  std::cout << users.location_id() << " " << users.month() << ": " << users.count()
            << " active users" << std::endl;
  for (const billing::v1::ActiveUser& user : users.users()) {
    std::vector<std::string> criteria;
    for (const billing::v1::Reason& reason : user.reasons()) {
      criteria.push_back(billing::v1::Criterion_Name(reason.criterion()));
    }
    std::cout << user.customer_id() << "  " << absl::StrJoin(criteria, " ") << std::endl;
  }
}

int ReplayActiveUsers(const Flags& flags) {
  absl::StatusOr<kafka::KafkaOptions> kafka = KafkaOptionsOf(flags);
  if (!kafka.ok()) return Fail(kafka.status());
  absl::StatusOr<std::unique_ptr<replay::ActiveUsersReplay>> replay =
      replay::ActiveUsersReplay::Create(flags.work_dir);
  if (!replay.ok()) return Fail(replay.status());
  absl::StatusOr<std::unique_ptr<kafka::TopicStream>> stream =
      kafka::TopicStream::Open(*kafka, {.topics = replay::ActiveUsersReplay::Topics()});
  if (!stream.ok()) return Fail(stream.status());
  Progress progress(flags.progress, **stream, false);
  absl::Status run = (*stream)->Run(
      [&](const kafka::Message& m) { return (*replay)->Apply(m.topic, m.value); },
      [&] {
        progress.Tick(0);
        return interrupted.load();
      });
  if (absl::IsCancelled(run)) return kExitInterrupted;
  if (!run.ok()) return Fail(run);
  const replay::ActiveUsersReplay::Counts& c = (*replay)->counts();
  std::cerr << "cowork-replay: " << (*stream)->consumed() << " messages in "
            << absl::FormatDuration(absl::Trunc(progress.Elapsed(), absl::Milliseconds(100)))
            << ": " << c.applied << " events applied, " << c.duplicates << " duplicates, "
            << c.ahead << " out of order, " << c.not_events << " not events, " << c.refused
            << " refused" << std::endl;

  absl::StatusOr<billing::v1::ActiveUsers> users =
      (*replay)->Get(flags.location, flags.month);
  if (!users.ok()) return Fail(users.status());
  if (flags.users_format == "json") {
    absl::StatusOr<std::string> json = replay::ToJson(*users);
    if (!json.ok()) return Fail(json.status());
    std::cout << *json << std::endl;
  } else {
    PrintActiveUsers(*users);
  }
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  Flags flags;
  CLI::App app{
      "cowork-replay: the event topics as JSON lines or CSV, one row per event (columns: " +
      absl::StrReplaceAll(absl::StripTrailingAsciiWhitespace(replay::CsvHeader()), {{",", ", "}}) +
      "), from the beginning, an offset or a time, to the end or following"};
  AddKafkaOptions(app, flags);
  app.add_option("--topic", flags.topics,
                 "A service (bookings) or a topic (cowork.bookings.events); repeatable; "
                 "default every service's topic")
      ->delimiter(',');
  CLI::Option* from_offset = app.add_option(
      "--from-offset", flags.from_offset,
      "Start at this offset of every partition; negative: the last N messages of each");
  app.add_option("--from-time", flags.from_time,
                 "Start at the first message published at or after this instant (RFC 3339, or "
                 "YYYY-MM-DD for midnight UTC)")
      ->check(InstantValidator())
      ->excludes(from_offset);
  app.add_option("--type", flags.types,
                 "Only events of these types: BookingCreated or cowork.bookings.v1.BookingCreated "
                 "(repeatable, or comma-separated)")
      ->delimiter(',');
  app.add_option("--location", flags.locations, "Only events of these locations")->delimiter(',');
  app.add_option("--operator", flags.operators, "Only events of these operators")->delimiter(',');
  app.add_option("--since", flags.since, "Only events that happened at or after this instant")
      ->check(InstantValidator());
  app.add_option("--until", flags.until, "Only events that happened before this instant")
      ->check(InstantValidator());
  app.add_option("--format", flags.format, "jsonl: one JSON object per line; csv: RFC 4180")
      ->check(CLI::IsMember({"jsonl", "csv"}))
      ->capture_default_str();
  app.add_option("--output", flags.output, "Write the rows to this file instead of stdout");
  app.add_flag("--follow", flags.follow,
               "Keep reading new events after the end (until SIGINT or SIGTERM)");
  app.add_flag("--progress,!--no-progress", flags.progress,
               "Progress on stderr every second (default: when stderr is a terminal)");

  CLI::App* active = app.add_subcommand(
      "active-users",
      "The active users of a location in a month, recomputed from the customers, contracts and "
      "bookings topics with the billing service's own code, a closed month from what was "
      "recorded before its close (reads them and billing's topic from the beginning)");
  AddKafkaOptions(*active, flags);
  active->add_option("--location", flags.location, "Location id")->required();
  active->add_option("--month", flags.month, "YYYY-MM, in the location's time zone")->required();
  active->add_option("--format", flags.users_format,
                     "text: the count and one line per customer with its criteria; json: the "
                     "billing API's ActiveUsers message")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  active->add_option("--work-dir", flags.work_dir,
                     "Where the temporary store goes (default $TMPDIR or /tmp); deleted at the "
                     "end");
  active->add_flag("--progress,!--no-progress", flags.progress,
                   "Progress on stderr every second (default: when stderr is a terminal)");
  CLI11_PARSE(app, argc, argv);

  struct sigaction action = {};
  action.sa_handler = OnSignal;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);

  return active->parsed() ? ReplayActiveUsers(flags) : ReplayEvents(flags);
}
