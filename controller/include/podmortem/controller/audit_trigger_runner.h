#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>

#include "podmortem/controller/capture.h"
#include "podmortem/controller/pod_cache.h"
#include "podmortem/controller/snapshot_manager.h"
#include "podmortem/policy/audit_event.h"
#include "podmortem/policy/correlation_window.h"
#include "podmortem/policy/firing.h"
#include "podmortem/policy/policy_store.h"

namespace podmortem::controller {

// Runs `source: audit` triggers: for an audit event on a pod that a policy matches (and whose
// requireAudit holds), captures a snapshot right away, while the pod still runs. Labelled with
// the triggering event's auditID, verb and user.
//
// onEvent runs on the audit ingest worker and never blocks: when a policy could match only once
// the pod's labels are known, the pod is looked up on a capture worker, and matched there.
class AuditTriggerRunner {
 public:
  struct Hooks {
    // The pod when no earlier admission request showed it (a GET with a Kubernetes API); null
    // when it cannot be read. Runs on a capture worker.
    std::function<std::shared_ptr<const policy::PodRecord>(const std::string& ns,
                                                           const std::string& name)>
        lookupPod;
    std::function<std::optional<policy::Labels>(std::string_view ns)> namespaceLabels;
    std::function<void(const std::string& policy, bool snapshot)> onMatch;
    // Told of a policy that fired on an event with nothing to capture (the findings export).
    std::function<void(const policy::CaptureRequest& request, std::string why)> onFiredWithoutCapture;
  };

  // Captures go through `capture` (one per event across replicas when they share claims); pod
  // lookups run on the snapshot manager's workers.
  AuditTriggerRunner(policy::PolicyStore& policies, Capture& capture, SnapshotManager& workers,
                     const PodCache& pods, const policy::CorrelationQuery& audit, Hooks hooks = {});
  ~AuditTriggerRunner();  // waits for the pod lookups it started

  // Returns how many policies fired for the event now (a pod lookup fires later, if at all).
  size_t onEvent(const policy::AuditEvent& event);

  // Pod lookups started and not finished yet (tests wait on it).
  size_t pendingLookups() const;

 private:
  size_t fire(const policy::AuditEvent& event, const std::vector<policy::TriggerMatch>& matches,
              const policy::PodRecord* pod);
  void lookUpAndFire(const policy::AuditEvent& event,
                     std::shared_ptr<const policy::PolicySet> policies,
                     std::optional<policy::Labels> namespaceLabels);

  policy::PolicyStore& policies_;
  Capture& capture_;
  SnapshotManager& workers_;
  const PodCache& pods_;
  const policy::CorrelationQuery& audit_;
  Hooks hooks_;

  mutable std::mutex mutex_;
  std::condition_variable lookupsDone_;
  size_t pendingLookups_ = 0;
};

}  // namespace podmortem::controller
