#pragma once

#include <chrono>

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
  AuditTriggerRunner(policy::PolicyStore& policies, SnapshotManager& snapshots,
                     const PodCache& pods, const policy::CorrelationQuery& audit)
      : policies_(policies), snapshots_(snapshots), pods_(pods), audit_(audit) {}

  // Returns how many policies fired for the event.
  size_t onEvent(const policy::AuditEvent& event);

 private:
  policy::PolicyStore& policies_;
  SnapshotManager& snapshots_;
  const PodCache& pods_;
  const policy::CorrelationQuery& audit_;
};

// Whether a policy's requireAudit holds for the pod: some listed activity happened on it within
// the policy's correlation window. True when the policy requires nothing.
bool correlationHolds(const policy::Policy& policy, const policy::CorrelationQuery& audit,
                      std::string_view namespaceName, std::string_view podName,
                      std::chrono::system_clock::time_point now);

}  // namespace podmortem::controller
