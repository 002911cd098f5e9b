#include "podmortem/core/timestamp.h"

#include <cstdio>
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

}  // namespace

std::string formatTimestamp(std::chrono::system_clock::time_point time) { return format(time, 3); }

std::string formatMicroTime(std::chrono::system_clock::time_point time) { return format(time, 6); }

}  // namespace podmortem::core
