#include "podmortem/evidence/bundle.h"

#include <openssl/rand.h>

#include <cstdio>
#include <ctime>
#include <stdexcept>

namespace podmortem::evidence {

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

}  // namespace podmortem::evidence
