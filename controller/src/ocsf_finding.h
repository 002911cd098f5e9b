#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "podmortem/core/pod_identity.h"
#include "podmortem/core/trigger_info.h"
#include "podmortem/policy/policy.h"

namespace podmortem::controller {

// The OCSF version whose Detection Finding (class 2004) the findings follow.
inline constexpr std::string_view kOcsfVersion = "1.8.0";

// One request of the pod's audit trail, as a finding shows it: who, what, from where.
struct TrailRequest {
  std::string auditId;
  std::string verb;
  std::string resource;  // "pods", "pods/exec", ...
  std::string user;
  std::vector<std::string> groups;
  std::string sourceIp;
  int responseCode = 0;  // 0: not known (the event is of an earlier stage)
  int64_t timeMillis = 0;
};

// The audit events of a trail (JSON lines, as the bundle's audit-trail.jsonl holds them), one
// request per auditID with the last stage seen, in time order. Lines that are not audit events
// are skipped: the bundle's own verification says whether the trail is intact.
std::vector<TrailRequest> trailRequests(std::string_view jsonLines);

// A container of the pod and the image it ran, from the Pod object (status gives the digest).
struct ContainerImage {
  std::string name;
  std::string containerId;  // status.containerStatuses[].containerID; empty when not started
  std::string image;        // spec's image reference
  std::string imageId;      // status' imageID (the digest); empty when not started
};
std::vector<ContainerImage> containerImages(std::string_view podJson);

// Everything a finding says. `kind` decides the activity: a snapshot creates a finding, an
// addendum (late audit events) updates it; a firing with no snapshot creates one of its own.
struct FindingFacts {
  enum class Kind { kSnapshot, kAddendum, kFiring };
  Kind kind = Kind::kSnapshot;
  std::string findingUid;  // finding_info.uid: the snapshot id, or the firing's own id
  std::string eventUid;    // metadata.uid: unique per finding event, the idempotency key
  std::string policy;
  policy::Severity severity = policy::Severity::kMedium;
  core::PodIdentity pod;
  core::TriggerInfo trigger;
  std::string sourceIp;    // the trigger's, when the trail showed it
  std::string outcome;     // Complete, Partial, Failed; for a firing what was done (match only, ...)
  std::string reason;      // why Partial or Failed
  std::string bundleLocation;  // file:// or s3:// URL; empty when nothing was kept
  std::string manifestSha256;
  uint64_t addendum = 0;  // the addendum's sequence number
  size_t artifacts = 0;
  nlohmann::json actions = nlohmann::json::array();  // the manifest's "actions" results
  std::vector<TrailRequest> trail;
  std::vector<ContainerImage> containers;
  std::string replica;
  int64_t timeMillis = 0;  // when podmortem made the finding
};

// The most trail requests a finding lists as evidences; the rest are counted, and are in the
// bundle.
inline constexpr size_t kMaxTrailEvidences = 100;

// An OCSF Detection Finding (class_uid 2004) of the facts.
nlohmann::json detectionFinding(const FindingFacts& facts);

}  // namespace podmortem::controller
