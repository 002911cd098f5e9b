#pragma once

#include <chrono>
#include <string>

namespace podmortem::core {

// RFC 3339 UTC with milliseconds ("2024-05-01T12:00:00.123Z"): the form every time in a
// manifest, the custody ledger, a status and a log line takes.
std::string formatTimestamp(std::chrono::system_clock::time_point time);

// RFC 3339 UTC with microseconds (metav1.MicroTime, as Lease renewals need it).
std::string formatMicroTime(std::chrono::system_clock::time_point time);

}  // namespace podmortem::core
