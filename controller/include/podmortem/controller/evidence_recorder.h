#pragma once

#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "podmortem/kube/client.h"
#include "podmortem/controller/cluster_metrics.h"
#include "podmortem/controller/snapshot_manager.h"
#include "podmortem/core/periodic_worker.h"

namespace podmortem::controller {

// Records each snapshot as an EvidenceSnapshot object in podmortem's own namespace, where the
// users of the watched namespaces cannot delete it: created when the capture starts (phase
// Pending until its status is written, then Capturing), its status completed with phase,
// artifacts, sizes, SHA-256s, bundle location and manifest digest when the bundle is written.
//
// The API calls run on one thread of their own, in order, so the admission answer never waits
// for them; each is retried with backoff for a while, then dropped and counted as failed. The
// bundle on disk and its ledger entry stay the record of truth either way.
class EvidenceRecorder final : public SnapshotObserver {
 public:
  struct Options {
    std::string namespaceName = "podmortem-system";
    std::string replica;  // this replica's name, written to spec.replica
    size_t queueLimit = 10'000;
    int attempts = 5;
    std::chrono::milliseconds initialBackoff{std::chrono::milliseconds(200)};
  };

  EvidenceRecorder(kube::Client& client, Options options, ClusterMetrics* metrics);
  ~EvidenceRecorder() override;  // writes what is queued (each call is bounded), then stops

  void started(const std::string& snapshotId, const CaptureRequest& request) override;
  void finished(const std::string& snapshotId, const CaptureRequest& request,
                const evidence::WriteResult& result, const nlohmann::json& manifestExtra) override;

  // The bundle is wholly in object storage: status.bundle.location becomes its s3:// URL.
  void bundleUploaded(const std::string& snapshotId, const std::string& url);

  // An addendum sealed: its custody-ledger line is anchored in status.custody.addenda.<n>.
  void addendumSealed(const std::string& snapshotId, const CaptureRequest& request,
                      const evidence::AddendumRecord& addendum);

  // status.custody: the ledger line of the bundle (or addendum), recorded outside the volume so
  // that `podmortem verify --against-cluster` finds a truncated ledger or a replaced volume.
  static nlohmann::json custodyOf(const evidence::LedgerAnchor& anchor);

  // The object a snapshot is recorded as (spec and metadata), and its final status.
  nlohmann::json objectFor(const std::string& snapshotId, const CaptureRequest& request) const;
  static nlohmann::json statusFor(const evidence::WriteResult& result, const nlohmann::json& manifestExtra,
                                  std::chrono::system_clock::time_point started);

 private:
  struct Work {
    std::string snapshotId;
    std::string method;  // POST (create) or PATCH (status)
    std::string path;
    nlohmann::json body;
    nlohmann::json object;  // for a status patch: the object to create if it is not there
  };
  void enqueue(Work work);
  // Sends what is queued, in order. Once `stop` is requested, one attempt each.
  void drain(std::stop_token stop);
  bool perform(const Work& work);
  std::string collectionPath() const;

  kube::Client& client_;
  const Options options_;
  ClusterMetrics* metrics_;
  std::mutex mutex_;
  std::deque<Work> queue_;
  core::PeriodicWorker worker_;  // last: its thread uses everything above
};

}  // namespace podmortem::controller
