#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace podmortem::policy {

// The parts of one audit.k8s.io Event (v1 or v1beta1) that indexing, policies and evidence
// need. Decoded once on ingest; `raw` keeps the event's bytes exactly as received, for the
// evidence trail.
struct AuditEvent {
  std::string auditId;
  std::string stage;  // RequestReceived | ResponseStarted | ResponseComplete | Panic
  std::string verb;   // get, create, delete, ...
  std::string userName;
  std::vector<std::string> groups;
  std::string impersonatedUserName;  // empty when not impersonated
  std::string sourceIp;              // the first of sourceIPs
  std::string apiGroup;              // objectRef.apiGroup ("" = core)
  std::string resource;              // objectRef.resource, e.g. "pods"
  std::string subResource;           // objectRef.subresource, e.g. "exec"
  std::string namespaceName;         // objectRef.namespace
  std::string name;                  // objectRef.name, else the request object's metadata.name
  int responseCode = 0;              // responseStatus.code; 0 when not yet known
  bool dryRun = false;               // the request's options asked for a dry run
  int64_t timeMicros = 0;            // stageTimestamp (v1) or timestamp (v1beta1), µs since epoch
  std::string raw;

  // A pod event: resource "pods" in the core group, with a namespace and a pod name.
  bool isPodEvent() const {
    return apiGroup.empty() && resource == "pods" && !namespaceName.empty() && !name.empty();
  }
};

}  // namespace podmortem::policy
