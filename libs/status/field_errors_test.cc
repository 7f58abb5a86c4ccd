#include "libs/status/field_errors.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cowork {
namespace {

using ::testing::ElementsAre;

TEST(FieldErrors, EmptyIsOk) {
  FieldErrors errors;
  EXPECT_TRUE(errors.empty());
  EXPECT_TRUE(errors.ToStatus().ok());
}

TEST(FieldErrors, NamesEveryBadFieldAtOnce) {
  FieldErrors errors;
  errors.Add("first_name", "must have at least 2 characters");
  errors.Add("email", "must be a valid email address");
  absl::Status status = errors.ToStatus();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()),
              ::testing::HasSubstr("first_name: must have at least 2 characters"));
  EXPECT_THAT(FieldViolationsOf(status),
              ElementsAre(FieldViolation{"first_name", "must have at least 2 characters"},
                          FieldViolation{"email", "must be a valid email address"}));
}

TEST(FieldErrors, MergePrefixesFields) {
  FieldErrors inner;
  inner.Add("email", "bad");
  FieldErrors outer;
  outer.Merge(inner.ToStatus(), "rows[2]");
  outer.Merge(absl::OkStatus(), "ignored");
  EXPECT_THAT(outer.violations(), ElementsAre(FieldViolation{"rows[2].email", "bad"}));
}

TEST(FieldErrors, PlainStatusHasNoViolations) {
  EXPECT_TRUE(FieldViolationsOf(absl::NotFoundError("x")).empty());
}

}  // namespace
}  // namespace cowork
