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

namespace podmortem::core {
namespace {

TEST(Timestamp, ParsesGoTimesAndRefusesWhatATimePointCannotHold) {
  EXPECT_EQ(parseTimestampMicros("1970-01-01T00:00:01.5Z"), 1'500'000);
  EXPECT_EQ(parseTimestampMicros("2024-05-01T12:00:00.123456789Z"), 1'714'564'800'123'456);
  EXPECT_EQ(parseTimestampMicros("2024-05-01T14:00:00+02:00"), 1'714'564'800'000'000);
  EXPECT_EQ(parseTimestampMicros("2261-12-31T23:59:59Z"), 9'214'646'399'000'000);
  // Go writes years up to 9999; a system_clock::time_point ends in 2262.
  EXPECT_FALSE(parseTimestampMicros("4052-01-01T00:00:00Z").has_value());
  EXPECT_FALSE(parseTimestampMicros("not a time").has_value());
}

}  // namespace
}  // namespace podmortem::core
