#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>

#include "podmortem/controller/pod_cache.h"
#include "podmortem/controller/snapshot_manager.h"
#include "podmortem/policy/policy_store.h"
#include "podmortem/webhooks/admission_metrics.h"
#include "podmortem/webhooks/http_types.h"

namespace podmortem::webhooks {

// Answers whether audit activity required by a policy (spec.correlation.requireAudit) happened
// on the pod within the policy's window. Without an audit index nothing has, and such a trigger
// does not fire.
using CorrelationCheck = std::function<bool(const policy::Policy&, std::string_view namespaceName,
                                            std::string_view podName)>;

// POST /validate: decodes the AdmissionReview, matches policies, and for a protected pod DELETE,
// eviction or CONNECT starts a capture and holds the answer until it is written or the hold
// deadline passes. Requests no policy matches are answered at once, without I/O.
class AdmissionHandler {
 public:
  struct Options {
    // Cut from the API server's own ?timeout= so our answer arrives before it gives up.
    std::chrono::milliseconds minimumMargin{std::chrono::milliseconds(500)};
    CorrelationCheck correlation;  // empty: requireAudit never holds
    // Labels of a namespace, from memory (never I/O: it runs on the request path); empty: not
    // known, and a policy with a namespaceSelector does not match.
    std::function<std::optional<policy::Labels>(std::string_view namespaceName)> namespaceLabels;
    // Told of every policy that fired, and whether it started a snapshot (policy status).
    std::function<void(const std::string& policy, bool snapshot)> onMatch;
  };

  AdmissionHandler(policy::PolicyStore& policies, controller::SnapshotManager& snapshots,
                   controller::PodCache& podCache, AdmissionMetrics& metrics, Options options);
  ~AdmissionHandler();

  void handle(HttpRequest& request, Respond respond);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace podmortem::webhooks
