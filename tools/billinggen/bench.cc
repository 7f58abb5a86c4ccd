// cowork-billing-bench: how fast the billing service's active-users projection is built and
// read (tools/bench/billing.sh runs it; docs/PERFORMANCE.md records the numbers).
//
//   project  the pure projection: every event of the generator (same flags as
//            cowork-billing-gen) or of --in FILE through billing::app::App::Apply into a real
//            RocksDB store, --batch events per commit; no Kafka. The customers events also
//            feed the directory (one commit each, as its consumer does), timed apart.
//   consume  the real consumers of cowork-billing on a real store, fed by the broker at
//            --kafka-brokers from offset zero: the directory's ("billing.customers") and the
//            activity's ("billing.activity", --write-only to batch a poll round per commit).
//            Runs until both have read everything (no lag, nothing new for --idle seconds).
//   query    GetActiveUsers of one location for each month, and ListActiveUserCounts of the
//            location and of the whole network over the months: in-process on the store at
//            --data-dir, or over gRPC against --target.
//
// Each prints what it did and one line "RESULT mode=... key=value ..." for scripts.
//
//   cowork-billing-bench project --customers 200000 --data-dir /tmp/billing --keep
//   cowork-billing-bench query --data-dir /tmp/billing --location loc-01
//   cowork-billing-bench query --target 127.0.0.1:50056 --dev --location loc-01

#include <stdlib.h>
#include <time.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cowork/billing/v1/billing.grpc.pb.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "grpcpp/grpcpp.h"
#include "libs/auth/auth.h"
#include "libs/auth/keys.h"
#include "libs/clock/clock.h"
#include "libs/directory/directory.h"
#include "libs/eventstore/store.h"
#include "libs/kafka/kafka.h"
#include "libs/testing/app_fixtures.h"
#include "services/billing/app/app.h"
#include "tools/billinggen/event_file.h"
#include "tools/billinggen/flags.h"
#include "tools/billinggen/generator.h"
#include "tools/loadgen/stats.h"

namespace cowork::billinggen {
namespace {

using SteadyClock = std::chrono::steady_clock;

double SecondsSince(SteadyClock::time_point t0) {
  return std::chrono::duration<double>(SteadyClock::now() - t0).count();
}

// CPU seconds the calling thread has used: what a step costs even when other processes share
// the cores.
double ThreadCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

[[noreturn]] void Die(absl::string_view what, const absl::Status& status) {
  std::fprintf(stderr, "cowork-billing-bench: %s: %s\n", std::string(what).c_str(),
               status.ToString().c_str());
  std::exit(1);
}

void Check(const absl::Status& status, absl::string_view what) {
  if (!status.ok()) Die(what, status);
}

// A store directory: the one given, or a new one under $TMPDIR removed at the end unless
// `keep`.
class DataDir {
 public:
  DataDir(std::string given, bool keep) : path_(std::move(given)), remove_(false) {
    if (!path_.empty()) return;
    const char* base = getenv("TMPDIR");
    std::string pattern =
        absl::StrCat(base != nullptr && *base ? base : "/tmp", "/cowork-billing-bench.XXXXXX");
    path_ = mkdtemp(pattern.data());
    remove_ = !keep;
  }
  ~DataDir() {
    if (!remove_) return;
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  bool remove_;
};

// The billing service's pieces on one store, wired as its main() wires them.
struct Billing {
  explicit Billing(const std::string& path, bool durable)
      : store([&] {
          absl::StatusOr<std::unique_ptr<eventstore::Store>> opened =
              eventstore::Store::Open({.path = path, .durable = durable});
          Check(opened.status(), "open the store");
          return *std::move(opened);
        }()),
        directory(*store),
        verifier(testing::DevVerifierOptions()),
        app(*store, directory, RealClock::Get(), verifier) {}

