#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace podmortem::core {

// RFC 3339 UTC with milliseconds ("2024-05-01T12:00:00.123Z"): the form every time in a
// manifest, the custody ledger, a status and a log line takes.
std::string formatTimestamp(std::chrono::system_clock::time_point time);

// Microseconds since the epoch of an RFC 3339 time as Go writes it (fraction of up to nine digits,
// Z or an offset): metav1.Time, MicroTime and the audit timestamps. Empty when it is not one, or
// outside 1678..2261 (what a system_clock::time_point holds).
std::optional<int64_t> parseTimestampMicros(std::string_view text);

// RFC 3339 UTC with microseconds (metav1.MicroTime, as Lease renewals need it).
std::string formatMicroTime(std::chrono::system_clock::time_point time);

}  // namespace podmortem::core
