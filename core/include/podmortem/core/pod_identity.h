#pragma once

#include <string>

namespace podmortem::core {

// Which pod: the one identity every part uses (admission decoding, matching, capture, the
// evidence manifest, EvidenceSnapshot records). Namespace and name pass Kubernetes' name rules
// (core/kubernetes_names.h) before they become folder names.
struct PodIdentity {
  std::string namespaceName;  // DNS-1123 label
  std::string name;           // DNS-1123 subdomain
  std::string uid;            // empty when the request did not carry the pod
  std::string node;           // spec.nodeName; empty when not scheduled or not known

  // "<namespace>/<name>": how logs and keys name a pod.
  std::string key() const { return namespaceName + "/" + name; }
};

}  // namespace podmortem::core
