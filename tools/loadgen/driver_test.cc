// The driver against an in-process fake of CustomersService on a real loopback gRPC server.
// No timing assertions: only what the driver sent, counted and collected.
#include "tools/loadgen/driver.h"

#include <memory>
#include <set>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "cowork/common/v1/test_clock.grpc.pb.h"
#include "cowork/customers/v1/customers.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"

namespace cowork::loadgen {
namespace {

namespace v1 = ::cowork::customers::v1;

class FakeCustomers final : public v1::CustomersService::CallbackService {
 public:
  grpc::ServerUnaryReactor* AddCustomer(grpc::CallbackServerContext* context,
                                        const v1::AddCustomerRequest* request,
                                        v1::Customer* response) override {
    auto* reactor = context->DefaultReactor();
    int n;
    {
      absl::MutexLock lock(&mu_);
      n = ++adds_;
      Record(*context, request->request_id());
      emails_.insert(request->email());
      locations_.insert(request->home_location_id());
      if (request->type() != v1::INDIVIDUAL || request->first_name().size() < 2) ++malformed_;
    }
    response->set_customer_id(absl::StrCat("c-", n));
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

  grpc::ServerUnaryReactor* UpdateCustomer(grpc::CallbackServerContext* context,
                                           const v1::UpdateCustomerRequest* request,
                                           v1::Customer* response) override {
    auto* reactor = context->DefaultReactor();
    const std::string& id = request->customer().customer_id();
    {
      absl::MutexLock lock(&mu_);
      ++updates_;
      Record(*context, request->request_id());
      updated_ids_.insert(id);
      if (request->update_mask().paths_size() != 1 ||
          request->update_mask().paths(0) != "last_name" ||
          request->customer().last_name().empty()) {
        ++malformed_;
      }
    }
    if (absl::StartsWith(id, "bad")) {
      reactor->Finish(grpc::Status(grpc::StatusCode::ABORTED, "lost a race"));
    } else {
      response->set_customer_id(id);
      reactor->Finish(grpc::Status::OK);
    }
    return reactor;
  }

  absl::Mutex mu_;
  int adds_ ABSL_GUARDED_BY(mu_) = 0;
  int updates_ ABSL_GUARDED_BY(mu_) = 0;
  int malformed_ ABSL_GUARDED_BY(mu_) = 0;
  int bad_auth_ ABSL_GUARDED_BY(mu_) = 0;
  std::set<std::string> request_ids_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> emails_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> locations_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> updated_ids_ ABSL_GUARDED_BY(mu_);

 private:
  void Record(grpc::CallbackServerContext& context, const std::string& request_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    auto auth = context.client_metadata().find("authorization");
    if (auth == context.client_metadata().end() ||
        std::string(auth->second.data(), auth->second.size()) != "Bearer tok-1") {
      ++bad_auth_;
    }
    request_ids_.insert(request_id);
  }
};

class FakeClock final : public common::v1::TestClockService::CallbackService {
 public:
  grpc::ServerUnaryReactor* GetTime(grpc::CallbackServerContext* context,
                                    const common::v1::GetTimeRequest*,
                                    common::v1::ClockTime* response) override {
    auto* reactor = context->DefaultReactor();
    {
      absl::MutexLock lock(&mu_);
      ++calls_;
      auto auth = context->client_metadata().find("authorization");
      if (auth == context->client_metadata().end() ||
          std::string(auth->second.data(), auth->second.size()) != "Bearer tok-1") {
        ++bad_auth_;
      }
    }
    response->mutable_time()->set_seconds(1);
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

  absl::Mutex mu_;
  int calls_ ABSL_GUARDED_BY(mu_) = 0;
  int bad_auth_ ABSL_GUARDED_BY(mu_) = 0;
};

class DriverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&fake_);
    builder.RegisterService(&clock_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_GT(port_, 0);
  }
  void TearDown() override { server_->Shutdown(); }

  DriverOptions Options() {
    DriverOptions o;
    o.target = absl::StrCat("127.0.0.1:", port_);
    o.token = "tok-1";
    o.location_id = "l-1";
    o.clients = 4;
    o.channels = 2;
    o.warmup = absl::ZeroDuration();
    o.duration = absl::Milliseconds(300);
    return o;
  }