  std::unique_ptr<eventstore::Store> store;
  directory::Directory directory;
  auth::TokenVerifier verifier;
  billing::app::App app;
};

// Payloads decoded by their type URL into the generated message types.
class Decoder {
 public:
  // Null when the type is unknown or the payload does not parse.
  std::unique_ptr<google::protobuf::Message> Payload(const common::v1::EventEnvelope& e) {
    const std::string& url = e.payload().type_url();
    auto [it, added] = prototypes_.try_emplace(url, nullptr);
    if (added) {
      const google::protobuf::Descriptor* descriptor =
          google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(
              url.substr(url.rfind('/') + 1));
      if (descriptor != nullptr) {
        it->second =
            google::protobuf::MessageFactory::generated_factory()->GetPrototype(descriptor);
      }
    }
    if (it->second == nullptr) return nullptr;
    std::unique_ptr<google::protobuf::Message> payload(it->second->New());
    if (!payload->ParseFromString(e.payload().value())) return nullptr;
    return payload;
  }

 private:
  absl::flat_hash_map<std::string, const google::protobuf::Message*> prototypes_;
};

// ---------------------------------------------------------------- project

struct ProjectFlags {
  GeneratorOptions generator;
  std::string in;
  std::string data_dir;
  bool keep = false;
  bool durable = true;
  size_t batch = 500;
  bool directory = true;
};

int Project(const ProjectFlags& f) {
  DataDir dir(f.data_dir, f.keep);
  Billing billing(dir.path(), f.durable);
  Decoder decoder;
  eventstore::WriteSet batch;
  size_t in_batch = 0;
  uint64_t events = 0, projected = 0, directory_events = 0, commits = 0;
  // Decoding every payload (the consumer decodes only the types it has handlers for), then
  // Apply, then the commits.
  SteadyClock::duration app_time{}, decode_time{}, apply_time{}, directory_time{};
  double commit_cpu = 0;  // per commit: few enough calls to ask the kernel
  const SteadyClock::time_point t0 = SteadyClock::now();

  auto commit = [&] {
    const SteadyClock::time_point t = SteadyClock::now();
    const double cpu = ThreadCpuSeconds();
    Check(billing.store->Commit(std::exchange(batch, eventstore::WriteSet())), "commit");
    commit_cpu += ThreadCpuSeconds() - cpu;
    app_time += SteadyClock::now() - t;
    in_batch = 0;
    ++commits;
  };
  auto apply = [&](const common::v1::EventEnvelope& e) {
    ++events;
    SteadyClock::time_point t = SteadyClock::now();
    std::unique_ptr<google::protobuf::Message> payload = decoder.Payload(e);
    if (payload == nullptr) Die("decode", absl::DataLossError(e.payload().type_url()));
    decode_time += SteadyClock::now() - t;
    const size_t before = batch.writes().size();
    Check(billing.app.activity().Apply(e, *payload, batch), "apply");
    if (batch.writes().size() > before) ++projected;
    const SteadyClock::duration applying = SteadyClock::now() - t;
    apply_time += applying;
    app_time += applying;
    if (++in_batch >= f.batch) commit();
    if (f.directory && e.service() == "customers") {
      t = SteadyClock::now();
      eventstore::WriteSet writes;
      Check(billing.directory.Apply(e, *payload, writes), "directory");
      if (!writes.empty()) Check(billing.store->Commit(std::move(writes)), "directory commit");
      ++directory_events;
      directory_time += SteadyClock::now() - t;
    }
  };
  GeneratedSummary summary;
  if (f.in.empty()) {
    summary = Generator(f.generator).Run(apply);
  } else {
    Check(ReadEventFile(f.in, apply), "read the events");
  }
  if (in_batch > 0) commit();
  const double app_seconds = std::chrono::duration<double>(app_time).count();
  const double decode_seconds = std::chrono::duration<double>(decode_time).count();
  const double apply_seconds = std::chrono::duration<double>(apply_time).count() - decode_seconds;
  const double directory_seconds = std::chrono::duration<double>(directory_time).count();
  if (f.in.empty()) std::printf("%s", FormatSummary(summary).c_str());
  std::printf(
      "projected %llu of %llu events in %.1f s of projection (%.0f events/s; %.1f s decoding "
      "payloads, %.1f s in Apply, %.1f s of CPU in %llu commits of up to %zu), directory %llu "
      "events in %.1f s, %.1f s in all; store %s (durable=%s)\n",
      static_cast<unsigned long long>(projected), static_cast<unsigned long long>(events),
      app_seconds, events / app_seconds, decode_seconds, apply_seconds, commit_cpu,
      static_cast<unsigned long long>(commits), f.batch,
      static_cast<unsigned long long>(directory_events), directory_seconds, SecondsSince(t0),
      dir.path().c_str(), f.durable ? "true" : "false");
  std::printf(
      "RESULT mode=project durable=%s batch=%zu events=%llu projected=%llu seconds=%.2f "
      "events_per_s=%.0f decode_s=%.2f apply_s=%.2f commit_cpu_s=%.2f directory_events=%llu "
      "directory_seconds=%.2f\n",
      f.durable ? "true" : "false", f.batch, static_cast<unsigned long long>(events),
      static_cast<unsigned long long>(projected), app_seconds, events / app_seconds, decode_seconds,
      apply_seconds, commit_cpu, static_cast<unsigned long long>(directory_events),
      directory_seconds);
  return 0;
}

// ---------------------------------------------------------------- consume

struct ConsumeFlags {
  std::string brokers;
  std::string data_dir;
  bool keep = false;
  bool durable = true;
  bool write_only = false;
  size_t batch = 500;
  bool rebuild = false;
  double idle_seconds = 3;
  uint64_t expect = 0;     // events on the three topics; 0: unknown
  double max_seconds = 0;  // stop after this long (a rate, not a rebuild); 0: no limit
};

int Consume(const ConsumeFlags& f) {
  DataDir dir(f.data_dir, f.keep);
  Billing billing(dir.path(), f.durable);
  const kafka::KafkaOptions kafka{.brokers = f.brokers, .client_id = "billing-bench"};
  kafka::EventConsumer directory(
      *billing.store, kafka,
      {.name = "billing.customers",
       .topics = {kafka::TopicFor("customers")},
       .rebuild = f.rebuild,
       .reset = [&](eventstore::Store&) { return billing.directory.Reset(); }});
  billing.directory.Subscribe(directory);
  kafka::EventConsumer activity(
      *billing.store, kafka,
      {.name = "billing.activity",
       .topics = {kafka::TopicFor("customers"), kafka::TopicFor("contracts"),
                  kafka::TopicFor("bookings")},
       .batch_size = f.batch,
       .write_only = f.write_only,
       .rebuild = f.rebuild,
       .reset = [&](eventstore::Store&) { return billing.app.activity().Reset(); }});
  billing.app.activity().Subscribe(activity);

  const SteadyClock::time_point t0 = SteadyClock::now();
  Check(directory.Start(), "start the directory's consumer");
  Check(activity.Start(), "start the activity consumer");
  struct Progress {
    uint64_t seen = 0;
    double last = 0;  // seconds from t0 of the last change
  };
  auto update = [&](const kafka::EventConsumer& c, Progress& p) {
    const uint64_t seen = c.applied() + c.skipped();
    if (seen != p.seen) p = {seen, SecondsSince(t0)};
  };
  Progress dir_progress, activity_progress;
  bool stopped_early = false;  // by --max-seconds
  double next_report = 10;
  while (true) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    update(directory, dir_progress);
    update(activity, activity_progress);
    const double now = SecondsSince(t0);
    if (now >= next_report) {
      std::printf("%6.0f s: activity %llu events (lag %lld), directory %llu (lag %lld)\n", now,
                  static_cast<unsigned long long>(activity_progress.seen),
                  static_cast<long long>(activity.Lag()),
                  static_cast<unsigned long long>(dir_progress.seen),
                  static_cast<long long>(directory.Lag()));
      std::fflush(stdout);
      next_report += 10;
    }
    if (f.max_seconds > 0 && now >= f.max_seconds) {
      activity_progress.last = dir_progress.last = now;
      stopped_early = true;
      break;
    }
    const double idle = now - std::max(dir_progress.last, activity_progress.last);
    if (activity.Lag() != 0 || directory.Lag() != 0 || idle < f.idle_seconds) continue;
    const bool all_seen =
        f.expect > 0 ? activity_progress.seen >= f.expect : activity_progress.seen > 0;
    // Nothing left to read but fewer events than expected: reported below.
    if (all_seen || (f.expect > 0 && idle >= std::max(30.0, f.idle_seconds))) break;
  }
  if (f.expect > 0 && !stopped_early && activity_progress.seen != f.expect) {
    // The dev broker drops a partition's oldest messages beyond 5 MB (librdkafka's mock
    // cluster): give it more partitions.
    Die("incomplete", absl::DataLossError(absl::StrCat("read ", activity_progress.seen,
                                                       " events, expected ", f.expect)));
  }
  const double seconds = activity_progress.last;
  std::printf(
      "activity: %llu events (%llu applied, %llu skipped) in %.1f s, %.0f events/s, %llu "
      "commits; directory: %llu events in %.1f s; store %s (durable=%s, write_only=%s, "
      "rebuild=%s)\n",
      static_cast<unsigned long long>(activity_progress.seen),
      static_cast<unsigned long long>(activity.applied()),
      static_cast<unsigned long long>(activity.skipped()), seconds,
      activity_progress.seen / seconds, static_cast<unsigned long long>(activity.commits()),
      static_cast<unsigned long long>(dir_progress.seen), dir_progress.last, dir.path().c_str(),
      f.durable ? "true" : "false", f.write_only ? "true" : "false", f.rebuild ? "true" : "false");
  std::printf(
      "RESULT mode=consume durable=%s write_only=%s batch=%zu rebuild=%s complete=%s "
      "events=%llu applied=%llu seconds=%.2f events_per_s=%.0f commits=%llu "
      "directory_events=%llu directory_seconds=%.2f\n",
      f.durable ? "true" : "false", f.write_only ? "true" : "false", f.batch,
      f.rebuild ? "true" : "false", stopped_early ? "false" : "true",
      static_cast<unsigned long long>(activity_progress.seen),
      static_cast<unsigned long long>(activity.applied()), seconds,
      activity_progress.seen / seconds, static_cast<unsigned long long>(activity.commits()),
      static_cast<unsigned long long>(dir_progress.seen), dir_progress.last);
  return 0;
}

// ---------------------------------------------------------------- query

struct QueryFlags {
  std::string data_dir;
  std::string target;
  std::string token;
  bool dev = false;
  std::string operator_id = "op-bench";
  std::string location = "loc-01";
  std::string from_month = "2025-01";
  std::string to_month = "2025-12";
  int repeat = 10;
  bool network = true;
};

// The two calls, in-process or over gRPC.
class Caller {
 public:
  virtual ~Caller() = default;
  virtual absl::StatusOr<billing::v1::ActiveUsers> Get(
      const billing::v1::GetActiveUsersRequest& r) = 0;
  virtual absl::StatusOr<billing::v1::ListActiveUserCountsResponse> Counts(
      const billing::v1::ListActiveUserCountsRequest& r) = 0;
};

class InProcess final : public Caller {
 public:
  InProcess(const std::string& path, const std::string& operator_id) : billing_(path, false) {
    admin_.role = auth::Role::kAdmin;
    admin_.subject = "bench@example.com";
    admin_.operator_id = operator_id;
    admin_.locations = {"*"};
    admin_.permissions.insert(std::string(auth::kPlatformInvoices));
  }
  absl::StatusOr<billing::v1::ActiveUsers> Get(
      const billing::v1::GetActiveUsersRequest& r) override {
    return billing_.app.GetActiveUsers(admin_, r);
  }
  absl::StatusOr<billing::v1::ListActiveUserCountsResponse> Counts(
      const billing::v1::ListActiveUserCountsRequest& r) override {
    return billing_.app.ListActiveUserCounts(admin_, r);
  }

