#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "podmortem/evidence/bundle.h"
#include "podmortem/policy/capture_request.h"
#include "podmortem/policy/correlation_window.h"

namespace podmortem::kube {
class Client;
}  // namespace podmortem::kube

namespace podmortem::controller {

// What a capture knows when it starts (built by policy::captureRequestFor).
using CaptureRequest = policy::CaptureRequest;

// What one collector produced: artifacts, and facts for the manifest (merged at top level).
struct Collected {
  std::vector<evidence::Artifact> artifacts;
  nlohmann::json manifest = nlohmann::json::object();
};

// One kind of evidence. collect() runs on a capture worker and may block (API calls, log
// streams); it reports its own failures as an evidence::Artifact with `error` set, and must not throw
// (an exception is caught and recorded as a failure all the same).
class Collector {
 public:
  virtual ~Collector() = default;
  virtual std::string_view name() const = 0;
  virtual Collected collect(const CaptureRequest& request) = 0;
};

// The name of the collector that applies a policy's actions (labels, annotations, quarantine).
inline constexpr std::string_view kActionsCollector = "actions";

// The collectors available to policies, by name.
class CollectorRegistry {
 public:
  // The built-in collectors of local mode: `pod`, and `auditTrail` from `audit` (when null, the
  // trail is empty) reaching back `auditWindow` unless the policy says less; the others a
  // policy may name report that they need a Kubernetes API. `trailGap`, when set, says why the
  // window may lack events right now (the trail is then marked incomplete with that reason).
  static CollectorRegistry localDefaults(std::shared_ptr<const policy::CorrelationQuery> audit,
                                         std::chrono::milliseconds auditWindow,
                                         std::function<std::string()> trailGap = {});

  void add(std::shared_ptr<Collector> collector);  // replaces one of the same name
  std::shared_ptr<Collector> find(std::string_view name) const;

  // A collector that runs, as its own job, whenever `name` is asked for: slow work (an API
  // call) split from fast work (the copy the request carried), so that a hung API server cannot
  // cost the evidence already in hand.
  void addCompanion(const std::string& name, const std::string& companion);
  // `names` with every companion added after its collector.
  std::vector<std::string> expand(const std::vector<std::string>& names) const;

 private:
  std::map<std::string, std::shared_ptr<Collector>, std::less<>> collectors_;
  std::map<std::string, std::vector<std::string>, std::less<>> companions_;
};

// `references` (names of the ConfigMaps, Secrets, claims and service account the pod uses, never
// a secret's value) and `images` (image digests from the container statuses): read from the pod
// object alone, so they work in local mode too. The admission copy is used; without one, a live
// copy from `client` when there is one.
void addPodSpecCollectors(CollectorRegistry& registry, kube::Client* client = nullptr);

}  // namespace podmortem::controller
