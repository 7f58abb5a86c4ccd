#ifndef COWORK_LIBS_RUNTIME_TEST_CLOCK_H_
#define COWORK_LIBS_RUNTIME_TEST_CLOCK_H_

// cowork.common.v1.TestClockService: how tests move a service's simulated clock (a service
// started with --dev --simulated-clock). Every service serves it; on the real clock every
// call but GetTime is FAILED_PRECONDITION. Platform and admin tokens only. The clock only
// moves forward: schedulers rely on time never going back.
//
// Thread-safe as SimulatedClock is.

#include "cowork/common/v1/test_clock.grpc.pb.h"
#include "libs/clock/clock.h"
#include "libs/runtime/handlers.h"

namespace cowork::runtime {

class TestClockServiceImpl final : public common::v1::TestClockService::CallbackService {
 public:
  // `simulated` is null when the service runs on the real clock.
  TestClockServiceImpl(const Authenticator& authn, const Clock& clock, SimulatedClock* simulated)
      : authn_(authn), clock_(clock), simulated_(simulated) {}

  grpc::ServerUnaryReactor* GetTime(grpc::CallbackServerContext* ctx,
                                    const common::v1::GetTimeRequest* request,
                                    common::v1::ClockTime* response) override;
  grpc::ServerUnaryReactor* SetTime(grpc::CallbackServerContext* ctx,
                                    const common::v1::SetTimeRequest* request,
                                    common::v1::ClockTime* response) override;
  grpc::ServerUnaryReactor* Advance(grpc::CallbackServerContext* ctx,
                                    const common::v1::AdvanceRequest* request,
                                    common::v1::ClockTime* response) override;

 private:
  absl::StatusOr<common::v1::ClockTime> Move(const auth::Principal& p, absl::Time to);
  common::v1::ClockTime Now() const;

  const Authenticator& authn_;
  const Clock& clock_;
  SimulatedClock* const simulated_;
};

}  // namespace cowork::runtime

#endif  // COWORK_LIBS_RUNTIME_TEST_CLOCK_H_
