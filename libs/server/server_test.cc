// The server kit over real gRPC on 127.0.0.1, port 0.
#include "libs/server/server.h"

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "grpcpp/generic/generic_stub.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "libs/server/grpc_status.h"
#include "libs/server/testdata/echo.grpc.pb.h"
#include "libs/status/field_errors.h"

namespace cowork::server {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
namespace pb = ::cowork::server::testing;

constexpr absl::Duration kWait = absl::Seconds(30);

class EchoService final : public pb::Echo::CallbackService {
 public:
  absl::Notification block_entered;
  absl::Notification block_release;

  grpc::ServerUnaryReactor* Echo(grpc::CallbackServerContext* ctx, const pb::EchoRequest* req,
                                 pb::EchoResponse* resp) override {
    return Run(ctx, [req, resp]() -> absl::Status {
      if (req->fail() == "invalid") {
        FieldErrors errors;
        errors.Add("first_name", "must have at least 2 characters");
        errors.Add("email", "is not a valid address");
        return errors.ToStatus();
      }
      int code = 0;
      if (!req->fail().empty() && absl::SimpleAtoi(req->fail(), &code)) {
        return absl::Status(static_cast<absl::StatusCode>(code), "failed on purpose");
      }
      resp->set_text(req->text());
      return absl::OkStatus();
    });
  }

  grpc::ServerUnaryReactor* Token(grpc::CallbackServerContext* ctx, const pb::EchoRequest* req,
                                  pb::EchoResponse* resp) override {
    return Run(ctx, [ctx, resp]() -> absl::Status {
      absl::StatusOr<std::string> token = BearerToken(*ctx);
      if (!token.ok()) return token.status();
      resp->set_text(*token);
      return absl::OkStatus();
    });
  }

  grpc::ServerUnaryReactor* Block(grpc::CallbackServerContext* ctx, const pb::EchoRequest* req,
                                  pb::EchoResponse* resp) override {
    return Run(ctx, [this, req, resp]() -> absl::Status {
      block_entered.Notify();
      block_release.WaitForNotification();
      resp->set_text(req->text());
      return absl::OkStatus();
    });
  }
};

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<Server>> server = Server::Start(
        {.service = "echo", .listen = "127.0.0.1:0", .workers = 4, .log_requests = true,
         .drain = kWait},
        {&service_}, metrics_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    ASSERT_GT(server_->port(), 0);
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()),
                                   grpc::InsecureChannelCredentials());
    stub_ = pb::Echo::NewStub(channel_);
  }

  void TearDown() override {
    // Never leave a handler blocked.
    if (!service_.block_release.HasBeenNotified()) service_.block_release.Notify();
    if (server_ != nullptr) server_->Shutdown();
  }

  static void SetDeadline(grpc::ClientContext& ctx) {
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  }

  absl::StatusOr<std::string> CallEcho(const std::string& text, const std::string& fail = "") {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    pb::EchoRequest req;
    req.set_text(text);
    req.set_fail(fail);
    pb::EchoResponse resp;
    grpc::Status status = stub_->Echo(&ctx, req, &resp);
    if (!status.ok()) return FromGrpcStatus(status);
    return resp.text();
  }

  absl::StatusOr<std::string> CallToken(const char* authorization) {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    if (authorization != nullptr) ctx.AddMetadata("authorization", authorization);
    pb::EchoRequest req;
    pb::EchoResponse resp;
    grpc::Status status = stub_->Token(&ctx, req, &resp);
    if (!status.ok()) return FromGrpcStatus(status);
    return resp.text();
  }

  // The real grpc.health.v1 service, called with wire-compatible test messages.
  absl::StatusOr<pb::HealthCheckResponse::ServingStatus> HealthCheck() {
    grpc::TemplatedGenericStub<pb::HealthCheckRequest, pb::HealthCheckResponse> stub(channel_);
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    pb::HealthCheckRequest req;
    pb::HealthCheckResponse resp;
    absl::Notification done;
    grpc::Status result;
    stub.UnaryCall(&ctx, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &req, &resp,
                   [&](grpc::Status s) {
                     result = std::move(s);
                     done.Notify();
                   });
    if (!done.WaitForNotificationWithTimeout(kWait)) {
      return absl::DeadlineExceededError("health check timed out");
    }
    if (!result.ok()) return FromGrpcStatus(result);
    return resp.status();
  }

  EchoService service_;
  Metrics metrics_;
  std::unique_ptr<Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<pb::Echo::Stub> stub_;
};

TEST_F(ServerTest, HealthServiceAnswersServing) {
  absl::StatusOr<pb::HealthCheckResponse::ServingStatus> status = HealthCheck();
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(*status, pb::HealthCheckResponse::SERVING);
}

TEST_F(ServerTest, RunReturnsTheResponse) {
  absl::StatusOr<std::string> text = CallEcho("hello");
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(*text, "hello");
}

TEST_F(ServerTest, FieldViolationsReachTheClient) {
  absl::StatusOr<std::string> text = CallEcho("x", "invalid");
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(text.status().message()), HasSubstr("first_name"));
  EXPECT_THAT(FieldViolationsOf(text.status()),
              ElementsAre(FieldViolation{"first_name", "must have at least 2 characters"},
                          FieldViolation{"email", "is not a valid address"}));
}

