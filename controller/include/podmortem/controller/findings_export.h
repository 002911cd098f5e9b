#pragma once

#include <prometheus/registry.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "podmortem/controller/audit_addenda.h"
#include "podmortem/controller/settings.h"
#include "podmortem/controller/snapshot_manager.h"
#include "podmortem/core/pod_identity.h"
#include "podmortem/policy/capture_request.h"

namespace podmortem::controller {

// Findings for the SOC: every sealed snapshot, every addendum of late audit events and every
// policy firing that captured nothing becomes an OCSF Detection Finding (class 2004), written to
// a durable outbox on the evidence volume and delivered from there to each of export.sinks
// (http, splunk-hec, syslog) at least once, in order, with an idempotency key per finding.
class FindingsExport final : public SnapshotObserver {
 public:
  struct Options {
    ExportSettings settings;
    std::string outboxDir;
    // Where the outboxes of other replicas sharing the volume are: <orphansRoot>/*/.outbox. One
    // no live process holds (its replica was replaced) is taken over and delivered. Empty: none.
    std::string orphansRoot;
    std::string replica;  // the host name sinks are told; "podmortem" when empty
  };

  // Throws std::runtime_error when the outbox cannot be made or is another process's, or a syslog
  // sink's TLS files cannot be read (the HTTP sinks' show at their first delivery).
  FindingsExport(Options options, prometheus::Registry& registry);
  ~FindingsExport() override;  // writes what is queued into the outbox, then stops the sinks

  void started(const std::string&, const CaptureRequest&) override {}
  void finished(const std::string& snapshotId, const CaptureRequest& request,
                const evidence::WriteResult& result, const nlohmann::json& manifestExtra) override;

  // Late audit events sealed as an addendum of a snapshot: an update of its finding.
  void addendumSealed(const AuditAddenda::SealedAddendum& sealed);

  // A policy fired and nothing was captured: `what` says why ("dry run", "match only").
  void firedWithoutCapture(const policy::CaptureRequest& request, std::string what);

  struct SinkState {
    std::string name;
    size_t pending = 0;
    double oldestPendingSeconds = 0;  // 0 when nothing is pending
    std::string lastError;            // empty once a delivery went through
  };
  std::vector<SinkState> sinks() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace podmortem::controller
