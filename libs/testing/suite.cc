#include "libs/testing/suite.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "grpc/support/time.h"
#include "httplib.h"
#include "libs/auth/auth.h"
#include "libs/auth/keys.h"
#include "libs/clock/clock.h"
#include "libs/crypto/crypto.h"

extern char** environ;

namespace cowork::testing {
namespace {

gpr_timespec MonotonicDeadline(absl::Duration timeout) {
  return gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                      gpr_time_from_millis(absl::ToInt64Milliseconds(timeout), GPR_TIMESPAN));
}

// Every COWORK_* variable of this process's environment except COWORK_BIN_DIR: secrets and
// flag fallbacks a developer's shell may hold must not leak into a test's services.
std::vector<std::string> CoworkEnvNames() {
  std::vector<std::string> names;
  for (char** e = environ; *e != nullptr; ++e) {
    absl::string_view entry(*e);
    absl::string_view name = entry.substr(0, entry.find('='));
    if (absl::StartsWith(name, "COWORK_") && name != "COWORK_BIN_DIR") {
      names.emplace_back(name);
    }
  }
  return names;
}

}  // namespace

absl::StatusOr<DevBroker> StartDevBroker(const std::string& dir, absl::Duration timeout) {
  SubprocessOptions options;
  options.program = BinDir() + "/cowork-devbroker";
  options.args = {"--address-file", dir + "/devbroker.address"};
  options.unset_env = CoworkEnvNames();
  options.log_path = NextLogPath(dir + "/devbroker", "devbroker");
  absl::StatusOr<std::unique_ptr<Subprocess>> process = Subprocess::Start(options);
  if (!process.ok()) return process.status();
  absl::StatusOr<std::vector<std::string>> line =
      (*process)->WaitForLine(R"(^bootstrap: (\S+))", timeout);
  if (!line.ok()) return line.status();
  DevBroker broker;
  broker.process = std::move(*process);
  broker.bootstrap = (*line)[1];
  return broker;
}

std::vector<std::string> CustomersArgs(const ServiceOptions& options) {
  std::vector<std::string> args = {"--listen",        "127.0.0.1:0",
                                   "--metrics-listen", "127.0.0.1:0",
                                   "--data-dir",      options.data_dir,
                                   "--kafka-brokers", options.bootstrap};
  if (options.dev) args.push_back("--dev");
  if (!options.durable) args.push_back("--durable=false");
  for (const std::string& a : options.extra_args) args.push_back(a);
  return args;
}

std::string NextLogPath(const std::string& data_dir, absl::string_view service) {
  static std::atomic<int> counter{0};
  return absl::StrCat(data_dir, ".", service, ".", counter.fetch_add(1) + 1, ".log");
}

absl::StatusOr<Service> StartCustomers(const ServiceOptions& options) {
  return StartService("customers", options);
}

absl::StatusOr<Service> StartService(absl::string_view name, const ServiceOptions& options) {
  if (options.data_dir.empty() || options.bootstrap.empty()) {
    return absl::InvalidArgumentError("StartService: data_dir and bootstrap are required");
  }
  SubprocessOptions sub;
  sub.program = absl::StrCat(BinDir(), "/cowork-", name);
  sub.args = CustomersArgs(options);
  sub.env = options.env;
  sub.unset_env = CoworkEnvNames();
  for (const std::string& u : options.unset_env) sub.unset_env.push_back(u);
  sub.log_path = NextLogPath(options.data_dir, name);
  absl::StatusOr<std::unique_ptr<Subprocess>> process = Subprocess::Start(sub);
  if (!process.ok()) return process.status();
  absl::StatusOr<std::vector<std::string>> line = (*process)->WaitForLine(
      absl::StrCat(name, R"( listening on (127\.0\.0\.1:[0-9]+))"), options.timeout);
  if (!line.ok()) return line.status();
  // Logged before the gRPC port (the runtime starts /metrics first).
  absl::StatusOr<std::vector<std::string>> metrics = (*process)->WaitForLine(
      R"re("metrics listening","address":"([0-9.]+:[0-9]+)")re", absl::ZeroDuration());
  Service service;
  service.process = std::move(*process);
  service.address = (*line)[1];
  if (metrics.ok()) service.metrics_address = (*metrics)[1];
  std::shared_ptr<grpc::Channel> channel = Connect(service.address, options.client_tls);
  if (absl::Status s = WaitConnected(*channel, options.timeout); !s.ok()) {
    return absl::Status(s.code(), absl::StrCat(s.message(), "; log tail:\n",
                                               service.process->LogTail()));
  }
  return service;
}

