// The gRPC port of a service as a client meets it: TLS (the CA a client must trust, mutual TLS
// refusing clients without a certificate of the configured CA), reflection only when asked
// for, and health (gRPC health and /healthz on the metrics port) NOT_SERVING while the store
// refuses writes. The dev broker and the customers service run as real processes; the disk is
// filled through the dev-mode switch (SIGUSR1 / SIGUSR2, a RocksDB FileSystem wrapper).

#include <signal.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "tests/support/e2e.h"

namespace cowork::e2e {
namespace {

using ::testing::HasSubstr;

constexpr char kHealthCheck[] = "/grpc.health.v1.Health/Check";
constexpr char kReflection[] = "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo";

// A unary call of `method` with raw request bytes (a message of another package, built by
// hand); its status and the response bytes.
struct Raw {
  grpc::Status status;
  std::string response;
};
Raw CallRaw(const std::shared_ptr<grpc::Channel>& channel, const std::string& method,
            const std::string& request_bytes) {
  grpc::TemplatedGenericStub<grpc::ByteBuffer, grpc::ByteBuffer> stub(channel);
  grpc::ClientContext context;
  testing::SetDeadline(context, absl::Seconds(5));
  grpc::Slice slice(request_bytes);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  absl::Notification done;
  Raw out;
  stub.UnaryCall(&context, method, grpc::StubOptions(), &request, &response,
                 [&](grpc::Status status) {
                   out.status = std::move(status);
                   done.Notify();
                 });
  done.WaitForNotification();
  if (out.status.ok()) {
    std::vector<grpc::Slice> slices;
    if (response.Dump(&slices).ok()) {
      for (const grpc::Slice& s : slices) {
        out.response.append(reinterpret_cast<const char*>(s.begin()), s.size());
      }
    }
  }
  return out;
}

// The overall health: grpc.health.v1.HealthCheckResponse is one enum field, 1 SERVING and
// 2 NOT_SERVING ("\x08\x01" / "\x08\x02").
std::string Health(const std::shared_ptr<grpc::Channel>& channel) {
  Raw r = CallRaw(channel, kHealthCheck, "");
  if (!r.status.ok()) return absl::StrCat("error ", r.status.error_code());
  if (r.response == std::string("\x08\x01", 2)) return "SERVING";
  if (r.response == std::string("\x08\x02", 2)) return "NOT_SERVING";
  return "unknown";
}

// A call that needs nothing but a working connection and a valid token.
absl::Status ListLocations(const std::shared_ptr<grpc::Channel>& channel) {
  auto stub = customers::v1::DirectoryService::NewStub(channel);
  return testing::Call(*stub, &customers::v1::DirectoryService::Stub::ListLocations,
                       customers::v1::ListLocationsRequest(),
                       testing::MintDevAdminToken("op-transport", {"*"}), absl::Seconds(5))
      .status();
}

class Transport : public ::testing::Test {
 protected:
  // Two independent dev CAs with their server and client certificates.
  static void SetUpTestSuite() {
    certs_ = new testing::TempDir("cowork-transport-certs");
    ASSERT_TRUE(testing::MakeDevCertificates(certs_->Sub("a")).ok());
    ASSERT_TRUE(testing::MakeDevCertificates(certs_->Sub("b")).ok());
  }
  static void TearDownTestSuite() {
    delete certs_;
    certs_ = nullptr;
  }
  static std::string Cert(const std::string& ca, const std::string& file) {
    return certs_->Sub(absl::StrCat(ca, "/", file));
  }

  void SetUp() override {
    COWORK_ASSERT_OK_AND_ASSIGN(broker_, testing::StartDevBroker(dir_.path()));
  }

