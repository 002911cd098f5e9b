#pragma once

#include <memory>

#include "podmortem/controller/capture.h"
#include "podmortem/controller/pod_cache.h"
#include "podmortem/controller/snapshot_manager.h"
#include "podmortem/policy/capture_claims.h"

namespace podmortem::controller {

class SharedCaptures;

// Capture as the server runs it: the snapshot manager's captures and the pod cache behind the
// Capture interface, with the outcome turned into the warning the user sees. With `claims`
// (replicas sharing a stream), one replica captures per deletion and the others answer with its
// snapshot.
class CaptureService final : public Capture {
 public:
  CaptureService(SnapshotManager& snapshots, PodCache& pods,
                 policy::CaptureClaims* claims = nullptr);
  ~CaptureService() override;

  CaptureTicket capture(policy::CaptureRequest request,
                        std::chrono::steady_clock::time_point deadline,
                        CaptureCallback done) override;
  std::shared_ptr<const policy::PodRecord> findPod(std::string_view namespaceName,
                                                   std::string_view name) const override;
  void rememberPod(policy::PodRecord pod) override;

  // Waits for claims being decided (they may still start captures): before the snapshot
  // manager stops.
  void drain();

 private:
  CaptureTicket captureHere(policy::CaptureRequest request,
                            std::chrono::steady_clock::time_point deadline, CaptureCallback done,
                            std::string snapshotId);

  SnapshotManager& snapshots_;
  PodCache& pods_;
  std::unique_ptr<SharedCaptures> shared_;  // null: this replica alone
};

// The one-line warning for a sealed snapshot: id, policy, how many artifacts, and a short reason
// ("2 collectors need a Kubernetes API", "no space on the evidence volume").
std::string warningFor(const SnapshotOutcome& outcome, const std::string& policyName);
// Why a bundle is not complete, in a few words a client may see (no paths, no errno text).
std::string clientReason(const evidence::WriteResult& result);

}  // namespace podmortem::controller
