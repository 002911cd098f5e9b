#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "podmortem/controller/snapshot_manager.h"
#include "podmortem/controller/snapshot_metrics.h"
#include "podmortem/core/periodic_worker.h"
#include "podmortem/evidence/store.h"
#include "podmortem/policy/audit_event.h"
#include "podmortem/policy/correlation_window.h"

namespace podmortem::controller {

// Audit events of a captured pod that arrive after its snapshot was sealed (the API server
// batches audit events for up to a minute; an exec seen at admission is captured long before
// its audit events come) are sealed as addenda to the snapshot, for audit.lateness after it was
// sealed. Events already in the snapshot's trail are left out: the trail records how many events
// the window had indexed when it was taken, and each event's place in that count is known when
// it is indexed.
class AuditAddenda final : public SnapshotObserver {
 public:
  // An addendum just sealed, with what its snapshot was about.
  struct SealedAddendum {
    std::string snapshotId;
    const CaptureRequest& request;  // the snapshot's (pod, policy, severity, trigger)
    const evidence::AddendumRecord& addendum;
    std::string eventLines;         // the late audit events, one JSON object per line
  };

  struct Options {
    std::chrono::milliseconds lateness{std::chrono::seconds(45)};
    std::chrono::milliseconds flushInterval{std::chrono::seconds(1)};  // one addendum per flush
    // Told of each addendum sealed, with its events (the findings export); must not block.
    std::function<void(const SealedAddendum& sealed)> onSealed;
  };

  AuditAddenda(evidence::Store& store, const policy::CorrelationWindow& window,
               SnapshotMetrics& metrics, Options options);
  ~AuditAddenda() override;  // seals what is pending, then stops

  void started(const std::string& snapshotId, const CaptureRequest& request) override;
  void finished(const std::string& snapshotId, const CaptureRequest& request,
                const evidence::WriteResult& result, const nlohmann::json& manifestExtra) override;

  // An event just indexed (called by the audit indexer's worker, right after the window added
  // it, so that the window's count is this event's ordinal).
  void onEvent(const policy::AuditEvent& event, std::string_view raw);

  // Seals the pending events of every sealed snapshot now (the worker does so every interval).
  void flush();

 private:
  struct Watch {
    std::string snapshotId;
    core::PodIdentity pod;
    CaptureRequest request;  // without the pod object: what an addendum's finding repeats
    bool sealed = false;
    uint64_t trailThrough = 0;  // events indexed when the trail was taken
    std::chrono::steady_clock::time_point until = std::chrono::steady_clock::time_point::max();
    std::chrono::steady_clock::time_point startedAt = std::chrono::steady_clock::now();
    std::vector<std::pair<uint64_t, std::string>> pending;  // (ordinal, raw event)
  };

  void seal(Watch& watch, std::vector<std::pair<uint64_t, std::string>> events);

  evidence::Store& store_;
  const policy::CorrelationWindow& window_;
  SnapshotMetrics& metrics_;
  const Options options_;
  std::mutex mutex_;
  std::map<std::string, std::vector<std::shared_ptr<Watch>>> byPod_;  // "<namespace>/<name>"
  core::PeriodicWorker worker_;  // last: its ticks use everything above
};

}  // namespace podmortem::controller