 private:
  Billing billing_;
  auth::Principal admin_;
};

class OverGrpc final : public Caller {
 public:
  OverGrpc(const std::string& target, std::string token) : token_(std::move(token)) {
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(256 << 20);
    stub_ = billing::v1::ActiveUsersService::NewStub(
        grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args));
  }
  absl::StatusOr<billing::v1::ActiveUsers> Get(
      const billing::v1::GetActiveUsersRequest& r) override {
    return Call(&billing::v1::ActiveUsersService::Stub::GetActiveUsers, r);
  }
  absl::StatusOr<billing::v1::ListActiveUserCountsResponse> Counts(
      const billing::v1::ListActiveUserCountsRequest& r) override {
    return Call(&billing::v1::ActiveUsersService::Stub::ListActiveUserCounts, r);
  }

 private:
  template <typename Request, typename Response>
  absl::StatusOr<Response> Call(grpc::Status (billing::v1::ActiveUsersService::Stub::*method)(
                                    grpc::ClientContext*, const Request&, Response*),
                                const Request& request) {
    grpc::ClientContext context;
    context.AddMetadata("authorization", absl::StrCat("Bearer ", token_));
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    Response response;
    grpc::Status status = ((*stub_).*method)(&context, request, &response);
    if (!status.ok()) {
      return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                          status.error_message());
    }
    return response;
  }

