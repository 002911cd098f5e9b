#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "string_interner.h"

namespace podmortem::policy {

using Uuid = std::array<uint8_t, 16>;

inline constexpr uint32_t kNoString = StringInterner::kEmpty;
inline constexpr uint32_t kRawInMemory = UINT32_MAX;  // Entry::segment when not spooled

enum class IdKind : uint8_t { kUuid, kText, kMissing };

// One indexed event in the correlation window, 88 bytes: every string is an interned id, the
// auditID is 16 bytes when it is a UUID (which the API server always sends), and the raw bytes
// live in a spool segment.
struct Entry {
  int64_t timeMicros = 0;
  uint64_t seq = 0;  // arrival order, for ties in time
  Uuid uuid{};
  uint32_t auditIdText = kNoString;  // when the auditID is not a UUID
  uint32_t stage = kNoString;
  uint32_t verb = kNoString;
  uint32_t resource = kNoString;
  uint32_t subResource = kNoString;
  uint32_t namespaceName = kNoString;  // pod events only
  uint32_t podName = kNoString;        // pod events only
  uint32_t user = kNoString;
  uint32_t impersonatedUser = kNoString;
  uint32_t sourceIp = kNoString;
  uint32_t segment = kRawInMemory;
  uint32_t offset = 0;
  uint32_t length = 0;
  IdKind idKind = IdKind::kMissing;

  bool isPodEvent() const { return podName != kNoString; }
};
// A million of these stay resident; growing the entry eats into the 512-byte budget per event.
static_assert(sizeof(Entry) == 88);

// What makes two deliveries the same event: auditID and stage.
struct DedupKey {
  IdKind kind = IdKind::kMissing;
  Uuid uuid{};
  uint32_t text = kNoString;
  uint32_t stage = kNoString;

  bool operator==(const DedupKey&) const = default;
};

inline DedupKey keyOf(const Entry& entry) {
  return {entry.idKind, entry.idKind == IdKind::kUuid ? entry.uuid : Uuid{}, entry.auditIdText,
          entry.stage};
}

// Only the canonical lower-case form, so that the 16 bytes stand for exactly one auditID
// string. `out` is left alone unless the whole text parses.
bool parseUuid(std::string_view text, Uuid& out);

}  // namespace podmortem::policy
