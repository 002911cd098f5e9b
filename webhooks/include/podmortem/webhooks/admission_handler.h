#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>

#include "podmortem/controller/capture.h"
#include "podmortem/policy/audit_journal.h"
#include "podmortem/policy/correlation_window.h"
#include "podmortem/policy/capture_request.h"
#include "podmortem/policy/policy_store.h"
#include "podmortem/webhooks/admission_metrics.h"
#include "podmortem/webhooks/http_types.h"

namespace podmortem::webhooks {

// POST /validate: decodes the AdmissionReview, asks policy::admissionFirings what fires, and for
// a protected pod DELETE, eviction or CONNECT starts a capture and holds the answer until it is
// sealed or the hold deadline passes. Requests no policy matches are answered at once, without
// I/O and without reading the pod object.
class AdmissionHandler {
 public:
  struct Options {
    // Cut from the API server's own ?timeout= so our answer arrives before it gives up.
    std::chrono::milliseconds minimumMargin{std::chrono::milliseconds(500)};
    // Recent audit activity, for spec.correlation.requireAudit; null: nothing is known, and a
    // policy that requires audit activity does not fire.
    const policy::CorrelationQuery* correlation = nullptr;
    // Where an exec, attach or port-forward is recorded at once, as an audit event of its own:
    // the API server batches its audit events for seconds, and a delete that follows an exec
    // must not be decided before the exec is known. Null: not recorded.
    policy::AuditJournal* journal = nullptr;
    // Labels of a namespace, from memory (never I/O: it runs on the request path); empty: not
    // known, and a policy with a namespaceSelector does not match.
    std::function<std::optional<policy::Labels>(std::string_view namespaceName)> namespaceLabels;
    // Told of every policy that fired, and whether it started a snapshot (policy status).
    std::function<void(const std::string& policy, bool snapshot)> onMatch;
    // Told of a policy that fired and captured nothing (a dry run, or a request that cannot be
    // captured), with what it would have captured and why not (the findings export).
    std::function<void(const policy::CaptureRequest& request, std::string why)> onFiredWithoutCapture;
  };

  AdmissionHandler(policy::PolicyStore& policies, controller::Capture& capture,
                   AdmissionMetrics& metrics, Options options);
  ~AdmissionHandler();

  void handle(HttpRequest& request, Respond respond);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace podmortem::webhooks