namespace {

// GET `path` on the service's metrics port: the status and the body.
absl::StatusOr<std::pair<int, std::string>> GetFromMetricsPort(const Service& service,
                                                               absl::string_view path) {
  const size_t colon = service.metrics_address.rfind(':');
  if (colon == std::string::npos) {
    return absl::FailedPreconditionError("the service logged no metrics address");
  }
  httplib::Client http(service.metrics_address.substr(0, colon),
                       std::stoi(service.metrics_address.substr(colon + 1)));
  httplib::Result r = http.Get(std::string(path));
  if (!r) {
    return absl::UnavailableError(
        absl::StrCat("GET ", path, " on ", service.metrics_address, " failed"));
  }
  return std::make_pair(r->status, r->body);
}

}  // namespace

absl::StatusOr<int> MetricsPortStatus(const Service& service, absl::string_view path) {
  absl::StatusOr<std::pair<int, std::string>> got = GetFromMetricsPort(service, path);
  if (!got.ok()) return got.status();
  return got->first;
}

absl::StatusOr<double> MetricValue(const Service& service, absl::string_view series) {
  absl::StatusOr<std::pair<int, std::string>> got = GetFromMetricsPort(service, "/metrics");
  if (!got.ok()) return got.status();
  if (got->first != 200) {
    return absl::UnavailableError(
        absl::StrCat("GET /metrics on ", service.metrics_address, ": ", got->first));
  }
  for (absl::string_view line : absl::StrSplit(got->second, '\n')) {
    if (absl::ConsumePrefix(&line, series) && absl::ConsumePrefix(&line, " ")) {
      double value = 0;
      if (!absl::SimpleAtod(line, &value)) {
        return absl::InternalError(absl::StrCat("unreadable value of ", series, ": ", line));
      }
      return value;
    }
  }
  return 0.0;
}

std::shared_ptr<grpc::Channel> Connect(const std::string& address,
                                       const server::ClientTls& tls) {
  grpc::ChannelArguments args;
  // Retry connecting quickly after a restart of the service on the same test.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  // Bad-input tests send 1 MB fields; leave headroom above them.
  args.SetMaxSendMessageSize(16 * 1024 * 1024);
  args.SetMaxReceiveMessageSize(16 * 1024 * 1024);
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      server::ClientCredentials(tls, args);
  if (!credentials.ok()) {
    std::fprintf(stderr, "testing::Connect: %s\n", credentials.status().ToString().c_str());
    std::abort();
  }
  return grpc::CreateCustomChannel(address, *credentials, args);
}

absl::Status WaitConnected(grpc::Channel& channel, absl::Duration timeout) {
  if (channel.WaitForConnected(MonotonicDeadline(timeout))) return absl::OkStatus();
  return absl::UnavailableError(
      absl::StrCat("channel not connected within ", absl::FormatDuration(timeout)));
}

CustomersStubs CustomersStubs::Connect(const std::string& address,
                                       const server::ClientTls& tls) {
  CustomersStubs stubs;
  stubs.channel = testing::Connect(address, tls);
  stubs.directory = customers::v1::DirectoryService::NewStub(stubs.channel);
  stubs.customers = customers::v1::CustomersService::NewStub(stubs.channel);
  stubs.accounts = customers::v1::AccountsService::NewStub(stubs.channel);
  stubs.teams = customers::v1::TeamsService::NewStub(stubs.channel);
  return stubs;
}

void AddMetadata(grpc::ClientContext& context, absl::string_view token) {
  if (token.empty()) return;
  context.AddMetadata("authorization", absl::StrCat("Bearer ", token));
}

