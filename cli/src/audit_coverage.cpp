#include "audit_coverage.h"

#include "podmortem/core/timestamp.h"

namespace podmortem::cli {

namespace {

nlohmann::json timeOrNull(int64_t millis) {
  if (millis == 0) return nullptr;
  return core::formatTimestamp(std::chrono::system_clock::time_point(std::chrono::milliseconds(millis)));
}

}  // namespace

AuditCoverage auditCoverage(const AuditCoverageInput& input) {
  AuditCoverage coverage;
  const int64_t window = input.silentAfter.count();
  const bool admissionRecently =
      input.lastAdmissionMillis != 0 && input.nowMillis - input.lastAdmissionMillis <= window;
  const int64_t auditOrStart = std::max(input.lastAuditMillis, input.startedMillis);
  const bool auditRecently = input.lastAuditMillis != 0 && input.nowMillis - input.lastAuditMillis <= window;
  if (!input.ingestEnabled) {
    coverage.state = "off";
  } else if (admissionRecently && input.nowMillis - auditOrStart > window &&
             input.auditMayGoElsewhere) {
    coverage.state = "silent here";
  } else if (admissionRecently && input.nowMillis - auditOrStart > window) {
    coverage.state = "silent";
    int64_t seconds = (input.nowMillis - auditOrStart) / 1000;
    coverage.warning = "admission requests keep arriving but no audit event came for " +
                       std::to_string(seconds) +
                       " s: check the API server's audit webhook (--audit-webhook-config-file, "
                       "manifests/audit) and podmortem_audit_events_total{result=\"rejected_auth\"}";
  } else {
    coverage.state = auditRecently ? "receiving" : "idle";
  }
  coverage.detail = {{"state", coverage.state},
                     {"lastEventAt", timeOrNull(input.lastAuditMillis)},
                     {"lastAdmissionAt", timeOrNull(input.lastAdmissionMillis)}};
  if (input.lastAuditMillis != 0) {
    coverage.detail["secondsSinceLastEvent"] = (input.nowMillis - input.lastAuditMillis) / 1000;
  }
  return coverage;
}

}  // namespace podmortem::cli
