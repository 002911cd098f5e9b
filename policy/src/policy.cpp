#include "podmortem/policy/policy.h"

#include <algorithm>
#include <utility>

#include "podmortem/policy/glob.h"

namespace podmortem::policy {

const std::vector<std::string>& knownCollectors() {
  static const std::vector<std::string> kCollectors = {
      "pod",          "auditTrail", "owners",         "events",     "logs",
      "previousLogs", "node",       "serviceAccount", "references", "images"};
  return kCollectors;
}

const std::vector<std::string>& defaultCollectors() {
  static const std::vector<std::string> kDefaults = {"pod", "auditTrail"};
  return kDefaults;
}

std::string resourceString(std::string_view resource, std::string_view subResource) {
  std::string result(resource);
  if (!subResource.empty()) {
    result += '/';
    result += subResource;
  }
  return result;
}

std::string_view toString(TriggerSource source) {
  return source == TriggerSource::kAdmission ? "admission" : "audit";
}

std::string_view toString(OnTimeout onTimeout) {
  return onTimeout == OnTimeout::kAllow ? "allow" : "deny";
}

namespace {
constexpr std::pair<Severity, std::string_view> kSeverityNames[] = {
    {Severity::kInformational, "Informational"}, {Severity::kLow, "Low"},
    {Severity::kMedium, "Medium"}, {Severity::kHigh, "High"}, {Severity::kCritical, "Critical"}};
}  // namespace

std::string_view toString(Severity severity) {
  for (const auto& [value, name] : kSeverityNames) {
    if (value == severity) return name;
  }
  return "Medium";
}

std::optional<Severity> parseSeverity(std::string_view text) {
  for (const auto& [value, name] : kSeverityNames) {
    if (name == text) return value;
  }
  return std::nullopt;
}

bool AuditRequirement::matches(std::string_view verb, std::string_view resource,
                               std::string_view subResource) const {
  bool verbMatches = std::any_of(verbs.begin(), verbs.end(),
                                 [&](const std::string& v) { return v == "*" || v == verb; });
  if (!verbMatches)
    return false;
  return std::any_of(resources.begin(), resources.end(), [&](const std::string& pattern) {
    return globMatchResource(pattern, resource, subResource);
  });
}

}  // namespace podmortem::policy