  std::string token_;
  std::unique_ptr<billing::v1::ActiveUsersService::Stub> stub_;
};

// Times `call` `repeat` times after one untimed warm-up (none when `repeat` is 0); adds the
// samples to `all`, and the calling thread's CPU time of each to `cpu` when given (what an
// in-process call costs, whatever else runs on the machine).
template <typename Fn>
void Time(int repeat, loadgen::Samples& all, Fn call, loadgen::Samples* cpu = nullptr) {
  if (repeat == 0) return;
  call();
  for (int i = 0; i < repeat; ++i) {
    const SteadyClock::time_point t = SteadyClock::now();
    const double cpu0 = ThreadCpuSeconds();
    call();
    all.Add(absl::FromChrono(SteadyClock::now() - t));
    if (cpu != nullptr) cpu->Add(absl::Seconds(ThreadCpuSeconds() - cpu0));
  }
}

std::string Percentiles(loadgen::Samples& s) {
  return absl::StrCat("p50 ", loadgen::FormatMillis(s.Percentile(0.50)), ", p95 ",
                      loadgen::FormatMillis(s.Percentile(0.95)), ", p99 ",
                      loadgen::FormatMillis(s.Percentile(0.99)), ", max ",
                      loadgen::FormatMillis(s.Percentile(1.0)), " (", s.size(), " calls)");
}

