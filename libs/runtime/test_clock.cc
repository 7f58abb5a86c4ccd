#include "libs/runtime/test_clock.h"

#include "absl/strings/str_cat.h"
#include "libs/clock/proto_time.h"
#include "libs/status/field_errors.h"
#include "libs/status/macros.h"
#include "libs/validation/validation.h"

namespace cowork::runtime {
namespace {

absl::Status RequireStaff(const auth::Principal& p) {
  if (p.is_platform() || p.is_admin()) return absl::OkStatus();
  return absl::PermissionDeniedError("only platform and admin tokens may use the test clock");
}

}  // namespace

common::v1::ClockTime TestClockServiceImpl::Now() const {
  common::v1::ClockTime out;
  *out.mutable_time() = ToTimestamp(clock_.Now());
  out.set_simulated(simulated_ != nullptr);
  return out;
}

absl::StatusOr<common::v1::ClockTime> TestClockServiceImpl::Move(const auth::Principal& p,
                                                                 absl::Time to) {
  if (absl::Status s = RequireStaff(p); !s.ok()) return s;
  if (simulated_ == nullptr) {
    return absl::FailedPreconditionError(
        "this service runs on the real clock; start it with --dev --simulated-clock to move "
        "its clock");
  }
  if (!simulated_->AdvanceTo(to)) {
    return InvalidField("time", absl::StrCat("must not be before the clock's current time ",
                                             absl::FormatTime(simulated_->Now())));
  }
  return Now();
}

grpc::ServerUnaryReactor* TestClockServiceImpl::GetTime(grpc::CallbackServerContext* ctx,
                                                        const common::v1::GetTimeRequest* request,
                                                        common::v1::ClockTime* response) {
  return Authed(authn_, ctx, request, response,
                [this](const auth::Principal& p,
                       const common::v1::GetTimeRequest&) -> absl::StatusOr<common::v1::ClockTime> {
                  if (absl::Status s = RequireStaff(p); !s.ok()) return s;
                  return Now();
                });
}

grpc::ServerUnaryReactor* TestClockServiceImpl::SetTime(grpc::CallbackServerContext* ctx,
                                                        const common::v1::SetTimeRequest* request,
                                                        common::v1::ClockTime* response) {
  return Authed(authn_, ctx, request, response,
                [this](const auth::Principal& p, const common::v1::SetTimeRequest& r)
                    -> absl::StatusOr<common::v1::ClockTime> {
                  if (!r.has_time()) return InvalidField("time", "is required");
                  FieldErrors errors;
                  validation::CheckTimestamp(r.time(), "time", errors);
                  COWORK_RETURN_IF_ERROR(errors.ToStatus());
                  return Move(p, FromTimestamp(r.time()));
                });
}

grpc::ServerUnaryReactor* TestClockServiceImpl::Advance(grpc::CallbackServerContext* ctx,
                                                        const common::v1::AdvanceRequest* request,
                                                        common::v1::ClockTime* response) {
  return Authed(authn_, ctx, request, response,
                [this](const auth::Principal& p, const common::v1::AdvanceRequest& r)
                    -> absl::StatusOr<common::v1::ClockTime> {
                  const absl::Duration by = FromDurationProto(r.by());
                  if (by <= absl::ZeroDuration()) return InvalidField("by", "must be positive");
                  return Move(p, clock_.Now() + by);
                });
}

}  // namespace cowork::runtime
