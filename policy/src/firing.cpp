#include "podmortem/policy/firing.h"

namespace podmortem::policy {

namespace {

using Clock = std::chrono::system_clock;

// The parts of a capture request that come from the policy alone.
CaptureRequest requestFromPolicy(const Firing& firing) {
  const Policy& policy = *firing.policy;
  CaptureRequest request;
  request.policyName = policy.name;
  request.severity = policy.severity;
  request.trigger.name = firing.triggerName;
  request.actions = policy.actions;
  if (policy.actions.snapshot) {
    const SnapshotAction& snapshot = *policy.actions.snapshot;
    request.collectors = snapshot.collectors;
    request.logLimitBytes = snapshot.logLimitBytes;
    request.logTailLines = snapshot.logTailLines;
    request.holdDeletion = snapshot.holdDeletion;
    request.onTimeout = snapshot.onTimeout;
  }
  if (policy.correlation) request.correlationWindow = policy.correlation->window;
  return request;
}

void setPod(CaptureRequest& request, const PodRecord* pod, core::PodIdentity known) {
  if (pod == nullptr) {
    request.pod = std::move(known);
    return;
  }
  request.pod = pod->identity;
  if (request.pod.namespaceName.empty()) request.pod.namespaceName = known.namespaceName;
  if (request.pod.name.empty()) request.pod.name = known.name;
  request.podJson = pod->json;
  request.podSource = pod->source;
}

}  // namespace

std::string CaptureRequest::key() const {
  std::string podKey = pod.uid.empty() ? pod.key() : pod.uid;
  return podKey + "|" + policyName + "|" + trigger.name;
}

bool correlationHolds(const Policy& policy, const CorrelationQuery& audit,
                      std::string_view namespaceName, std::string_view podName,
                      Clock::time_point now) {
  if (!policy.correlation || policy.correlation->requireAudit.empty()) return true;
  auto since = now - policy.correlation->window;
  for (const auto& requirement : policy.correlation->requireAudit) {
    if (audit.hasActivity(namespaceName, podName, requirement, since)) return true;
  }
  return false;
}

AdmissionAttributes admissionAttributesOf(const AdmissionRequest& request, const PodRecord* pod,
                                          const Labels* namespaceLabels) {
  AdmissionAttributes attributes;
  attributes.operation = request.operation;
  attributes.resource = request.resource;
  attributes.subResource = request.subResource;
  attributes.namespaceName = pod != nullptr && !pod->identity.namespaceName.empty()
                                 ? std::string_view(pod->identity.namespaceName)
                                 : std::string_view(request.namespaceName);
  attributes.userName = request.userName;
  attributes.groups = &request.groups;
  attributes.podLabels = pod != nullptr ? &pod->labels : nullptr;
  attributes.namespaceLabels = namespaceLabels;
  return attributes;
}

std::vector<Firing> admissionFirings(const PolicySet& policies, const AdmissionRequest& request,
                                     const AdmissionAttributes& attributes,
                                     const CorrelationQuery* audit, Clock::time_point now) {
  std::vector<Firing> firings;
  const bool captures = request.canCapture();
  for (const auto& match : policies.matchAdmission(attributes)) {
    const Policy& policy = *match.policy;
    if (policy.correlation && !policy.correlation->requireAudit.empty() &&
        (audit == nullptr ||
         !correlationHolds(policy, *audit, attributes.namespaceName, request.name, now))) {
      continue;
    }
    Firing firing{match.policy, std::string(match.triggerName), Firing::Effect::kMatchOnly};
    if (captures && policy.actions.snapshot) {
      firing.effect = request.dryRun ? Firing::Effect::kDryRunCapture : Firing::Effect::kCapture;
    } else if (captures && !request.dryRun && policy.actions.hasPodActions()) {
      firing.effect = Firing::Effect::kActionsOnly;
    }
    firings.push_back(std::move(firing));
  }
  return firings;
}

std::vector<Firing> auditFirings(const std::vector<TriggerMatch>& matches, const AuditEvent& event,
                                 const CorrelationQuery& audit, Clock::time_point now) {
  std::vector<Firing> firings;
  for (const auto& match : matches) {
    const Policy& policy = *match.policy;
    Firing firing{match.policy, std::string(match.triggerName), Firing::Effect::kMatchOnly};
    if (event.isPodEvent()) {
      if (!correlationHolds(policy, audit, event.namespaceName, event.name, now)) continue;
      if (policy.actions.snapshot) {
        firing.effect = Firing::Effect::kCapture;
      } else if (policy.actions.hasPodActions()) {
        firing.effect = Firing::Effect::kActionsOnly;
      }
    }
    firings.push_back(std::move(firing));
  }
  return firings;
}

CaptureRequest captureRequestFor(const Firing& firing, const AdmissionRequest& request,
                                 const PodRecord* pod, Clock::time_point now) {
  CaptureRequest capture = requestFromPolicy(firing);
  setPod(capture, pod, {request.namespaceName, request.name, "", ""});
  // An eviction or exec carries its own object (Eviction, PodExecOptions): keep it.
  if (!request.subResource.empty()) capture.triggerObjectJson = std::string(request.objectJson);
  capture.trigger.source = "admission";
  capture.trigger.operation = request.operation;
  capture.trigger.resource = resourceString(request.resource, request.subResource);
  capture.trigger.user = request.userName;
  capture.trigger.groups = request.groups;
  capture.trigger.requestUid = request.uid;
  capture.trigger.time = now;
  return capture;
}

CaptureRequest captureRequestFor(const Firing& firing, const AuditEvent& event,
                                 const PodRecord* pod) {
  CaptureRequest capture = requestFromPolicy(firing);
  setPod(capture, pod, {event.namespaceName, event.name, "", ""});
  capture.trigger.source = "audit";
  capture.trigger.operation = event.verb;
  capture.trigger.resource = resourceString(event.resource, event.subResource);
  capture.trigger.user = event.impersonatedUserName.empty()
                             ? event.userName
                             : event.userName + " as " + event.impersonatedUserName;
  capture.trigger.groups = event.groups;
  capture.trigger.requestUid = event.auditId;
  capture.trigger.time = Clock::time_point(std::chrono::microseconds(event.timeMicros));
  return capture;
}

}  // namespace podmortem::policy
