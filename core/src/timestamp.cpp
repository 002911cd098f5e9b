#include "podmortem/core/timestamp.h"

#include <cstdint>

#include <cstdio>
#include <string_view>
#include <ctime>

namespace podmortem::core {

namespace {

// The date and time of day, then `fraction` digits of the second.
std::string format(std::chrono::system_clock::time_point time, int fraction) {
  auto micros = std::chrono::floor<std::chrono::microseconds>(time.time_since_epoch());
  auto seconds = std::chrono::floor<std::chrono::seconds>(micros);
  std::time_t whole = static_cast<std::time_t>(seconds.count());
  std::tm utc{};
  gmtime_r(&whole, &utc);
  int part = static_cast<int>((micros - seconds).count());  // 0 to 999999
  if (fraction == 3) part /= 1000;
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%0*dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, fraction, part);
  return buffer;
}

bool readDigits(std::string_view text, size_t& pos, size_t count, int& value) {
  if (text.size() - pos < count)
    return false;
  value = 0;
  for (size_t end = pos + count; pos < end; ++pos) {
    char c = text[pos];
    if (c < '0' || c > '9')
      return false;
    value = value * 10 + (c - '0');
  }
  return true;
}

bool readChar(std::string_view text, size_t& pos, char expected, char alternative = '\0') {
  if (pos >= text.size())
    return false;
  char c = text[pos];
  if (c != expected && (alternative == '\0' || c != alternative))
    return false;
  ++pos;
  return true;
}

}  // namespace

std::string formatTimestamp(std::chrono::system_clock::time_point time) { return format(time, 3); }

std::string formatMicroTime(std::chrono::system_clock::time_point time) { return format(time, 6); }

std::optional<int64_t> parseTimestampMicros(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM): Go's RFC 3339 with nanoseconds, which
  // covers metav1.Time, MicroTime and the audit timestamps.
  size_t pos = 0;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!readDigits(text, pos, 4, year) || !readChar(text, pos, '-') ||
      !readDigits(text, pos, 2, month) || !readChar(text, pos, '-') ||
      !readDigits(text, pos, 2, day) || !readChar(text, pos, 'T', 't') ||
      !readDigits(text, pos, 2, hour) || !readChar(text, pos, ':') ||
      !readDigits(text, pos, 2, minute) || !readChar(text, pos, ':') ||
      !readDigits(text, pos, 2, second)) {
    return std::nullopt;
  }
  int64_t micros = 0;
  if (readChar(text, pos, '.')) {
    size_t start = pos;
    int64_t scale = 100'000;
    for (; pos < text.size() && text[pos] >= '0' && text[pos] <= '9'; ++pos) {
      micros += (text[pos] - '0') * scale;
      scale /= 10;
    }
    if (pos == start || pos - start > 9)
      return std::nullopt;
  }
  int offsetSeconds = 0;
  if (!readChar(text, pos, 'Z', 'z')) {
    if (pos >= text.size() || (text[pos] != '+' && text[pos] != '-'))
      return std::nullopt;
    int sign = text[pos++] == '-' ? -1 : 1;
    int offsetHours = 0, offsetMinutes = 0;
    if (!readDigits(text, pos, 2, offsetHours) || !readChar(text, pos, ':') ||
        !readDigits(text, pos, 2, offsetMinutes) || offsetHours > 23 || offsetMinutes > 59) {
      return std::nullopt;
    }
    offsetSeconds = sign * (offsetHours * 3600 + offsetMinutes * 60);
  }
  if (pos != text.size() || hour > 23 || minute > 59 || second > 59)
    return std::nullopt;
  std::chrono::year_month_day date{std::chrono::year{year},
                                   std::chrono::month{static_cast<unsigned>(month)},
                                   std::chrono::day{static_cast<unsigned>(day)}};
  if (!date.ok())
    return std::nullopt;
  int64_t days = std::chrono::sys_days{date}.time_since_epoch().count();
  int64_t seconds = days * 86'400 + hour * 3600 + minute * 60 + second - offsetSeconds;
  // Only times a system_clock::time_point (nanoseconds in 64 bits) can hold, 1677 to 2262: every
  // caller turns the result into one, and a later year would overflow there (the fuzzer found it).
  constexpr int64_t kLimitSeconds = INT64_MAX / 1'000'000'000 - 1;
  if (seconds > kLimitSeconds || seconds < -kLimitSeconds) return std::nullopt;
  return seconds * 1'000'000 + micros;
}

}  // namespace podmortem::core