void SetDeadline(grpc::ClientContext& context, absl::Duration timeout) {
  context.set_deadline(MonotonicDeadline(timeout));
}

std::string MintDevAdminToken(absl::string_view operator_id,
                              const std::vector<std::string>& locations,
                              const std::vector<std::string>& permissions, absl::Duration ttl,
                              absl::string_view subject) {
  auth::AdminTokenSpec spec;
  spec.subject = std::string(subject);
  spec.operator_id = std::string(operator_id);
  spec.locations = locations;
  spec.permissions = permissions.empty() ? auth::AllPermissions() : permissions;
  spec.ttl = ttl;
  return auth::MintAdminToken(auth::DevAdminKeys().private_pem, spec, RealClock::Get().Now());
}

std::string MintDevPlatformToken(absl::string_view subject, absl::Duration ttl,
                                 const std::vector<std::string>& permissions) {
  return auth::MintPlatformToken(auth::DevPlatformKeys().private_pem, subject,
                                 RealClock::Get().Now(), ttl, permissions);
}

namespace {

constexpr std::pair<const char*, const char*> kKeyFiles[] = {
    {"COWORK_SESSION_PUBLIC_KEY_FILE", "session-public-key.pem"},
    {"COWORK_PLATFORM_PUBLIC_KEY_FILE", "platform-public-key.pem"},
    {"COWORK_ADMIN_PUBLIC_KEY_FILE", "admin-public-key.pem"},
    {"COWORK_SESSION_PRIVATE_KEY_FILE", "session-private-key.pem"}};
// The key that wraps the seal keys a service publishes: 64 hex digits.
constexpr char kKeyWrappingFile[] = "key-wrapping-key";

}  // namespace

absl::Status MakeDevCertificates(const std::string& dir) {
  absl::StatusOr<std::unique_ptr<Subprocess>> script = Subprocess::Start(
      {.program = absl::StrCat(COWORK_SOURCE_DIR, "/tools/dev-certs"),
       .args = {dir},
       .log_path = absl::StrCat(dir, ".dev-certs.log")});
  if (!script.ok()) return script.status();
  absl::StatusOr<ExitStatus> done = (*script)->WaitExit(absl::Seconds(60));
  if (!done.ok()) return done.status();
  if (!done->exited || done->code != 0) {
    return absl::InternalError(absl::StrCat("tools/dev-certs failed: ", (*script)->LogTail()));
  }
  return absl::OkStatus();
}

ProductionKeys WriteProductionKeys(const std::string& dir) {
  ProductionKeys keys{.session = auth::NewEs256KeyPair(),
                      .platform = auth::NewEs256KeyPair(),
                      .admin = auth::NewEs256KeyPair(),
                      .dir = dir};
  for (const auto& [file, pem] :
       {std::pair{kKeyFiles[0].second, keys.session.public_pem},
        {kKeyFiles[1].second, keys.platform.public_pem},
        {kKeyFiles[2].second, keys.admin.public_pem},
        {kKeyFiles[3].second, keys.session.private_pem}}) {
    std::ofstream(absl::StrCat(dir, "/", file)) << pem;
  }
  std::ofstream(absl::StrCat(dir, "/", kKeyWrappingFile))
      << absl::BytesToHexString(crypto::NewSealKey()) << "\n";
  return keys;
}

std::vector<std::pair<std::string, std::string>> ProductionKeys::EnvFor(
    absl::string_view service) const {
  std::vector<std::pair<std::string, std::string>> env;
  for (const auto& [var, file] : kKeyFiles) {
    if (absl::string_view(var) == "COWORK_SESSION_PRIVATE_KEY_FILE" && service != "customers") {
      continue;
    }
    env.emplace_back(var, absl::StrCat(dir, "/", file));
  }
  env.emplace_back("COWORK_KEY_WRAPPING_KEY_FILE", absl::StrCat(dir, "/", kKeyWrappingFile));
  return env;
}

std::string NewRequestId() { return crypto::NewUuid(); }

}  // namespace cowork::testing
