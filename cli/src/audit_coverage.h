#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace podmortem::cli {

// "Is audit logging on?": the API server calls the admission webhook for every pod deletion and
// exec, so admission requests with no audit events for a while mean its audit webhook is off or
// broken, and correlation silently sees nothing. What /readyz says about it.
struct AuditCoverageInput {
  bool ingestEnabled = true;
  int64_t nowMillis = 0;
  int64_t startedMillis = 0;        // a new replica is given silentAfter before it warns
  int64_t lastAdmissionMillis = 0;  // 0: none since start
  int64_t lastAuditMillis = 0;      // 0: none since start
  std::chrono::milliseconds silentAfter{std::chrono::minutes(5)};
  // Several replicas without the shared stream: the API server's audit batches may all go to
  // another replica, so this one's silence proves nothing (the alert looks at every replica).
  bool auditMayGoElsewhere = false;
};

struct AuditCoverage {
  // off (audit.auth not set), receiving, silent (admission yes, audit no), idle (neither),
  // silent here (silent, but audit may reach another replica: no warning).
  std::string state;
  std::string warning;  // set when silent
  nlohmann::json detail;
};

AuditCoverage auditCoverage(const AuditCoverageInput& input);

}  // namespace podmortem::cli
