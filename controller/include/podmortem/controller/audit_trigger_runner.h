#pragma once

#include <chrono>
#include <functional>
#include <optional>

#include "podmortem/controller/pod_cache.h"
#include "podmortem/controller/snapshot_manager.h"
#include "podmortem/policy/audit_event.h"
#include "podmortem/policy/correlation_window.h"
#include "podmortem/policy/policy_store.h"

namespace podmortem::controller {

// Runs `source: audit` triggers: for an audit event on a pod that a policy matches (and whose
// requireAudit holds), captures a snapshot right away, while the pod still runs. Labelled with
// the triggering event's auditID, verb and user.
class AuditTriggerRunner {
 public:
  struct Hooks {
    // The pod when no earlier admission request showed it (a GET with a Kubernetes API). Runs
    // on the audit worker, never on a request thread.
    std::function<std::shared_ptr<const CachedPod>(const std::string& ns, const std::string& name)>
        lookupPod;
    std::function<std::optional<policy::Labels>(std::string_view ns)> namespaceLabels;
    std::function<void(const std::string& policy, bool snapshot)> onMatch;
  };

  AuditTriggerRunner(policy::PolicyStore& policies, SnapshotManager& snapshots,
                     const PodCache& pods, const policy::CorrelationQuery& audit, Hooks hooks = {})
      : policies_(policies), snapshots_(snapshots), pods_(pods), audit_(audit),
        hooks_(std::move(hooks)) {}

  // Returns how many policies fired for the event.
  size_t onEvent(const policy::AuditEvent& event);

 private:
  policy::PolicyStore& policies_;
  SnapshotManager& snapshots_;
  const PodCache& pods_;
  const policy::CorrelationQuery& audit_;
  Hooks hooks_;
};

// Whether a policy's requireAudit holds for the pod: some listed activity happened on it within
// the policy's correlation window. True when the policy requires nothing.
bool correlationHolds(const policy::Policy& policy, const policy::CorrelationQuery& audit,
                      std::string_view namespaceName, std::string_view podName,
                      std::chrono::system_clock::time_point now);

}  // namespace podmortem::controller
