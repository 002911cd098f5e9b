#include "podmortem/policy/settings.h"

namespace podmortem::policy {

void PolicySourceSettings::bind(core::SectionBinder<PolicySourceSettings>& keys) {
  keys.path("dir", &PolicySourceSettings::dir, "folder of ForensicPolicy YAML files")
      .whenUnset("no policy files; only ForensicPolicy objects from a Kubernetes API");
  keys.duration("reloadInterval", &PolicySourceSettings::reloadInterval,
                "how often the policy folder is checked for changes");
}

void CorrelationSettings::bind(core::SectionBinder<CorrelationSettings>& keys) {
  keys.duration("window", &CorrelationSettings::window,
                "how long audit events are kept for correlation");
  keys.integer("maxEvents", &CorrelationSettings::maxEvents, 1, 100'000'000,
               "audit events kept at most; the oldest go first");
  keys.path("spoolDir", &CorrelationSettings::spoolDir,
            "folder for the raw audit events of the window")
      .whenUnset("<stateDir>/audit-spool");
  keys.duration("lateness", &CorrelationSettings::lateness,
                "after a snapshot is sealed, how long audit events of its pod are still sealed "
                "into it as addenda");
}

}  // namespace podmortem::policy
