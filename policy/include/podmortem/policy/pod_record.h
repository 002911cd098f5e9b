#pragma once

#include <string>
#include <string_view>

#include "podmortem/core/pod_identity.h"
#include "podmortem/core/result.h"
#include "podmortem/policy/label_selector.h"

namespace podmortem::policy {

// A pod as a request or the API server showed it: what matching (labels) and capture (the
// object itself) need. The one pod type: admission requests, the pod cache, API lookups and
// audit triggers all produce it.
struct PodRecord {
  core::PodIdentity identity;
  Labels labels;
  bool terminating = false;  // metadata.deletionTimestamp is set
  std::string json;          // the object exactly as the API server sent it
  std::string source;        // where json came from: "admission", "earlier admission request", ...
};

// Reads a Pod object's identity, labels and deletionTimestamp (simdjson on-demand; the object
// is not kept). The error says which field is wrong, for a 400 answer.
core::Result<PodRecord> parsePod(std::string_view podJson);

}  // namespace podmortem::policy
