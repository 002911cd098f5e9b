#pragma once

#include <cstdint>
#include <string>

namespace podmortem::controller {

// What one RFC 5424 message of a finding carries.
struct SyslogFields {
  uint32_t facility = 16;  // local0
  int severityId = 3;      // the finding's OCSF severity_id, mapped to a syslog severity
  int64_t timeMillis = 0;
  std::string hostName;
  std::string processId;
  std::string key;  // the idempotency key, in the structured data
  std::string pod;
  std::string message;  // the OCSF JSON
};

// The structured data's SD-ID: an SD-ID of our own needs an enterprise number, and 32473 is the
// one IANA reserves for documentation and examples (RFC 5612).
inline constexpr const char* kSyslogSdId = "podmortem@32473";

// <PRI>1 TIMESTAMP HOSTNAME podmortem PROCID finding [podmortem@32473 key=".." pod=".."] BOM MSG
std::string syslogMessage(const SyslogFields& fields);

// RFC 6587 octet counting: "LENGTH SP MESSAGE".
std::string octetCounted(const std::string& message);

// OCSF severity_id to syslog severity: Critical 2 (crit), High 3 (err), Medium 4 (warning),
// Low 5 (notice), Informational 6 (info); anything else 5.
int syslogSeverity(int ocsfSeverityId);

}  // namespace podmortem::controller
