#include "podmortem/policy/policy_set.h"

#include <utility>

namespace podmortem::policy {

namespace {

template <typename Attributes, typename TriggerPredicate>
std::vector<TriggerMatch> matchPolicies(const std::vector<std::shared_ptr<const Policy>>& policies,
                                        const Attributes& attributes,
                                        TriggerPredicate triggerMatches) {
  std::vector<TriggerMatch> matches;
  for (const auto& policy : policies) {
    // Triggers first: they reject almost every request on a string compare, before any
    // namespace glob or label selector is evaluated.
    for (size_t i = 0; i < policy->triggers.size(); ++i) {
      const Trigger& trigger = policy->triggers[i];
      if (!triggerMatches(trigger, attributes))
        continue;
      if (podMatches(policy->match, attributes.namespaceName, attributes.podLabels,
                     attributes.namespaceLabels, attributes.unknownPodLabelsMayMatch)) {
        matches.push_back(TriggerMatch{policy, i, trigger.name});
      }
      break;  // spec.match does not depend on the trigger: no later trigger can do better
    }
  }
  return matches;
}

}  // namespace

PolicySet::PolicySet(std::vector<std::shared_ptr<const Policy>> policies)
    : policies_(std::move(policies)) {}

std::vector<TriggerMatch> PolicySet::matchAdmission(const AdmissionAttributes& request) const {
  return matchPolicies(policies_, request, triggerMatchesAdmission);
}

std::vector<TriggerMatch> PolicySet::matchAudit(const AuditAttributes& event) const {
  return matchPolicies(policies_, event, triggerMatchesAudit);
}

std::shared_ptr<const Policy> PolicySet::find(std::string_view name) const {
  for (const auto& policy : policies_) {
    if (policy->name == name)
      return policy;
  }
  return nullptr;
}

}  // namespace podmortem::policy