  // The customers service with `args`, reached as `tls` says.
  absl::StatusOr<testing::Service> Start(std::vector<std::string> args, server::ClientTls tls,
                                         bool dev = true) {
    testing::ServiceOptions options{.data_dir = dir_.Sub("customers"),
                                    .bootstrap = broker_.bootstrap,
                                    .dev = dev,
                                    .extra_args = std::move(args),
                                    .client_tls = std::move(tls)};
    if (!dev) options.env = testing::WriteProductionKeys(dir_.path()).EnvFor("customers");
    return testing::StartCustomers(options);
  }
  std::vector<std::string> ServerTlsArgs(const std::string& client_ca = "") {
    std::vector<std::string> args = {"--tls-cert-file", Cert("a", "server.pem"),
                                     "--tls-key-file", Cert("a", "server-key.pem")};
    if (!client_ca.empty()) {
      args.push_back("--tls-client-ca-file");
      args.push_back(client_ca);
    }
    return args;
  }

  static testing::TempDir* certs_;
  testing::TempDir dir_{"cowork-transport"};
  testing::DevBroker broker_;
};

testing::TempDir* Transport::certs_ = nullptr;

TEST_F(Transport, TlsAnswersAClientTrustingItsCaAndNoOneElse) {
  COWORK_ASSERT_OK_AND_ASSIGN(
      testing::Service service,
      Start(ServerTlsArgs(), {.ca_file = Cert("a", "ca.pem")}));
  const std::string& address = service.address;
  COWORK_ASSERT_OK(ListLocations(testing::Connect(address, {.ca_file = Cert("a", "ca.pem")})));
  EXPECT_EQ(ListLocations(testing::Connect(address)).code(), absl::StatusCode::kUnavailable)
      << "plaintext";
  EXPECT_EQ(ListLocations(testing::Connect(address, {.ca_file = Cert("b", "ca.pem")})).code(),
            absl::StatusCode::kUnavailable)
      << "a client trusting another CA";
  EXPECT_EQ(ListLocations(testing::Connect(address, {.ca_file = Cert("a", "ca.pem"),
                                                      .server_name = "cowork-customers"}))
                .code(),
            absl::StatusCode::kUnavailable)
      << "a certificate for another name";
}

TEST_F(Transport, MutualTlsRefusesAClientWithoutACertificateOfItsCa) {
  COWORK_ASSERT_OK_AND_ASSIGN(testing::Service service,
                              Start(ServerTlsArgs(Cert("a", "ca.pem")),
                                    {.ca_file = Cert("a", "ca.pem"),
                                     .cert_file = Cert("a", "client.pem"),
                                     .key_file = Cert("a", "client-key.pem")}));
  const std::string& address = service.address;
  COWORK_ASSERT_OK(ListLocations(testing::Connect(address, {.ca_file = Cert("a", "ca.pem"),
                                                             .cert_file = Cert("a", "client.pem"),
                                                             .key_file = Cert("a", "client-key.pem")})));
  EXPECT_EQ(ListLocations(testing::Connect(address, {.ca_file = Cert("a", "ca.pem")})).code(),
            absl::StatusCode::kUnavailable)
      << "no client certificate";
  EXPECT_EQ(ListLocations(testing::Connect(address, {.ca_file = Cert("a", "ca.pem"),
                                                      .cert_file = Cert("b", "client.pem"),
                                                      .key_file = Cert("b", "client-key.pem")}))
                .code(),
            absl::StatusCode::kUnavailable)
      << "a client certificate of another CA";
}

TEST_F(Transport, TlsFilesThatDoNotBelongTogetherStopTheServiceAtStart) {
  absl::StatusOr<testing::Service> refused =
      Start({"--tls-cert-file", Cert("a", "server.pem"), "--tls-key-file",
             Cert("b", "server-key.pem")},
            {.ca_file = Cert("a", "ca.pem")});
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(std::string(refused.status().message()),
              HasSubstr("is not the key of --tls-cert-file"));
  refused = Start({"--tls-cert-file", Cert("a", "server.pem")}, {});
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(std::string(refused.status().message()),
              HasSubstr("--tls-cert-file and --tls-key-file go together"));
}

TEST_F(Transport, ReflectionOnlyInDevOrWhenAskedFor) {
  // ServerReflectionRequest{list_services: ""}: field 7, length 0.
  const std::string list_services("\x3a\x00", 2);
  {
    COWORK_ASSERT_OK_AND_ASSIGN(testing::Service dev, Start({}, {}));
    EXPECT_TRUE(CallRaw(testing::Connect(dev.address), kReflection, list_services).status.ok());
  }
  {
    COWORK_ASSERT_OK_AND_ASSIGN(testing::Service production, Start({}, {}, /*dev=*/false));
    EXPECT_EQ(CallRaw(testing::Connect(production.address), kReflection, list_services)
                  .status.error_code(),
              grpc::StatusCode::UNIMPLEMENTED);
  }
  {
    COWORK_ASSERT_OK_AND_ASSIGN(testing::Service asked, Start({"--reflection"}, {}, false));
    EXPECT_TRUE(CallRaw(testing::Connect(asked.address), kReflection, list_services).status.ok());
  }
  {
    COWORK_ASSERT_OK_AND_ASSIGN(testing::Service dev_without, Start({"--no-reflection"}, {}));
    EXPECT_EQ(CallRaw(testing::Connect(dev_without.address), kReflection, list_services)
                  .status.error_code(),
              grpc::StatusCode::UNIMPLEMENTED);
  }
}

TEST_F(Transport, HealthIsNotServingWhileTheStoreRefusesWrites) {
  COWORK_ASSERT_OK_AND_ASSIGN(testing::Service service, Start({}, {}));
  COWORK_ASSERT_OK_AND_ASSIGN(
      std::vector<std::string> metrics,
      service.process->WaitForLine(R"re("metrics listening","address":"([0-9.]+):([0-9]+)")re",
                                   absl::Seconds(10)));
  httplib::Client http(metrics[1], std::stoi(metrics[2]));
  const auto healthz = [&http] {
    httplib::Result r = http.Get("/healthz");
    return r ? r->status : -1;
  };
  std::shared_ptr<grpc::Channel> channel = testing::Connect(service.address);
  testing::CustomersStubs stubs = testing::CustomersStubs::Connect(service.address);
  COWORK_ASSERT_OK_AND_ASSIGN(Tenant tenant, CreateTenant(stubs, "Healthy Spaces"));
  EXPECT_EQ(Health(channel), "SERVING");
  EXPECT_EQ(healthz(), 200);

  // The disk fills up: writes fail, and health says so within the probe's second.
  COWORK_ASSERT_OK(service.process->Signal(SIGUSR1));
  ASSERT_TRUE(testing::PollUntil([&] { return Health(channel) == "NOT_SERVING"; },
                                 absl::Seconds(10), "health NOT_SERVING")
                  .ok())
      << service.process->LogTail();
  EXPECT_EQ(healthz(), 503);
  absl::StatusOr<customers::v1::Customer> refused = AddCustomer(
      stubs, tenant.admin_token,
      Individual(tenant.location_id, "Fiona", "Full", "fiona@healthy.example"));
  EXPECT_THAT(refused.status().code(), ::testing::AnyOf(absl::StatusCode::kResourceExhausted,
                                                        absl::StatusCode::kUnavailable))
      << refused.status();

  // Room again. A failed flush leaves RocksDB refusing writes until the store is opened
  // again (in Kubernetes the liveness probe restarts the pod): restarted on the same data it
  // serves, keeps what was committed, and takes writes.
  COWORK_ASSERT_OK(service.process->Signal(SIGUSR2));
  COWORK_ASSERT_OK(service.process->Signal(SIGTERM));
  COWORK_ASSERT_OK(service.process->WaitExit(absl::Seconds(30)).status());
  COWORK_ASSERT_OK_AND_ASSIGN(testing::Service again, Start({}, {}));
  stubs = testing::CustomersStubs::Connect(again.address);
  EXPECT_EQ(Health(testing::Connect(again.address)), "SERVING");
  COWORK_ASSERT_OK(ListAllCustomers(stubs, tenant.admin_token, {}));
  COWORK_ASSERT_OK(AddCustomer(stubs, tenant.admin_token,
                               Individual(tenant.location_id, "Fiona", "Full",
                                          "fiona@healthy.example")));
}

}  // namespace
}  // namespace cowork::e2e
