#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "podmortem/core/config.h"

namespace podmortem::policy {

// policies.*: ForensicPolicy YAML files read from a folder (local mode, or beside the cluster's).
struct PolicySourceSettings {
  std::string dir;  // empty: no local policy files
  std::chrono::milliseconds reloadInterval{std::chrono::seconds(2)};

  static void bind(core::SectionBinder<PolicySourceSettings>& keys);
  core::Status validate() const { return {}; }
};

// audit.* of the correlation window: how much audit history is kept, and where.
struct CorrelationSettings {
  std::chrono::milliseconds window{std::chrono::minutes(30)};
  uint64_t maxEvents = 1'000'000;
  std::string spoolDir;  // raw events on disk; empty: <stateDir>/audit-spool
  // After a snapshot is sealed, how long audit events of its pod are still added to it (as
  // addenda): the API server batches audit events for up to a minute.
  std::chrono::milliseconds lateness{std::chrono::seconds(45)};

  static void bind(core::SectionBinder<CorrelationSettings>& keys);
  core::Status validate() const { return {}; }
};

}  // namespace podmortem::policy
