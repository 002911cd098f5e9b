#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace podmortem::core {

// Who did what that made a policy fire: recorded in the manifest, the EvidenceSnapshot and the
// findings, whatever source the trigger came from.
struct TriggerInfo {
  std::string source;     // "admission" or "audit"
  std::string name;       // the policy trigger that matched
  std::string operation;  // DELETE, CREATE, CONNECT, or the audit verb
  std::string resource;   // "pods", "pods/eviction", ...
  std::string user;
  std::vector<std::string> groups;
  std::string requestUid;  // admission request uid, or the audit event's auditID
  std::chrono::system_clock::time_point time;
};

}  // namespace podmortem::core
