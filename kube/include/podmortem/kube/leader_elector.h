#pragma once

#include <atomic>
#include <chrono>
#include <string>

#include "podmortem/core/periodic_worker.h"
#include "podmortem/kube/client.h"
#include "podmortem/kube/metrics.h"

namespace podmortem::kube {

// Lease-based leader election (coordination.k8s.io/v1), as client-go does it: the holder renews
// the Lease every retryPeriod; another replica takes it over once it has seen the same record
// unchanged for leaseDuration, measured on its own clock (so clock skew between nodes does not
// matter); updates carry the resourceVersion, so two candidates cannot both win. Only work that
// must happen once per cluster (policy status) waits for it; capture runs on every replica.
class LeaderElector {
 public:
  struct Options {
    std::string namespaceName;
    std::string leaseName = "podmortem-leader";
    std::string identity;  // this replica (its pod name)
    std::chrono::milliseconds leaseDuration{std::chrono::seconds(15)};
    std::chrono::milliseconds retryPeriod{std::chrono::seconds(2)};
  };

  LeaderElector(Client& client, Options options, Metrics* metrics);
  ~LeaderElector();  // stops, releasing the lease when held

  void start();
  void stop();
  bool isLeader() const { return leader_; }

  // One round: take the lease if it is free or expired, renew it if it is ours. Returns whether
  // this replica holds it afterwards. (The thread calls this every retryPeriod.)
  bool tryAcquireOrRenew();

 private:
  void release();
  void setLeader(bool leader);

  Client& client_;
  const Options options_;
  Metrics* metrics_;
  std::atomic<bool> leader_{false};
  std::chrono::steady_clock::time_point lastRenewed_{};
  std::string observedRecord_;  // holder + renewTime as last read
  std::chrono::steady_clock::time_point observedAt_{};
  core::PeriodicWorker worker_;  // last: its thread uses everything above
};

}  // namespace podmortem::kube
