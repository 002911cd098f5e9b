#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "podmortem/controller/capture.h"
#include "podmortem/controller/collector.h"
#include "podmortem/evidence/store.h"
#include "podmortem/controller/snapshot_metrics.h"

namespace podmortem::controller {

// What a sealed snapshot came to.
struct SnapshotOutcome {
  std::string snapshotId;
  evidence::WriteResult result;
  size_t artifactsStored = 0;  // artifacts without an error
  size_t artifactsTotal = 0;   // every artifact recorded, stored or not
  bool cutShort = false;       // sealed at its deadline (or a stop) before every collector was done
};

using SnapshotCallback = std::function<void(const SnapshotOutcome&)>;

// Told when a capture starts and when its bundle is written (EvidenceSnapshot records). Must not
// block: started() runs on the caller of capture(), finished() on a bundle writer.
class SnapshotObserver {
 public:
  virtual ~SnapshotObserver() = default;
  virtual void started(const std::string& snapshotId, const CaptureRequest& request) = 0;
  // `manifestExtra`: what collectors added to the manifest ("actions", "auditTrail", ...).
  virtual void finished(const std::string& snapshotId, const CaptureRequest& request,
                        const evidence::WriteResult& result, const nlohmann::json& manifestExtra) = 0;
};

// Runs captures off the request threads: each collector on a worker, bounded by a deadline, then
// the bundle written by the evidence store. Deduplicates by key, so that the API server calling
// the webhook several times for one deletion yields one snapshot.
class SnapshotManager {
 public:
  struct Options {
    unsigned workers = 4;
    // How long a finished capture is remembered for deduplication: longer than the API server's
    // retries and a graceful delete's grace period in practice, as long as the replicas' claims
    // (SharedCaptures), and short enough that the memory it takes stays small under load.
    std::chrono::milliseconds rememberFor{std::chrono::minutes(10)};
    size_t rememberAtMost = 100'000;
    std::vector<std::shared_ptr<SnapshotObserver>> observers;  // told in this order
  };

  SnapshotManager(evidence::Store& store, CollectorRegistry collectors, SnapshotMetrics& metrics,
                  Options options);
  ~SnapshotManager();  // waits for running captures' workers

  // Starts the capture for request.key(), or joins the one already running or finished for it.
  // `done` runs once the bundle is written (or at once when it already was), on a worker thread.
  // A caller joining a finished capture gets what answers it (id, phase, reason, counts and the
  // failed artifacts), not the records of the stored artifacts: those are in the manifest.
  // Collectors still running at `deadline` are recorded as timed out and the bundle is written
  // without them (Partial). `snapshotId`: the id to capture under (one a claim named); empty:
  // a new one.
  CaptureTicket capture(CaptureRequest request, std::chrono::steady_clock::time_point deadline,
                        SnapshotCallback done, std::string snapshotId = {});

  // Runs blocking work that leads to a capture (an API lookup of the pod) on a capture worker,
  // so that the thread that found it (the audit ingest worker) never waits on the API server.
  void runInBackground(std::function<void()> work);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace podmortem::controller
