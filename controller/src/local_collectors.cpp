#include <memory>

#include "podmortem/controller/collector.h"
#include "podmortem/policy/policy.h"

namespace podmortem::controller {

namespace {

// pod.json: the pod object exactly as the API server put it in the admission request.
class PodCollector final : public Collector {
 public:
  std::string_view name() const override { return "pod"; }
  std::vector<Artifact> collect(const CaptureRequest& request) override {
    Artifact artifact{"pod.json", "pod", request.podJson, ""};
    if (request.podJson.empty()) {
      artifact.error =
          "the request did not carry the pod (an eviction names it only) and no earlier "
          "admission request or Kubernetes API provided it";
    }
    std::vector<Artifact> artifacts{artifact};
    if (!request.triggerObjectJson.empty()) {
      artifacts.push_back({"request-object.json", "pod", request.triggerObjectJson, ""});
    }
    return artifacts;
  }
};

// audit-trail.jsonl: the correlated audit events. Without the audit index it is empty, which
// the manifest records rather than leaving the file out.
class EmptyAuditTrailCollector final : public Collector {
 public:
  std::string_view name() const override { return "auditTrail"; }
  std::vector<Artifact> collect(const CaptureRequest&) override {
    return {{"audit-trail.jsonl", "auditTrail", "", ""}};
  }
};

// Collectors that read live state from the API server.
class NeedsKubernetesCollector final : public Collector {
 public:
  explicit NeedsKubernetesCollector(std::string name) : name_(std::move(name)) {}
  std::string_view name() const override { return name_; }
  std::vector<Artifact> collect(const CaptureRequest&) override {
    return {{name_ + ".json", name_, "", "needs a Kubernetes API; none is configured"}};
  }

 private:
  std::string name_;
};

}  // namespace

CollectorRegistry CollectorRegistry::localDefaults() {
  CollectorRegistry registry;
  for (const auto& name : policy::knownCollectors()) {
    registry.add(std::make_shared<NeedsKubernetesCollector>(name));
  }
  registry.add(std::make_shared<PodCollector>());
  registry.add(std::make_shared<EmptyAuditTrailCollector>());
  return registry;
}

void CollectorRegistry::add(std::shared_ptr<Collector> collector) {
  std::string name(collector->name());
  collectors_[name] = std::move(collector);
}

std::shared_ptr<Collector> CollectorRegistry::find(std::string_view name) const {
  auto it = collectors_.find(name);
  return it == collectors_.end() ? nullptr : it->second;
}

}  // namespace podmortem::controller
