// cowork-signin-flood: a flood of anonymous sign-ins against the customers service with one
// legitimate customer signing in meanwhile (tools/loadgen/signin_flood.h); prints the
// refusals, the legitimate sign-ins' latency and the service's peak memory.
//
//   cowork-signin-flood --target 127.0.0.1:50051 --dev --service-pid PID [--rotate-addresses]
//
// With --dev it creates an operator, a location and the legitimate customer first (dev
// tokens: the service must run with --dev, and with --client-address-header x-forwarded-for).

#include <iostream>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "cowork/customers/v1/customers.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "libs/auth/auth.h"
#include "libs/auth/keys.h"
#include "libs/clock/clock.h"
#include "libs/crypto/crypto.h"
#include "libs/server/grpc_status.h"
#include "tools/loadgen/signin_flood.h"
#include "tools/loadgen/unary.h"

namespace cowork::loadgen {
namespace {

namespace v1 = ::cowork::customers::v1;

// An operator, its location and a registered customer, as the dev tokens allow.
absl::Status SetUp(SigninFloodOptions& o) {
  auto channel = grpc::CreateChannel(o.target, grpc::InsecureChannelCredentials());
  auto directory = v1::DirectoryService::NewStub(channel);
  auto accounts = v1::AccountsService::NewStub(channel);
  const absl::Time now = RealClock::Get().Now();
  v1::CreateOperatorRequest op;
  op.set_name("Flood Test Spaces");
  auto created = Unary(*directory, &v1::DirectoryService::Stub::CreateOperator, op,
                      auth::MintPlatformToken(auth::DevPlatformKeys().private_pem, "flood", now));
  if (!created.ok()) return created.status();
  o.operator_id = created->operator_id();
  v1::CreateLocationRequest loc;
  loc.set_name("Main");
  loc.set_time_zone("Europe/Madrid");
  loc.set_currency("EUR");
  auth::AdminTokenSpec admin{.subject = "flood@example.test",
                             .operator_id = o.operator_id,
                             .locations = {"*"},
                             .permissions = auth::AllPermissions()};
  auto location = Unary(*directory, &v1::DirectoryService::Stub::CreateLocation, loc,
                       auth::MintAdminToken(auth::DevAdminKeys().private_pem, admin, now));
  if (!location.ok()) return location.status();
  o.legit_email = "legit@flood.example";
  o.legit_password = "Legit-Password-42";
  v1::RegisterRequest r;
  r.set_operator_id(o.operator_id);
  r.set_location_id(location->location_id());
  r.set_first_name("Lena");
  r.set_last_name("Legit");
  r.set_email(o.legit_email);
  r.set_password(o.legit_password);
  return Unary(*accounts, &v1::AccountsService::Stub::Register, r, "").status();
}

int Main(int argc, char** argv) {
  CLI::App app{"cowork-signin-flood: anonymous sign-ins against the password gate"};
  SigninFloodOptions o;
  bool dev = false;
  std::string duration = "30s", interval = "500ms";
  app.add_option("--target", o.target, "The customers service, host:port")->required();
  app.add_flag("--dev", dev, "Create the operator and the legitimate customer with dev tokens");
  app.add_option("--operator", o.operator_id, "Operator id (without --dev)");
  app.add_option("--email", o.legit_email, "The legitimate customer (without --dev)");
  app.add_option("--password", o.legit_password, "Their password (without --dev)");
  app.add_option("--flood-clients", o.flood_clients, "Concurrent anonymous sign-ins")
      ->check(CLI::Range(0, 4096))
      ->capture_default_str();
  app.add_option("--duration", duration, "How long the flood lasts")->capture_default_str();
  app.add_option("--legit-interval", interval, "Between the legitimate sign-ins")
      ->capture_default_str();
  app.add_option("--address-header", o.address_header,
                 "Header naming each call's client address (the service's "
                 "--client-address-header)")
      ->capture_default_str();
  app.add_flag("--rotate-addresses", o.rotate_addresses,
               "A fresh client address per flood call (a distributed attacker)");
  app.add_option("--service-pid", o.service_pid, "Read this process's resident memory");
  CLI11_PARSE(app, argc, argv);
  if (!absl::ParseDuration(duration, &o.duration) ||
      !absl::ParseDuration(interval, &o.legit_interval)) {
    std::cerr << "error: --duration and --legit-interval take durations, e.g. 30s\n";
    return 2;
  }
  if (dev) {
    if (absl::Status s = SetUp(o); !s.ok()) {
      std::cerr << "error: setting up: " << s << "\n";
      return 1;
    }
  }
  absl::StatusOr<SigninFloodResult> result = RunSigninFlood(o);
  if (!result.ok()) {
    std::cerr << "error: " << result.status() << "\n";
    return 1;
  }
  std::cout << FormatSigninFlood(*result);
  return 0;
}

}  // namespace
}  // namespace cowork::loadgen

int main(int argc, char** argv) { return cowork::loadgen::Main(argc, argv); }
