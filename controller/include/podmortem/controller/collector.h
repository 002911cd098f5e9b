#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "podmortem/controller/evidence.h"

namespace podmortem::controller {

// What a capture knows when it starts: who did what to which pod, and what the request carried.
struct CaptureRequest {
  PodIdentity pod;
  std::string podJson;  // the pod exactly as the API server sent it; empty when not in the request
  std::string podSource;           // where podJson came from: "admission", "cache", ...
  std::string triggerObjectJson;   // the request's own object (Eviction, PodExecOptions); may be empty
  TriggerInfo trigger;
  std::string policyName;
  std::vector<std::string> collectors;  // names, from the policy's snapshot action
};

// One kind of evidence. collect() runs on a capture worker and may block (API calls, log
// streams); it reports its own failures as an Artifact with `error` set, and must not throw
// (an exception is caught and recorded as a failure all the same).
class Collector {
 public:
  virtual ~Collector() = default;
  virtual std::string_view name() const = 0;
  virtual std::vector<Artifact> collect(const CaptureRequest& request) = 0;
};

// The collectors available to policies, by name.
class CollectorRegistry {
 public:
  // The built-in collectors of local mode: `pod` and `auditTrail`; the others a policy may name
  // report that they need a Kubernetes API.
  static CollectorRegistry localDefaults();

  void add(std::shared_ptr<Collector> collector);  // replaces one of the same name
  std::shared_ptr<Collector> find(std::string_view name) const;

 private:
  std::map<std::string, std::shared_ptr<Collector>, std::less<>> collectors_;
};

}  // namespace podmortem::controller
