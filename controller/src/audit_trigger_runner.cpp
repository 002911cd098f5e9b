#include "podmortem/controller/audit_trigger_runner.h"

#include "podmortem/core/log.h"

namespace podmortem::controller {

namespace log = core::log;
using Effect = policy::Firing::Effect;

AuditTriggerRunner::AuditTriggerRunner(policy::PolicyStore& policies, Capture& capture,
                                       SnapshotManager& workers, const PodCache& pods,
                                       const policy::CorrelationQuery& audit, Hooks hooks)
    : policies_(policies), capture_(capture), workers_(workers), pods_(pods), audit_(audit),
      hooks_(std::move(hooks)) {}

AuditTriggerRunner::~AuditTriggerRunner() {
  std::unique_lock lock(mutex_);
  lookupsDone_.wait(lock, [this] { return pendingLookups_ == 0; });
}

size_t AuditTriggerRunner::pendingLookups() const {
  std::lock_guard lock(mutex_);
  return pendingLookups_;
}

size_t AuditTriggerRunner::onEvent(const policy::AuditEvent& event) {
  auto set = policies_.current();
  if (set->empty()) return 0;
  std::shared_ptr<const policy::PodRecord> pod;
  if (event.isPodEvent()) pod = pods_.find(event.namespaceName, event.name);
  std::optional<policy::Labels> namespaceLabels;
  if (hooks_.namespaceLabels) namespaceLabels = hooks_.namespaceLabels(event.namespaceName);

  policy::AuditAttributes attributes = policy::auditAttributesOf(event);
  attributes.podLabels = pod ? &pod->labels : nullptr;
  attributes.namespaceLabels = namespaceLabels ? &*namespaceLabels : nullptr;
  auto matches = set->matchAudit(attributes);
  if (!matches.empty() || pod || !event.isPodEvent() || !hooks_.lookupPod) {
    return fire(event, matches, pod.get());
  }
  // Some policy may match once the pod's labels are known. Most pod events concern pods no
  // policy is about, so look the pod up only when one would match with the right labels.
  attributes.unknownPodLabelsMayMatch = true;
  if (set->matchAudit(attributes).empty()) return 0;
  {
    std::lock_guard lock(mutex_);
    ++pendingLookups_;
  }
  workers_.runInBackground([this, event, set, namespaceLabels = std::move(namespaceLabels)] {
    lookUpAndFire(event, set, namespaceLabels);
    std::lock_guard lock(mutex_);
    if (--pendingLookups_ == 0) lookupsDone_.notify_all();
  });
  return 0;
}

void AuditTriggerRunner::lookUpAndFire(const policy::AuditEvent& event,
                                       std::shared_ptr<const policy::PolicySet> policies,
                                       std::optional<policy::Labels> namespaceLabels) {
  auto pod = hooks_.lookupPod(event.namespaceName, event.name);
  if (!pod) return;
  policy::AuditAttributes attributes = policy::auditAttributesOf(event);
  attributes.podLabels = &pod->labels;
  attributes.namespaceLabels = namespaceLabels ? &*namespaceLabels : nullptr;
  fire(event, policies->matchAudit(attributes), pod.get());
}

size_t AuditTriggerRunner::fire(const policy::AuditEvent& event,
                                const std::vector<policy::TriggerMatch>& matches,
                                const policy::PodRecord* pod) {
  if (matches.empty()) return 0;
  size_t fired = 0;
  for (const auto& firing :
       policy::auditFirings(matches, event, audit_, std::chrono::system_clock::now())) {
    if (firing.effect == Effect::kMatchOnly) {
      log::info("audit trigger matched an event with nothing to capture",
                {{"policy", firing.policy->name}, {"auditID", event.auditId},
                 {"verb", event.verb}, {"resource", event.resource}});
      if (hooks_.onFiredWithoutCapture) {
        hooks_.onFiredWithoutCapture(policy::captureRequestFor(firing, event, pod),
                                     "matched: the event names no pod to capture");
      }
      continue;
    }
    ++fired;
    if (hooks_.onMatch) hooks_.onMatch(firing.policy->name, firing.effect == Effect::kCapture);
    auto request = policy::captureRequestFor(firing, event, pod);
    // The pod is running: no answer waits, so the capture gets the policy's whole hold time.
    auto deadline = std::chrono::steady_clock::now() + request.holdDeletion;
    capture_.capture(std::move(request), deadline, [](const CaptureOutcome&) {});
  }
  return fired;
}

}  // namespace podmortem::controller