// Milliseconds with three decimals, no unit (RESULT lines).
std::string Ms(absl::Duration d) { return absl::StrFormat("%.3f", absl::ToDoubleMilliseconds(d)); }

int Query(const QueryFlags& f) {
  absl::CivilMonth from, to;
  if (!absl::ParseCivilTime(f.from_month, &from) || !absl::ParseCivilTime(f.to_month, &to) ||
      to < from) {
    Die("bad months", absl::InvalidArgumentError(f.from_month + ".." + f.to_month));
  }
  std::unique_ptr<Caller> caller;
  if (!f.target.empty()) {
    std::string token = f.token;
    if (token.empty()) {
      if (!f.dev) Die("no token", absl::InvalidArgumentError("give --token or --dev"));
      token = auth::MintAdminToken(auth::DevAdminKeys().private_pem,
                                   {.subject = "bench@example.com",
                                    .operator_id = f.operator_id,
                                    .locations = {"*"},
                                    .permissions = {std::string(auth::kPlatformInvoices)}},
                                   absl::Now());
    }
    caller = std::make_unique<OverGrpc>(f.target, token);
  } else {
    if (f.data_dir.empty()) Die("no store", absl::InvalidArgumentError("give --data-dir"));
    caller = std::make_unique<InProcess>(f.data_dir, f.operator_id);
  }
  const char* where = f.target.empty() ? "in-process" : "grpc";

  loadgen::Samples month_calls, month_cpu;
  loadgen::Samples* cpu = f.target.empty() ? &month_cpu : nullptr;
  int64_t largest = 0;
  for (absl::CivilMonth m = from; m <= to; ++m) {
    billing::v1::GetActiveUsersRequest r;
    r.set_location_id(f.location);
    r.set_month(absl::FormatCivilTime(m));
    r.set_page_size(500);  // the largest page: what an export of the users asks, page by page
    int64_t count = 0;
    loadgen::Samples samples;
    Time(
        f.repeat, samples,
        [&] {
          absl::StatusOr<billing::v1::ActiveUsers> got = caller->Get(r);
          Check(got.status(), "GetActiveUsers");
          count = got->count();
        },
        cpu);
    largest = std::max(largest, count);
    std::printf("GetActiveUsers %s %s: %lld active users, p50 %s\n", f.location.c_str(),
                r.month().c_str(), static_cast<long long>(count),
                loadgen::FormatMillis(samples.Percentile(0.5)).c_str());
    month_calls.Merge(samples);
  }
  std::printf("GetActiveUsers (%s) over every month: %s\n", where,
              Percentiles(month_calls).c_str());
  if (cpu != nullptr) {
    std::printf("GetActiveUsers CPU per call: %s\n", Percentiles(month_cpu).c_str());
  }

  billing::v1::ListActiveUserCountsRequest counts;
  counts.set_location_id(f.location);
  counts.set_from_month(absl::FormatCivilTime(from));
  counts.set_to_month(absl::FormatCivilTime(to));
  loadgen::Samples location_counts;
  Time(f.repeat, location_counts, [&] { Check(caller->Counts(counts).status(), "counts"); });
  std::printf("ListActiveUserCounts %s %s..%s (%s): %s\n", f.location.c_str(),
              counts.from_month().c_str(), counts.to_month().c_str(), where,
              Percentiles(location_counts).c_str());
  counts.clear_location_id();
  loadgen::Samples network_counts;
  int locations = 0;
  Time(f.network ? std::max(1, f.repeat / 5) : 0, network_counts, [&] {
    absl::StatusOr<billing::v1::ListActiveUserCountsResponse> got = caller->Counts(counts);
    Check(got.status(), "network counts");
    locations = got->counts_size() / static_cast<int>(to - from + 1);
  });
  std::printf("ListActiveUserCounts network (%d locations) %s..%s (%s): %s\n", locations,
              counts.from_month().c_str(), counts.to_month().c_str(), where,
              Percentiles(network_counts).c_str());
  std::printf(
      "RESULT mode=query via=%s location=%s largest_count=%lld get_p50_ms=%s get_p95_ms=%s "
      "get_p99_ms=%s get_max_ms=%s get_cpu_p50_ms=%s counts_p50_ms=%s counts_p99_ms=%s "
      "network_p50_ms=%s network_max_ms=%s\n",
      where, f.location.c_str(), static_cast<long long>(largest),
      Ms(month_calls.Percentile(0.5)).c_str(), Ms(month_calls.Percentile(0.95)).c_str(),
      Ms(month_calls.Percentile(0.99)).c_str(), Ms(month_calls.Percentile(1.0)).c_str(),
      cpu != nullptr ? Ms(month_cpu.Percentile(0.5)).c_str() : "-",
      Ms(location_counts.Percentile(0.5)).c_str(), Ms(location_counts.Percentile(0.99)).c_str(),
      Ms(network_counts.Percentile(0.5)).c_str(), Ms(network_counts.Percentile(1.0)).c_str());
  return 0;
}

