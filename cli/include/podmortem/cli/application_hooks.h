#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "podmortem/controller/collector.h"
#include "podmortem/policy/audit_event.h"

namespace podmortem::cli {

// What an integration test may replace in an otherwise real server. Empty in production.
struct ApplicationHooks {
  // Registered over the built-in collectors of the same name (e.g. one that hangs).
  std::vector<std::shared_ptr<controller::Collector>> collectors;
  // Called on the audit ingest worker for each newly indexed event, before audit triggers run
  // (a test can hold the worker here to fill the queue).
  std::function<void(const policy::AuditEvent&)> auditEventObserver;
};

}  // namespace podmortem::cli
