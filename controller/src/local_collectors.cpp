#include <algorithm>
#include <memory>

#include "podmortem/controller/collector.h"
#include "podmortem/core/timestamp.h"
#include "podmortem/policy/policy.h"

namespace podmortem::controller {

namespace {

// pod.json: the pod object exactly as the API server put it in the admission request.
class PodCollector final : public Collector {
 public:
  std::string_view name() const override { return "pod"; }
  Collected collect(const CaptureRequest& request) override {
    evidence::Artifact artifact{"pod.json", "pod", request.podJson, ""};
    if (request.podJson.empty()) {
      artifact.error =
          "the request did not carry the pod (an eviction names it only) and no earlier "
          "admission request or Kubernetes API provided it";
    }
    Collected collected;
    collected.artifacts.push_back(artifact);
    if (!request.triggerObjectJson.empty()) {
      collected.artifacts.push_back({"request-object.json", "pod", request.triggerObjectJson, ""});
    }
    return collected;
  }
};

// audit-trail.jsonl: the window's audit events for the pod and for the users who acted on it,
// raw and in time order, one per line. Without audit ingest the file is empty, which the
// manifest records rather than leaving the file out.
class AuditTrailCollector final : public Collector {
 public:
  AuditTrailCollector(std::shared_ptr<const policy::CorrelationQuery> audit,
                      std::chrono::milliseconds auditWindow, std::function<std::string()> gap)
      : audit_(std::move(audit)), auditWindow_(auditWindow), gap_(std::move(gap)) {}
  std::string_view name() const override { return "auditTrail"; }
  Collected collect(const CaptureRequest& request) override {
    Collected collected;
    auto now = std::chrono::system_clock::now();
    auto since = now - request.correlationWindow.value_or(auditWindow_);
    policy::CorrelationQuery::Trail trail;
    if (audit_) trail = audit_->trailForPod(request.pod.namespaceName, request.pod.name, since);
    std::string lines;
    size_t fromAdmission = 0;
    for (const auto& event : trail.rawEvents) {
      // Events podmortem wrote at admission (an exec before its audit batch came) say so.
      if (event.find(kAdmissionSourceMark) != std::string::npos) ++fromAdmission;
      lines += event;
      lines += '\n';
    }
    // A window that may lack events (the shared stream is unreachable) makes the trail, and so
    // the snapshot, Partial: the trail holds what this replica had, and says why it may not be all.
    std::string gap = gap_ ? gap_() : std::string();
    collected.artifacts.push_back({"audit-trail.jsonl", "auditTrail", std::move(lines), gap});
    auto micros = [](int64_t value) {
      return core::formatTimestamp(std::chrono::system_clock::time_point(std::chrono::microseconds(value)));
    };
    collected.manifest["auditTrail"] = {
        {"events", trail.rawEvents.size()},
        {"podEvents", trail.podEvents},
        {"userEvents", trail.userEvents},
        {"windowStart", core::formatTimestamp(since)},
        {"windowEnd", trail.windowEndMicros > 0 ? micros(trail.windowEndMicros) : core::formatTimestamp(now)},
        {"fromAdmission", fromAdmission},
        // Events this replica indexed after this count arrived late: they go into addenda.
        {"windowEventsIndexed", trail.indexedThrough},
        {"ingest", audit_ ? "enabled" : "disabled"}};
    if (!gap.empty()) collected.manifest["auditTrail"]["gap"] = gap;
    return collected;
  }

 private:
  static constexpr std::string_view kAdmissionSourceMark = R"("podmortem.io/source":"admission")";

  std::shared_ptr<const policy::CorrelationQuery> audit_;
  std::chrono::milliseconds auditWindow_;
  std::function<std::string()> gap_;
};

// Actions on the pod need the API server; without one they are recorded as not done.
class LocalActionsCollector final : public Collector {
 public:
  std::string_view name() const override { return kActionsCollector; }
  Collected collect(const CaptureRequest& request) override {
    Collected collected;
    nlohmann::json actions = nlohmann::json::array();
    auto skipped = [&](const char* action) {
      actions.push_back({{"action", action}, {"result", "skipped"},
                         {"message", "needs a Kubernetes API; none is configured"}});
    };
    if (!request.actions.labels.empty()) skipped("labels");
    if (!request.actions.annotations.empty()) skipped("annotations");
    if (request.actions.quarantine) skipped("quarantine");
    collected.manifest["actions"] = std::move(actions);
    return collected;
  }
};

// Collectors that read live state from the API server.
class NeedsKubernetesCollector final : public Collector {
 public:
  explicit NeedsKubernetesCollector(std::string name) : name_(std::move(name)) {}
  std::string_view name() const override { return name_; }
  Collected collect(const CaptureRequest&) override {
    Collected collected;
    collected.artifacts.push_back(
        {name_ + ".json", name_, "", "needs a Kubernetes API; none is configured"});
    return collected;
  }

 private:
  std::string name_;
};

}  // namespace

CollectorRegistry CollectorRegistry::localDefaults(
    std::shared_ptr<const policy::CorrelationQuery> audit, std::chrono::milliseconds auditWindow,
    std::function<std::string()> trailGap) {
  CollectorRegistry registry;
  for (const auto& name : policy::knownCollectors()) {
    registry.add(std::make_shared<NeedsKubernetesCollector>(name));
  }
  registry.add(std::make_shared<PodCollector>());
  registry.add(std::make_shared<LocalActionsCollector>());
  addPodSpecCollectors(registry);
  registry.add(std::make_shared<AuditTrailCollector>(std::move(audit), auditWindow,
                                                     std::move(trailGap)));
  return registry;
}

void CollectorRegistry::add(std::shared_ptr<Collector> collector) {
  std::string name(collector->name());
  collectors_[name] = std::move(collector);
}

void CollectorRegistry::addCompanion(const std::string& name, const std::string& companion) {
  auto& list = companions_[name];
  if (std::find(list.begin(), list.end(), companion) == list.end()) list.push_back(companion);
}

std::vector<std::string> CollectorRegistry::expand(const std::vector<std::string>& names) const {
  std::vector<std::string> expanded;
  for (const auto& name : names) {
    expanded.push_back(name);
    auto it = companions_.find(name);
    if (it == companions_.end()) continue;
    for (const auto& companion : it->second) expanded.push_back(companion);
  }
  return expanded;
}

std::shared_ptr<Collector> CollectorRegistry::find(std::string_view name) const {
  auto it = collectors_.find(name);
  return it == collectors_.end() ? nullptr : it->second;
}

}  // namespace podmortem::controller
