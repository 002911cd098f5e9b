#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "podmortem/policy/label_selector.h"

namespace podmortem::policy {

inline constexpr std::string_view kApiVersion = "podmortem.io/v1alpha1";
inline constexpr std::string_view kKind = "ForensicPolicy";

inline constexpr std::chrono::milliseconds kDefaultHoldDeletion{std::chrono::seconds(10)};
// The API server's own ceiling for a webhook's timeoutSeconds: holding longer is pointless,
// the API server would give up first.
inline constexpr std::chrono::milliseconds kMaxHoldDeletion{std::chrono::seconds(30)};
inline constexpr std::chrono::milliseconds kDefaultCorrelationWindow{std::chrono::minutes(30)};

// Every collector name a snapshot action may list, in the order the snapshot manager runs them.
const std::vector<std::string>& knownCollectors();
// What an empty `collectors` list means.
const std::vector<std::string>& defaultCollectors();

// "pods" or "pods/exec": the form policies use for resources.
std::string resourceString(std::string_view resource, std::string_view subResource);

enum class TriggerSource { kAdmission, kAudit };
std::string_view toString(TriggerSource source);

// spec.severity: how grave a firing is, in the findings the policy's snapshots export. The
// values and their order are OCSF's severity_id 1-5.
enum class Severity { kInformational = 1, kLow = 2, kMedium = 3, kHigh = 4, kCritical = 5 };
std::string_view toString(Severity severity);
std::optional<Severity> parseSeverity(std::string_view text);

enum class OnTimeout { kAllow, kDeny };
std::string_view toString(OnTimeout onTimeout);

// Include/exclude globs for users or groups; exclude always wins.
struct NameFilter {
  std::vector<std::string> include;  // empty: users - everyone; groups - no group condition
  std::vector<std::string> exclude;
};

struct Trigger {
  std::string name;  // given, or "<source>-<index>"
  TriggerSource source = TriggerSource::kAdmission;
  std::vector<std::string> operations;  // admission: CREATE | UPDATE | DELETE | CONNECT | *
  std::vector<std::string> verbs;       // audit: get, create, ... or *
  std::vector<std::string> resources;   // globs over "resource" or "resource/subresource"
  std::vector<std::string> namespaces;  // audit: extra namespace globs; empty = any
  std::vector<int> codes;               // audit: response codes; empty = any
  NameFilter users;
  NameFilter groups;
};

// Audit activity that must have happened on the pod within the correlation window.
struct AuditRequirement {
  std::vector<std::string> verbs;
  std::vector<std::string> resources;

  bool matches(std::string_view verb, std::string_view resource,
               std::string_view subResource) const;
};

struct Correlation {
  std::chrono::milliseconds window = kDefaultCorrelationWindow;
  std::vector<AuditRequirement> requireAudit;
};

// Caps on what the logs collectors fetch per container (actions.snapshot.logs): a chatty
// container must not fill the evidence volume or outlast the hold time.
inline constexpr int64_t kDefaultLogLimitBytes = 10 * 1024 * 1024;
inline constexpr int64_t kMaxLogLimitBytes = 256 * 1024 * 1024;

struct SnapshotAction {
  std::vector<std::string> collectors;  // never empty after parsing
  std::chrono::milliseconds holdDeletion = kDefaultHoldDeletion;
  OnTimeout onTimeout = OnTimeout::kAllow;
  int64_t logLimitBytes = kDefaultLogLimitBytes;  // logs.limitBytes
  int64_t logTailLines = 0;                       // logs.tailLines; 0 = no line limit
};

struct Actions {
  std::optional<SnapshotAction> snapshot;
  Labels labels;
  Labels annotations;
  bool quarantine = false;

  // Labels, annotations or quarantine: something done to the pod itself.
  bool hasPodActions() const { return !labels.empty() || !annotations.empty() || quarantine; }
};

// spec.match: which pods the policy protects.
struct PodMatch {
  std::vector<std::string> namespaces;  // globs; empty = every namespace
  std::vector<std::string> excludeNamespaces;
  LabelSelector podSelector;
  LabelSelector namespaceSelector;
};

// A valid ForensicPolicy. Immutable once parsed and shared as std::shared_ptr<const Policy>,
// so a request that matched it keeps it alive across a reload.
struct Policy {
  std::string name;
  std::string uid;         // metadata.uid of a custom resource; empty for a file
  int64_t generation = 0;  // metadata.generation; 0 when absent
  std::string source;      // where it came from, as in PolicyProblem::source
  PodMatch match;
  std::vector<Trigger> triggers;  // at least one
  std::optional<Correlation> correlation;
  Actions actions;
  Severity severity = Severity::kMedium;  // spec.severity
};

}  // namespace podmortem::policy