// proto3 refuses to decode a string field holding invalid UTF-8; the caller must still get
// INVALID_ARGUMENT naming the field, not gRPC's bare UNIMPLEMENTED.
TEST_F(ServerTest, InvalidUtf8IsInvalidArgumentNamingTheField) {
  grpc::GenericStub stub(channel_);
  grpc::ClientContext ctx;
  SetDeadline(ctx);
  const std::string wire("\x0a\x03\x41\xff\xfe", 5);  // field 1 "text" = "A\xff\xfe"
  grpc::Slice slice(wire.data(), wire.size());
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  absl::Notification done;
  grpc::Status result;
  stub.UnaryCall(&ctx, "/cowork.server.testing.Echo/Echo", grpc::StubOptions(), &request,
                 &response, [&](grpc::Status s) {
                   result = std::move(s);
                   done.Notify();
                 });
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(kWait));
  absl::Status status = FromGrpcStatus(result);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(FieldViolationsOf(status),
              ElementsAre(FieldViolation{"text", "must be valid UTF-8 text"}));
  // The server still answers.
  EXPECT_TRUE(CallEcho("still here").ok());
}

TEST_F(ServerTest, EveryCodeTravelsUnchanged) {
  for (int code = 1; code <= 16; ++code) {
    absl::StatusOr<std::string> text = CallEcho("x", std::to_string(code));
    ASSERT_FALSE(text.ok()) << code;
    EXPECT_EQ(static_cast<int>(text.status().code()), code);
    EXPECT_EQ(text.status().message(), "failed on purpose");
  }
}

TEST_F(ServerTest, BearerToken) {
  EXPECT_EQ(CallToken(nullptr).status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(std::string(CallToken(nullptr).status().message()),
              HasSubstr("missing bearer token"));
  EXPECT_EQ(CallToken("Bearer abc.def.ghi").value_or(""), "abc.def.ghi");
  EXPECT_EQ(CallToken("bearer abc").value_or(""), "abc");
  EXPECT_EQ(CallToken("BEARER   abc").value_or(""), "abc");
  EXPECT_EQ(CallToken("Basic dXNlcjpwYXNz").status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(CallToken("Bearer ").status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(CallToken("Bearerabc").status().code(), absl::StatusCode::kUnauthenticated);
}

TEST_F(ServerTest, RequestMetricsInRenderAndOverHttp) {
  ASSERT_TRUE(CallEcho("a").ok());
  ASSERT_TRUE(CallEcho("b").ok());
  ASSERT_FALSE(CallEcho("c", "invalid").ok());
  // The interceptor records at PRE_SEND_STATUS, before the client sees the status, so the
  // counters are complete once the calls above have returned.
  const std::string ok_line =
      "cowork_grpc_requests_total{code=\"OK\",method=\"Echo\","
      "service=\"cowork.server.testing.Echo\"} 2\n";
  const std::string invalid_line =
      "cowork_grpc_requests_total{code=\"INVALID_ARGUMENT\",method=\"Echo\","
      "service=\"cowork.server.testing.Echo\"} 1\n";
  const std::string text = metrics_.Render();
  EXPECT_THAT(text, HasSubstr("# TYPE cowork_grpc_requests_total counter\n"));
  EXPECT_THAT(text, HasSubstr(ok_line));
  EXPECT_THAT(text, HasSubstr(invalid_line));
  EXPECT_THAT(text, HasSubstr("cowork_grpc_request_duration_seconds_count{method=\"Echo\","
                              "service=\"cowork.server.testing.Echo\"} 3\n"));

  absl::StatusOr<std::unique_ptr<MetricsHttpServer>> http =
      MetricsHttpServer::Start("127.0.0.1:0", metrics_);
  ASSERT_TRUE(http.ok()) << http.status();
  httplib::Client client("127.0.0.1", (*http)->port());
  auto res = client.Get("/metrics");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);
  EXPECT_THAT(res->body, HasSubstr(ok_line));
  EXPECT_THAT(res->body, HasSubstr(invalid_line));
}

TEST_F(ServerTest, ShutdownDrainsACallInFlight) {
  grpc::ClientContext ctx;
  SetDeadline(ctx);
  pb::EchoRequest req;
  req.set_text("drained");
  pb::EchoResponse resp;
  absl::Notification call_done;
  grpc::Status call_status;
  stub_->async()->Block(&ctx, &req, &resp, [&](grpc::Status s) {
    call_status = std::move(s);
    call_done.Notify();
  });
  ASSERT_TRUE(service_.block_entered.WaitForNotificationWithTimeout(kWait));

  std::atomic<bool> shutdown_returned{false};
  std::thread shutdown([&] {
    server_->Shutdown();
    shutdown_returned = true;
  });
  // Wait (bounded) until the server refuses new calls: the drain has begun.
  bool refusing = false;
  for (int i = 0; i < 300 && !refusing; ++i) {
    grpc::ClientContext probe;
    probe.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(100));
    pb::EchoResponse ignored;
    refusing = !stub_->Echo(&probe, req, &ignored).ok();
  }
  EXPECT_TRUE(refusing);
  // The handler is still blocked, so the drain cannot have finished.
  EXPECT_FALSE(shutdown_returned.load());
  EXPECT_FALSE(call_done.HasBeenNotified());

  service_.block_release.Notify();
  ASSERT_TRUE(call_done.WaitForNotificationWithTimeout(kWait));
  shutdown.join();
  EXPECT_TRUE(shutdown_returned.load());
  EXPECT_TRUE(call_status.ok()) << call_status.error_message();
  EXPECT_EQ(resp.text(), "drained");
}

TEST(ServerStart, FailsOnABusyPort) {
  Metrics metrics;
  EchoService service;
  absl::StatusOr<std::unique_ptr<Server>> first =
      Server::Start({.service = "a", .listen = "127.0.0.1:0", .workers = 1}, {&service}, metrics);
  ASSERT_TRUE(first.ok()) << first.status();
  EchoService other;
  absl::StatusOr<std::unique_ptr<Server>> second = Server::Start(
      {.service = "b", .listen = "127.0.0.1:" + std::to_string((*first)->port()), .workers = 1},
      {&other}, metrics);
  EXPECT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace cowork::server
