#pragma once

#include <chrono>
#include <string>

#include "podmortem/policy/admission_request.h"

namespace podmortem::webhooks {

// The annotation that marks an audit event podmortem wrote from an admission request (an
// exec, attach or port-forward), so that a trail tells it from the API server's own events.
inline constexpr const char* kAdmissionSourceAnnotation = "podmortem.io/source";

// An audit.k8s.io/v1 Event for a CONNECT pods/exec|attach|portforward admission request: user,
// groups, the pod, the options (command, container) and the time, with auditID
// "admission-<request uid>" and the annotation above. Indexed like any audit event, so that
// requireAudit and the trail see the exec before the API server's audit batch arrives.
std::string admissionAuditEvent(const policy::AdmissionRequest& request,
                                std::chrono::system_clock::time_point time);

}  // namespace podmortem::webhooks
