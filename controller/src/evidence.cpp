#include "podmortem/controller/evidence.h"

#include <openssl/rand.h>

#include <cstdio>
#include <ctime>
#include <stdexcept>

namespace podmortem::controller {

std::string_view toString(SnapshotPhase phase) {
  switch (phase) {
    case SnapshotPhase::kComplete:
      return "Complete";
    case SnapshotPhase::kPartial:
      return "Partial";
    case SnapshotPhase::kFailed:
      return "Failed";
  }
  return "Failed";
}

std::string newSnapshotId() {
  static constexpr char kDigits[] = "0123456789abcdef";
  unsigned char random[16];
  if (RAND_bytes(random, sizeof random) != 1) {
    // Only when the system has no entropy source at all; a predictable id is not acceptable.
    throw std::runtime_error("cannot generate a snapshot id: OpenSSL RAND_bytes failed");
  }
  std::string id(2 * sizeof random, '0');
  for (std::size_t i = 0; i < sizeof random; ++i) {
    id[2 * i] = kDigits[random[i] >> 4];
    id[2 * i + 1] = kDigits[random[i] & 0xf];
  }
  return id;
}

std::string formatTimestamp(std::chrono::system_clock::time_point time) {
  auto millis = std::chrono::floor<std::chrono::milliseconds>(time.time_since_epoch());
  auto seconds = std::chrono::floor<std::chrono::seconds>(millis);
  std::time_t whole = static_cast<std::time_t>(seconds.count());
  std::tm utc{};
  gmtime_r(&whole, &utc);
  char buffer[48];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<int>((millis - seconds).count()));
  return buffer;
}

}  // namespace podmortem::controller