int Main(int argc, char** argv) {
  CLI::App app{"cowork-billing-bench: the billing projection's build and query times"};
  app.require_subcommand(1);

  ProjectFlags project;
  CLI::App* p = app.add_subcommand("project", "Activity::Apply and store commits, no Kafka");
  AddGeneratorFlags(*p, project.generator);
  p->add_option("--in", project.in, "Read the events from this file instead of generating them");
  p->add_option("--data-dir", project.data_dir, "The store (default: a new temp dir)");
  p->add_flag("--keep", project.keep, "Keep the temp store");
  p->add_flag("--durable,!--no-durable", project.durable, "fsync every commit")
      ->capture_default_str();
  p->add_option("--batch", project.batch, "Events per commit")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  p->add_flag("--directory,!--no-directory", project.directory,
              "Also feed the directory (needed to query the store later)")
      ->capture_default_str();

  ConsumeFlags consume;
  CLI::App* c = app.add_subcommand("consume", "The service's consumers, from the broker");
  c->add_option("--kafka-brokers", consume.brokers, "Bootstrap servers")
      ->envname("COWORK_KAFKA_BROKERS")
      ->required();
  c->add_option("--data-dir", consume.data_dir, "The store (default: a new temp dir)");
  c->add_flag("--keep", consume.keep, "Keep the temp store");
  c->add_flag("--durable,!--no-durable", consume.durable, "fsync every commit")
      ->capture_default_str();
  c->add_flag("--write-only", consume.write_only,
              "The activity consumer commits a poll round at once (ConsumerOptions::write_only)");
  c->add_option("--batch", consume.batch, "With --write-only: messages per commit at most")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  c->add_flag("--rebuild", consume.rebuild, "Forget offsets and views first (as a rebuild)");
  c->add_option("--idle", consume.idle_seconds, "Done after this long with no lag and no event")
      ->capture_default_str();
  c->add_option("--expect", consume.expect,
                "Events on the three topics: wait for all of them, fail on a different count");
  c->add_option("--max-seconds", consume.max_seconds,
                "Stop after this long and report the rate so far (0: read everything)")
      ->capture_default_str();

  QueryFlags query;
  CLI::App* q = app.add_subcommand("query", "GetActiveUsers and ListActiveUserCounts latency");
  q->add_option("--data-dir", query.data_dir, "In-process, on this store (not in use)");
  q->add_option("--target", query.target, "Over gRPC, against this billing service");
  q->add_option("--token", query.token, "Admin bearer token")->envname("COWORK_TOKEN");
  q->add_flag("--dev", query.dev, "Mint a dev admin token (the service runs with --dev)");
  q->add_option("--operator", query.operator_id, "Operator id")->capture_default_str();
  q->add_option("--location", query.location, "Location asked for")->capture_default_str();
  q->add_option("--from-month", query.from_month, "First month (YYYY-MM)")->capture_default_str();
  q->add_option("--to-month", query.to_month, "Last month (YYYY-MM)")->capture_default_str();
  q->add_option("--repeat", query.repeat, "Timed calls per month (after one warm-up)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  q->add_flag("--network,!--no-network", query.network,
              "Also time ListActiveUserCounts of every location")
      ->capture_default_str();

  CLI11_PARSE(app, argc, argv);
  if (p->parsed()) {
    Check(Validate(project.generator), "bad generator options");
    return Project(project);
  }
  if (c->parsed()) return Consume(consume);
  return Query(query);
}

}  // namespace
}  // namespace cowork::billinggen

int main(int argc, char** argv) { return cowork::billinggen::Main(argc, argv); }
