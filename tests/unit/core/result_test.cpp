#include "podmortem/core/result.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <memory>

namespace podmortem::core {
namespace {

Result<int> half(int value) {
  if (value % 2 != 0) return makeError(ErrorCode::kInvalidArgument, "odd");
  return value / 2;
}

TEST(Result, CarriesTheValueOrTheError) {
  auto good = half(4);
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 2);
  auto bad = half(3);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(bad.error().message, "odd");
}

TEST(Result, HoldsMoveOnlyValues) {
  Result<std::unique_ptr<int>> made = std::make_unique<int>(7);
  ASSERT_TRUE(made.ok());
  std::unique_ptr<int> taken = std::move(made).value();
  EXPECT_EQ(*taken, 7);
}

TEST(Status, DefaultIsSuccess) {
  Status fine;
  EXPECT_TRUE(fine.ok());
  Status failed = makeError(ErrorCode::kNoSpace, "disk full");
  EXPECT_FALSE(failed.ok());
  EXPECT_EQ(toString(failed.error().code), "no space");
}

TEST(ErrorCode, FromErrnoSaysWhatTheFileSystemSaid) {
  EXPECT_EQ(errorCodeForErrno(ENOSPC), ErrorCode::kNoSpace);
  EXPECT_EQ(errorCodeForErrno(EDQUOT), ErrorCode::kNoSpace);
  EXPECT_EQ(errorCodeForErrno(EROFS), ErrorCode::kReadOnly);
  EXPECT_EQ(errorCodeForErrno(EACCES), ErrorCode::kPermissionDenied);
  EXPECT_EQ(errorCodeForErrno(EIO), ErrorCode::kIo);
}

}  // namespace
}  // namespace podmortem::core
