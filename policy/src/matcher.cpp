#include "podmortem/policy/matcher.h"

#include <algorithm>

#include "podmortem/policy/glob.h"

namespace podmortem::policy {

namespace {

bool selectorMatches(const LabelSelector& selector, const Labels* labels) {
  if (selector.empty())
    return true;
  // Unknown labels cannot prove a selector holds; matching anyway would let a policy act on
  // pods it was written to leave alone.
  return labels != nullptr && selector.matches(*labels);
}

bool resourceMatches(const std::vector<std::string>& patterns, std::string_view resource,
                     std::string_view subResource) {
  return std::any_of(patterns.begin(), patterns.end(), [&](const std::string& pattern) {
    return globMatchResource(pattern, resource, subResource);
  });
}

bool listedOrWildcard(const std::vector<std::string>& values, std::string_view value) {
  return std::any_of(values.begin(), values.end(),
                     [&](const std::string& v) { return v == "*" || v == value; });
}

bool anyGroupMatches(const std::vector<std::string>& patterns,
                     const std::vector<std::string>* groups) {
  if (groups == nullptr)
    return false;
  return std::any_of(groups->begin(), groups->end(),
                     [&](const std::string& group) { return globMatchAny(patterns, group); });
}

}  // namespace

bool podMatches(const PodMatch& match, std::string_view namespaceName, const Labels* podLabels,
                const Labels* namespaceLabels, bool unknownPodLabelsMayMatch) {
  if (!match.namespaces.empty() && !globMatchAny(match.namespaces, namespaceName))
    return false;
  if (globMatchAny(match.excludeNamespaces, namespaceName))
    return false;
  bool podSelectorHolds = podLabels == nullptr && unknownPodLabelsMayMatch
                              ? true
                              : selectorMatches(match.podSelector, podLabels);
  return podSelectorHolds &&
         selectorMatches(match.namespaceSelector, namespaceLabels);
}

bool subjectMatches(const Trigger& trigger, std::string_view userName,
                    const std::vector<std::string>* groups) {
  if (globMatchAny(trigger.users.exclude, userName))
    return false;
  if (!trigger.users.include.empty() && !globMatchAny(trigger.users.include, userName)) {
    return false;
  }
  if (anyGroupMatches(trigger.groups.exclude, groups))
    return false;
  if (!trigger.groups.include.empty() && !anyGroupMatches(trigger.groups.include, groups)) {
    return false;
  }
  return true;
}

bool triggerMatchesAdmission(const Trigger& trigger, const AdmissionAttributes& request) {
  return trigger.source == TriggerSource::kAdmission &&
         listedOrWildcard(trigger.operations, request.operation) &&
         resourceMatches(trigger.resources, request.resource, request.subResource) &&
         subjectMatches(trigger, request.userName, request.groups);
}

AuditAttributes auditAttributesOf(const AuditEvent& event) {
  AuditAttributes attributes;
  attributes.verb = event.verb;
  attributes.resource = event.resource;
  attributes.subResource = event.subResource;
  attributes.namespaceName = event.namespaceName;
  attributes.userName = event.userName;
  attributes.groups = &event.groups;
  attributes.responseCode = event.responseCode;
  return attributes;
}

bool triggerMatchesAudit(const Trigger& trigger, const AuditAttributes& event) {
  if (trigger.source != TriggerSource::kAudit)
    return false;
  if (!listedOrWildcard(trigger.verbs, event.verb))
    return false;
  if (!resourceMatches(trigger.resources, event.resource, event.subResource))
    return false;
  if (!trigger.namespaces.empty() && !globMatchAny(trigger.namespaces, event.namespaceName)) {
    return false;
  }
  if (!trigger.codes.empty() && std::find(trigger.codes.begin(), trigger.codes.end(),
                                          event.responseCode) == trigger.codes.end()) {
    return false;  // includes responseCode 0: an unknown code cannot be one the policy asked for
  }
  return subjectMatches(trigger, event.userName, event.groups);
}

}  // namespace podmortem::policy
