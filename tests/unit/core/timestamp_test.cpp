#include "podmortem/core/timestamp.h"

#include <gtest/gtest.h>

namespace podmortem::core {
namespace {

TEST(Timestamp, IsRfc3339UtcWithMilliseconds) {
  auto time = std::chrono::system_clock::time_point(std::chrono::milliseconds(1714564800123));
  EXPECT_EQ(formatTimestamp(time), "2024-05-01T12:00:00.123Z");
  EXPECT_EQ(formatTimestamp({}), "1970-01-01T00:00:00.000Z");
}

TEST(Timestamp, MicroTimeKeepsMicroseconds) {
  auto time = std::chrono::system_clock::time_point(std::chrono::microseconds(1714564800123456));
  EXPECT_EQ(formatMicroTime(time), "2024-05-01T12:00:00.123456Z");
}

}  // namespace
}  // namespace podmortem::core
