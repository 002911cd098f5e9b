#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "podmortem/policy/audit_event.h"
#include "podmortem/policy/label_selector.h"
#include "podmortem/policy/policy.h"

namespace podmortem::policy {

// What the admission handler knows about one request. The views and pointers only need to
// stay valid for the duration of the match call.
struct AdmissionAttributes {
  std::string_view operation;    // CREATE | UPDATE | DELETE | CONNECT
  std::string_view resource;     // "pods"
  std::string_view subResource;  // "" | "eviction" | "exec" | ...
  std::string_view namespaceName;
  std::string_view userName;
  const std::vector<std::string>* groups = nullptr;
  // nullptr when the pod is not known (an eviction without a cached pod): a policy with a
  // non-empty podSelector then does not match, since it cannot be shown to apply.
  const Labels* podLabels = nullptr;
  // nullptr when unknown: a non-empty namespaceSelector then does not match.
  const Labels* namespaceLabels = nullptr;
  // With podLabels null: treat the podSelector as holding, to ask "could this match once the pod
  // is known?" before paying for reading it.
  bool unknownPodLabelsMayMatch = false;
};

// What the audit handler knows about one audit event.
struct AuditAttributes {
  std::string_view verb;  // get, create, delete, ...
  std::string_view resource;
  std::string_view subResource;
  std::string_view namespaceName;
  std::string_view userName;
  const std::vector<std::string>* groups = nullptr;
  int responseCode = 0;  // 0 = unknown (e.g. stage RequestReceived): a trigger with codes fails
  const Labels* podLabels = nullptr;
  const Labels* namespaceLabels = nullptr;
  bool unknownPodLabelsMayMatch = false;  // as in AdmissionAttributes
};

// An audit event's attributes for matching; pod and namespace labels are left to the caller.
// The views point into `event`, which must outlive the match.
AuditAttributes auditAttributesOf(const AuditEvent& event);

// spec.match against one pod: namespace globs, excludeNamespaces (wins), podSelector and
// namespaceSelector. Unknown labels (null) do not match a non-empty selector, unless
// `unknownPodLabelsMayMatch` says to assume the pod's would.
bool podMatches(const PodMatch& match, std::string_view namespaceName, const Labels* podLabels,
                const Labels* namespaceLabels, bool unknownPodLabelsMayMatch = false);

// Users and groups of a trigger: exclude wins over include; users include defaults to "*".
bool subjectMatches(const Trigger& trigger, std::string_view userName,
                    const std::vector<std::string>* groups);

// One trigger alone (source, operation or verb, resource, subject, and for audit namespaces
// and codes). Does not look at spec.match.
bool triggerMatchesAdmission(const Trigger& trigger, const AdmissionAttributes& request);
bool triggerMatchesAudit(const Trigger& trigger, const AuditAttributes& event);

}  // namespace podmortem::policy
