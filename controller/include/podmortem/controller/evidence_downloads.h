#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "podmortem/controller/cluster_metrics.h"
#include "podmortem/core/periodic_worker.h"
#include "podmortem/kube/client.h"
#include "podmortem/kube/informer.h"

namespace podmortem::controller {

// Answers EvidenceDownloads (`kubectl podmortem get`), after Velero's DownloadRequest: Kubernetes
// RBAC decides who may create one, the API server's audit log records who did, and podmortem
// gives the creator a way to the bundle that is good for minutes. The replica that holds the
// bundle writes into the object's status a single-use token for GET /evidence/{id} on its
// download port (or, for a bundle whose artifacts are only in S3, pre-signed GET URLs), with the
// bundle's manifest SHA-256 to check the download against. Status is written with the object's
// resourceVersion, so with a shared volume one replica answers and the others' tokens are
// dropped. Expired objects are deleted; so are those nobody could answer for ten minutes.
class EvidenceDownloads {
 public:
  struct Options {
    std::string namespaceName = "podmortem-system";
    std::string replica;      // this pod's name: status.replica, and the pod proxy's target
    std::string evidenceDir;  // evidence.dir (with perReplica, the parent of the replicas' folders)
    std::chrono::milliseconds tokenTtl{std::chrono::minutes(5)};
    uint64_t maxBundleBytes = uint64_t{256} << 20;  // larger bundles are refused, not archived
    // An answered object stays this long after it expired, so that its creator can read why.
    std::chrono::milliseconds expiredGrace{std::chrono::minutes(1)};
    // Pre-signed GET URLs, by bundle-relative path, of a bundle in S3 (its s3:// URL) valid for
    // `ttl`; unset without an S3 store. An error says why none could be made.
    std::function<core::Result<std::vector<std::pair<std::string, std::string>>>(
        const std::string& url, const std::vector<std::string>& paths, std::chrono::seconds ttl)>
        presign;
  };

  // What GET /evidence/{id} answers.
  struct Answer {
    unsigned status = 200;
    std::string body;  // the bundle as a tar archive, or a JSON error
    std::string contentType = "application/json";
    std::string snapshotId;
  };

  EvidenceDownloads(kube::Client& client, Options options, ClusterMetrics& metrics, kube::Metrics* kubeMetrics);
  ~EvidenceDownloads();

  // The port the pod proxy reaches the download server on, once it is bound; before start().
  void setDownloadPort(uint16_t port) { downloadPort_ = port; }
  void start();
  void stop();

  // GET /evidence/{id} with the token of an EvidenceDownload (header X-Podmortem-Token): the
  // bundle as a tar archive, once; a token that is unknown, used, expired or for another
  // snapshot gets 401 and nothing (and one tried on another snapshot is spent).
  Answer serve(const std::string& snapshotId, const std::string& token);

  // Answers and cleans up what the informer has; the periodic pass and tests call it.
  void reconcile();

 private:
  struct Grant {
    std::string snapshotId;
    std::string bundleDir;
    std::string downloadName;  // the EvidenceDownload, for the log line of the download
    std::chrono::system_clock::time_point expires;
  };

  void answer(const nlohmann::json& download);
  // Ready with pre-signed GET URLs of `paths` (and of `optional` ones, which may be absent) below
  // the bundle's s3:// `url`; Failed when they cannot be signed.
  void answerFromS3(const nlohmann::json& download, nlohmann::json status, const std::string& url,
                    const std::vector<std::string>& paths, const std::vector<std::string>& optional);
  // The bundle's folder on this replica's volume, or "" when it is not here.
  std::string localBundle(const nlohmann::json& snapshot) const;
  bool patchStatus(const nlohmann::json& download, const nlohmann::json& status);
  void remove(const nlohmann::json& download, const char* why);

  kube::Client& client_;
  const Options options_;
  ClusterMetrics& metrics_;
  std::unique_ptr<kube::Informer> informer_;

  mutable std::mutex mutex_;
  std::vector<nlohmann::json> objects_;        // the informer's latest view
  std::map<std::string, Grant> grants_;        // SHA-256 of a token -> what it grants
  std::set<std::string> answered_;             // uids this replica answered (status may lag)
  std::atomic<uint16_t> downloadPort_{0};
  core::PeriodicWorker worker_;  // last: its thread uses everything above
};

}  // namespace podmortem::controller
