#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "podmortem/policy/audit_event.h"

namespace podmortem::policy {

// What one admission request says, whoever read it: the server's AdmissionReview decoder, or
// `podmortem replay` from the audit event the same request left in the log.
struct AdmissionRequest {
  std::string uid;
  std::string operation;  // CREATE | UPDATE | DELETE | CONNECT
  std::string group;      // the resource's API group; "" for the core group
  std::string resource;
  std::string subResource;
  std::string kind;  // request.kind.kind: Pod, Eviction, PodExecOptions, ...
  std::string name;
  std::string namespaceName;
  std::string userName;
  std::vector<std::string> groups;
  bool dryRun = false;
  // Raw bytes of request.object and request.oldObject; empty when null or absent. Views into
  // the request body, which outlives the decision.
  std::string_view objectJson;
  std::string_view oldObjectJson;

  bool isPod() const { return group.empty() && resource == "pods"; }
  // A pod DELETE, an eviction, or an exec, attach or port-forward: what can start a capture.
  bool canCapture() const;
};

// The admission request an audited request made, when it made one the webhook receives (pod
// CREATE, UPDATE, DELETE; eviction; exec, attach and port-forward, whether SPDY `create` or
// WebSocket `get`). Only the last stage of a request carries its options, so a dry run is told
// apart by the caller (see `podmortem replay`).
std::optional<AdmissionRequest> admissionRequestOf(const AuditEvent& event);

}  // namespace podmortem::policy
