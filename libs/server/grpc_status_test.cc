#include "libs/server/grpc_status.h"

#include "absl/strings/cord.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/status/field_errors.h"
#include "libs/status/retry.h"

namespace cowork::server {
namespace {

using ::testing::ElementsAre;

TEST(ToGrpcStatus, OkIsOk) { EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok()); }

TEST(ToGrpcStatus, EveryCodeMapsToTheSameGrpcCode) {
  for (int code = 1; code <= 16; ++code) {
    const absl::Status status(static_cast<absl::StatusCode>(code), "boom");
    const grpc::Status g = ToGrpcStatus(status);
    EXPECT_EQ(static_cast<int>(g.error_code()), code) << absl::StatusCodeToString(status.code());
    EXPECT_EQ(g.error_message(), "boom");
    EXPECT_TRUE(g.error_details().empty());
    const absl::Status back = FromGrpcStatus(g);
    EXPECT_EQ(back.code(), status.code());
    EXPECT_EQ(back.message(), "boom");
  }
  // The codes are spelled the same way in both libraries.
  EXPECT_EQ(ToGrpcStatus(absl::NotFoundError("x")).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(ToGrpcStatus(absl::AbortedError("x")).error_code(), grpc::StatusCode::ABORTED);
  EXPECT_EQ(ToGrpcStatus(absl::UnauthenticatedError("x")).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST(ToGrpcStatus, OutOfRangeCodeBecomesUnknown) {
  const absl::Status odd(static_cast<absl::StatusCode>(42), "odd");
  EXPECT_EQ(ToGrpcStatus(odd).error_code(), grpc::StatusCode::UNKNOWN);
}

TEST(ToGrpcStatus, FieldViolationsBecomeRichErrorDetails) {
  FieldErrors errors;
  errors.Add("first_name", "must have at least 2 characters");
  errors.Add("email", "is not a valid address");
  const grpc::Status g = ToGrpcStatus(errors.ToStatus());
  EXPECT_EQ(g.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  google::rpc::Status rich;
  ASSERT_TRUE(rich.ParseFromString(g.error_details()));
  EXPECT_EQ(rich.code(), static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
  EXPECT_EQ(rich.message(), g.error_message());
  ASSERT_EQ(rich.details_size(), 1);
  EXPECT_EQ(rich.details(0).type_url(), "type.googleapis.com/google.rpc.BadRequest");
  google::rpc::BadRequest bad_request;
  ASSERT_TRUE(rich.details(0).UnpackTo(&bad_request));
  ASSERT_EQ(bad_request.field_violations_size(), 2);
  EXPECT_EQ(bad_request.field_violations(0).field(), "first_name");
  EXPECT_EQ(bad_request.field_violations(1).field(), "email");
}

TEST(FromGrpcStatus, RestoresFieldViolations) {
  FieldErrors errors;
  errors.Add("first_name", "must have at least 2 characters");
  errors.Add("rows[3].email", "is taken");
  const absl::Status back = FromGrpcStatus(ToGrpcStatus(errors.ToStatus()));
  EXPECT_EQ(back.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(FieldViolationsOf(back),
              ElementsAre(FieldViolation{"first_name", "must have at least 2 characters"},
                          FieldViolation{"rows[3].email", "is taken"}));
}

TEST(FromGrpcStatus, RestoresTheRetryDelayOfResourceExhausted) {
  const grpc::Status g = ToGrpcStatus(RetryLater("too many sign-ins at once", absl::Seconds(3)));
  EXPECT_EQ(g.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  google::rpc::Status rich;
  ASSERT_TRUE(rich.ParseFromString(g.error_details()));
  ASSERT_EQ(rich.details_size(), 1);
  EXPECT_EQ(rich.details(0).type_url(), "type.googleapis.com/google.rpc.RetryInfo");
  const absl::Status back = FromGrpcStatus(g);
  EXPECT_EQ(back.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(RetryDelayOf(back), absl::Seconds(3));
  EXPECT_EQ(RetryDelayOf(absl::ResourceExhaustedError("no delay")), std::nullopt);
}

TEST(FromGrpcStatus, IgnoresUnparsableDetails) {
  const grpc::Status g(grpc::StatusCode::INVALID_ARGUMENT, "bad", "\xff\xff not a proto");
  const absl::Status back = FromGrpcStatus(g);
  EXPECT_EQ(back.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(FieldViolationsOf(back).empty());
}

TEST(ToGrpcStatus, OtherPayloadsStayOnTheServer) {
  absl::Status internal = absl::InternalError("disk trouble");
  internal.SetPayload("type.googleapis.com/cowork.Internal", absl::Cord("secret detail"));
  const grpc::Status g = ToGrpcStatus(internal);
  EXPECT_EQ(g.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_EQ(g.error_message(), "disk trouble");
  EXPECT_TRUE(g.error_details().empty());
}

}  // namespace
}  // namespace cowork::server
