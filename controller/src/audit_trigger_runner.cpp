#include "podmortem/controller/audit_trigger_runner.h"

#include "podmortem/core/log.h"

namespace podmortem::controller {

namespace log = core::log;

bool correlationHolds(const policy::Policy& policy, const policy::CorrelationQuery& audit,
                      std::string_view namespaceName, std::string_view podName,
                      std::chrono::system_clock::time_point now) {
  if (!policy.correlation || policy.correlation->requireAudit.empty()) return true;
  auto since = now - policy.correlation->window;
  for (const auto& requirement : policy.correlation->requireAudit) {
    if (audit.hasActivity(namespaceName, podName, requirement, since)) return true;
  }
  return false;
}

size_t AuditTriggerRunner::onEvent(const policy::AuditEvent& event) {
  auto set = policies_.current();
  if (set->empty()) return 0;
  std::shared_ptr<const CachedPod> pod;
  if (event.isPodEvent()) pod = pods_.find(event.namespaceName, event.name);
  std::optional<policy::Labels> namespaceLabels;
  if (hooks_.namespaceLabels) namespaceLabels = hooks_.namespaceLabels(event.namespaceName);

  policy::AuditAttributes attributes = policy::auditAttributesOf(event);
  attributes.podLabels = pod ? &pod->labels : nullptr;
  attributes.namespaceLabels = namespaceLabels ? &*namespaceLabels : nullptr;
  auto matches = set->matchAudit(attributes);
  if (matches.empty() && !pod && event.isPodEvent() && hooks_.lookupPod) {
    // A policy may need the pod's labels: fetch it once and match again.
    pod = hooks_.lookupPod(event.namespaceName, event.name);
    if (pod) {
      attributes.podLabels = &pod->labels;
      matches = set->matchAudit(attributes);
    }
  }
  if (matches.empty()) return 0;

  auto now = std::chrono::system_clock::now();
  size_t fired = 0;
  for (const auto& match : matches) {
    const auto& policy = *match.policy;
    if (!event.isPodEvent() || (!policy.actions.snapshot && !hasPodActions(policy.actions))) {
      log::info("audit trigger matched an event with nothing to capture",
                {{"policy", policy.name}, {"auditID", event.auditId}, {"verb", event.verb},
                 {"resource", event.resource}});
      continue;
    }
    if (!correlationHolds(policy, audit_, event.namespaceName, event.name, now)) continue;
    ++fired;
    if (hooks_.onMatch) hooks_.onMatch(policy.name, policy.actions.snapshot.has_value());
    CaptureRequest request;
    request.pod = pod ? pod->identity
                      : core::PodIdentity{event.namespaceName, event.name, "", ""};
    if (pod) {
      request.podJson = pod->json;
      request.podSource = "earlier admission request";
    }
    std::string resource = policy::resourceString(event.resource, event.subResource);
    std::string user = event.impersonatedUserName.empty()
                           ? event.userName
                           : event.userName + " as " + event.impersonatedUserName;
    request.trigger = {"audit",  std::string(match.triggerName), event.verb, resource, user,
                       event.groups, event.auditId,
                       std::chrono::system_clock::time_point(std::chrono::microseconds(event.timeMicros))};
    request.policyName = policy.name;
    request.actions = policy.actions;
    if (policy.actions.snapshot) {
      request.collectors = policy.actions.snapshot->collectors;
      request.logLimitBytes = policy.actions.snapshot->logLimitBytes;
      request.logTailLines = policy.actions.snapshot->logTailLines;
    }
    if (policy.correlation) request.correlationWindow = policy.correlation->window;
    std::string podKey = request.pod.uid.empty()
                             ? event.namespaceName + "/" + event.name
                             : request.pod.uid;
    // The pod is running: no answer waits, so the capture gets the policy's whole hold time.
    auto deadline = std::chrono::steady_clock::now() +
                    (policy.actions.snapshot ? policy.actions.snapshot->holdDeletion
                                             : policy::kDefaultHoldDeletion);
    snapshots_.capture(podKey + "|" + policy.name + "|" + std::string(match.triggerName),
                       std::move(request), deadline, [](const CaptureOutcome&) {});
  }
  return fired;
}

}  // namespace podmortem::controller
