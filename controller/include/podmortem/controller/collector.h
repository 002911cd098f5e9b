#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "podmortem/controller/evidence.h"
#include "podmortem/policy/correlation_window.h"

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
  // How far back the audit trail reaches: the policy's correlation window; empty when the policy
  // has none, and then the whole audit window (audit.window).
  std::optional<std::chrono::milliseconds> correlationWindow;
};

// What one collector produced: artifacts, and facts for the manifest (merged at top level).
struct Collected {
  std::vector<Artifact> artifacts;
  nlohmann::json manifest = nlohmann::json::object();
};

// One kind of evidence. collect() runs on a capture worker and may block (API calls, log
// streams); it reports its own failures as an Artifact with `error` set, and must not throw
// (an exception is caught and recorded as a failure all the same).
class Collector {
 public:
  virtual ~Collector() = default;
  virtual std::string_view name() const = 0;
  virtual Collected collect(const CaptureRequest& request) = 0;
};

// The collectors available to policies, by name.
class CollectorRegistry {
 public:
  // The built-in collectors of local mode: `pod`, and `auditTrail` from `audit` (when null, the
  // trail is empty) reaching back `auditWindow` unless the policy says less; the others a
  // policy may name report that they need a Kubernetes API.
  static CollectorRegistry localDefaults(std::shared_ptr<const policy::CorrelationQuery> audit,
                                         std::chrono::milliseconds auditWindow);

  void add(std::shared_ptr<Collector> collector);  // replaces one of the same name
  std::shared_ptr<Collector> find(std::string_view name) const;

 private:
  std::map<std::string, std::shared_ptr<Collector>, std::less<>> collectors_;
};

}  // namespace podmortem::controller
