#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace podmortem::webhooks {

// The parts of a pod (metadata and placement) that matching and evidence need.
struct PodSummary {
  std::string name;
  std::string namespaceName;
  std::string uid;
  std::string node;
  bool terminating = false;  // metadata.deletionTimestamp is set
  std::map<std::string, std::string, std::less<>> labels;
};

// What the handler needs from an admission.k8s.io/v1 AdmissionReview request. Views point
// into the request body, which outlives the decision.
struct AdmissionReviewRequest {
  std::string uid;
  std::string operation;
  std::string group;
  std::string resource;
  std::string subResource;
  std::string kind;  // request.kind.kind: Pod, Eviction, PodExecOptions, ...
  std::string name;
  std::string namespaceName;
  std::string userName;
  std::vector<std::string> groups;
  bool dryRun = false;
  std::string_view objectJson;     // raw bytes; empty when null or absent
  std::string_view oldObjectJson;  // raw bytes; empty when null or absent
};

// Decodes with simdjson's on-demand API (the body must have SIMDJSON_PADDING spare capacity,
// or it is copied once). Returns an error message for the 400 answer, or "" on success.
std::string decodeAdmissionReview(std::string& body, AdmissionReviewRequest& out);

// Reads a pod object's identity and labels; returns an error message, or "" on success.
std::string decodePod(std::string_view podJson, PodSummary& out);

}  // namespace podmortem::webhooks
