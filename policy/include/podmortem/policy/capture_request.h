#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "podmortem/core/pod_identity.h"
#include "podmortem/core/trigger_info.h"
#include "podmortem/policy/policy.h"

namespace podmortem::policy {

// What a capture knows when it starts: who did what to which pod, what the request carried,
// and what the policy that fired asks for. Built only by captureRequestFor (policy/firing.h),
// so the server and `podmortem replay` cannot disagree on it.
struct CaptureRequest {
  core::PodIdentity pod;
  std::string podJson;            // the pod exactly as the API server sent it; empty when unknown
  std::string podSource;          // where podJson came from: "admission", "cache", ...
  std::string triggerObjectJson;  // the request's own object (Eviction, PodExecOptions); may be empty
  core::TriggerInfo trigger;
  std::string policyName;
  Severity severity = Severity::kMedium;  // the policy's spec.severity, for the findings
  std::vector<std::string> collectors;  // names, from the policy's snapshot action
  // The policy's labels, annotations and quarantine: run by the "actions" collector, which the
  // snapshot manager adds when there is any, and recorded in the manifest.
  Actions actions;
  int64_t logLimitBytes = kDefaultLogLimitBytes;  // per container, logs collectors
  int64_t logTailLines = 0;                       // 0: no line limit
  // How far back the audit trail reaches: the policy's correlation window; empty when the policy
  // has none, and then the whole audit window (audit.window).
  std::optional<std::chrono::milliseconds> correlationWindow;
  std::chrono::milliseconds holdDeletion = kDefaultHoldDeletion;  // the policy's, or the default
  OnTimeout onTimeout = OnTimeout::kAllow;

  // One snapshot per pod, policy and trigger, however often the API server calls: the pod's
  // uid when known, else namespace/name.
  std::string key() const;
};

}  // namespace podmortem::policy