  FakeCustomers fake_;
  FakeClock clock_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

TEST_F(DriverTest, StopAfterOkCollectsTheIdsOfDistinctValidAdds) {
  DriverOptions o = Options();
  o.stop_after_ok = 40;
  o.collect_ids = true;
  o.duration = absl::Seconds(60);  // a cap only
  absl::StatusOr<DriverResult> r = RunLoad(o, nullptr);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->added_ids.size(), 40u);
  EXPECT_EQ(std::set<std::string>(r->added_ids.begin(), r->added_ids.end()).size(), 40u);
  EXPECT_GE(r->ok, 40u);
  EXPECT_EQ(r->failed, 0u);
  EXPECT_EQ(r->latency.size(), r->ok);
  absl::MutexLock lock(&fake_.mu_);
  EXPECT_EQ(static_cast<uint64_t>(fake_.adds_), r->sent);
  EXPECT_EQ(fake_.bad_auth_, 0);
  EXPECT_EQ(fake_.malformed_, 0);
  EXPECT_EQ(fake_.request_ids_.size(), r->sent);  // a fresh request id per call
  EXPECT_EQ(fake_.emails_.size(), r->sent);       // emails are unique per operator
  EXPECT_THAT(fake_.locations_, ::testing::ElementsAre("l-1"));
}

TEST_F(DriverTest, UpdatesPickFromThePool) {
  DriverOptions o = Options();
  o.mode = Mode::kUpdate;
  o.update_ids = {"c-a", "c-b", "c-c"};
  absl::StatusOr<DriverResult> r = RunLoad(o, nullptr);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_GT(r->ok, 0u);
  EXPECT_EQ(r->failed, 0u);
  absl::MutexLock lock(&fake_.mu_);
  EXPECT_EQ(fake_.adds_, 0);
  EXPECT_EQ(fake_.malformed_, 0);
  EXPECT_GE(static_cast<uint64_t>(fake_.updates_), r->ok);
  for (const std::string& id : fake_.updated_ids_) {
    EXPECT_THAT(o.update_ids, ::testing::Contains(id));
  }
}

TEST_F(DriverTest, ErrorsAreCountedByCode) {
  DriverOptions o = Options();
  o.mode = Mode::kUpdate;
  o.update_ids = {"bad-1", "bad-2"};
  absl::StatusOr<DriverResult> r = RunLoad(o, nullptr);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->ok, 0u);
  EXPECT_GT(r->failed, 0u);
  EXPECT_EQ(r->errors_by_code[static_cast<int>(grpc::StatusCode::ABORTED)], r->failed);
  EXPECT_EQ(r->first_error, "lost a race");
  EXPECT_EQ(r->latency.size(), 0u);
}

TEST_F(DriverTest, MixedSendsBothKinds) {
  DriverOptions o = Options();
  o.mode = Mode::kMixed;
  o.update_ids = {"c-a"};
  o.stop_after_ok = 200;
  o.duration = absl::Seconds(60);
  absl::StatusOr<DriverResult> r = RunLoad(o, nullptr);
  ASSERT_TRUE(r.ok()) << r.status();
  absl::MutexLock lock(&fake_.mu_);
  // 200 fair coin flips all landing on one side: probability 2^-199.
  EXPECT_GT(fake_.adds_, 0);
  EXPECT_GT(fake_.updates_, 0);
}

TEST_F(DriverTest, OpenLoopSendsNoMoreThanTheSchedule) {
  DriverOptions o = Options();
  o.rate = 500;
  o.warmup = absl::Milliseconds(100);
  o.duration = absl::Milliseconds(300);
  absl::Time from;
  absl::Time to;
  absl::StatusOr<DriverResult> r = RunLoad(o, [&](absl::Time f, absl::Time t) {
    from = f;
    to = t;
  });
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(to - from, absl::Milliseconds(300));
  // Calls are due at k / rate for k = 0, 1, ... while before the end (0.4 s): at most 200.
  EXPECT_LE(r->sent, 200u);
  EXPECT_GT(r->ok, 0u);
  EXPECT_LE(r->ok, r->sent);
}

TEST_F(DriverTest, ClockAsksTheTimeWithoutAPool) {
  DriverOptions o = Options();
  o.mode = Mode::kClock;
  absl::StatusOr<DriverResult> r = RunLoad(o, nullptr);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_GT(r->ok, 0u);
  EXPECT_EQ(r->failed, 0u);
  absl::MutexLock lock(&clock_.mu_);
  EXPECT_EQ(static_cast<uint64_t>(clock_.calls_), r->sent);
  EXPECT_EQ(clock_.bad_auth_, 0);
  absl::MutexLock customers_lock(&fake_.mu_);
  EXPECT_EQ(fake_.adds_ + fake_.updates_, 0);
}

TEST_F(DriverTest, RejectsBadOptions) {
  DriverOptions o = Options();
  o.mode = Mode::kUpdate;  // no pool
  EXPECT_EQ(RunLoad(o, nullptr).status().code(), absl::StatusCode::kInvalidArgument);
  o = Options();
  o.token.clear();
  EXPECT_EQ(RunLoad(o, nullptr).status().code(), absl::StatusCode::kInvalidArgument);
  o = Options();
  o.stop_after_ok = 5;
  o.rate = 10;
  EXPECT_EQ(RunLoad(o, nullptr).status().code(), absl::StatusCode::kInvalidArgument);
  o = Options();
  o.mode = Mode::kContract;  // no plan
  o.update_ids = {"c-a"};
  EXPECT_EQ(RunLoad(o, nullptr).status().code(), absl::StatusCode::kInvalidArgument);
  o.mode = Mode::kPurchase;  // no product
  EXPECT_EQ(RunLoad(o, nullptr).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(ParseMode("delete").ok());
  EXPECT_EQ(*ParseMode("mixed"), Mode::kMixed);
  for (Mode mode : {Mode::kAdd, Mode::kUpdate, Mode::kMixed, Mode::kGet, Mode::kClock,
                    Mode::kContract, Mode::kPurchase}) {
    absl::StatusOr<Mode> parsed = ParseMode(ModeName(mode));
    ASSERT_TRUE(parsed.ok()) << ModeName(mode);
    EXPECT_EQ(*parsed, mode);
  }
}

}  // namespace
}  // namespace cowork::loadgen
