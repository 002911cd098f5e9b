#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "podmortem/policy/admission_request.h"
#include "podmortem/policy/audit_event.h"
#include "podmortem/policy/capture_request.h"
#include "podmortem/policy/correlation_window.h"
#include "podmortem/policy/matcher.h"
#include "podmortem/policy/pod_record.h"
#include "podmortem/policy/policy_set.h"

namespace podmortem::policy {

// What fires: the one decision the server's admission and audit paths and `podmortem replay`
// all make, so that replaying a log tells what the server would have done.

// Whether a policy's requireAudit holds for the pod: some listed activity happened on it within
// the policy's correlation window. True when the policy requires nothing.
bool correlationHolds(const Policy& policy, const CorrelationQuery& audit,
                      std::string_view namespaceName, std::string_view podName,
                      std::chrono::system_clock::time_point now);

// The attributes the matcher reads for an admission request. `pod` (null when not known) gives
// the pod's namespace and labels; the views point into `request` and `pod`.
AdmissionAttributes admissionAttributesOf(const AdmissionRequest& request, const PodRecord* pod,
                                          const Labels* namespaceLabels);

// One policy that fired, and what it asks of the request.
struct Firing {
  enum class Effect {
    kCapture,      // take a snapshot (and run the policy's pod actions), holding an admission answer
    kActionsOnly,  // labels, annotations or quarantine, no snapshot
    kDryRunCapture,  // a capture a dry run asked for: nothing done, the user is told so
    kMatchOnly,      // counted (status, metrics), nothing done: nothing this request can do
  };
  std::shared_ptr<const Policy> policy;  // keeps triggerName valid
  std::string triggerName;
  Effect effect = Effect::kMatchOnly;
};

// Every policy that fires on an admission request: its trigger and spec.match match, and its
// requireAudit holds in `audit` (null: nothing holds). A request that cannot capture (see
// AdmissionRequest::canCapture) gives kMatchOnly firings, a dry run kDryRunCapture ones.
std::vector<Firing> admissionFirings(const PolicySet& policies, const AdmissionRequest& request,
                                     const AdmissionAttributes& attributes,
                                     const CorrelationQuery* audit,
                                     std::chrono::system_clock::time_point now);

// Every policy that fires on an audit event. `matches` come from PolicySet::matchAudit on the
// event's attributes (with whatever pod labels the caller knows). Events that do not name a pod,
// and policies with neither a snapshot nor pod actions, give kMatchOnly firings.
std::vector<Firing> auditFirings(const std::vector<TriggerMatch>& matches, const AuditEvent& event,
                                 const CorrelationQuery& audit,
                                 std::chrono::system_clock::time_point now);

// The capture an admission firing asks for. `pod` is what the request carried or an earlier one
// showed (identity from the request when unknown).
CaptureRequest captureRequestFor(const Firing& firing, const AdmissionRequest& request,
                                 const PodRecord* pod, std::chrono::system_clock::time_point now);
// The capture an audit firing asks for, timed at the event.
CaptureRequest captureRequestFor(const Firing& firing, const AuditEvent& event,
                                 const PodRecord* pod);

}  // namespace podmortem::policy
