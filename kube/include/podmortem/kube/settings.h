#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "podmortem/core/config.h"

namespace podmortem::kube {

enum class Mode { kAuto, kNone, kInCluster, kKubeconfig };

// kubernetes.* of the API client: where the API server is and how hard to press it.
struct ClientSettings {
  Mode mode = Mode::kAuto;
  std::string kubeconfig;     // empty: $KUBECONFIG, then ~/.kube/config
  std::string context;        // empty: the kubeconfig's current-context
  std::string namespaceName;  // podmortem's own; empty: POD_NAMESPACE, the service account's, or
                              // podmortem-system
  std::string podName;        // this replica; empty: POD_NAME, else the host name
  double qps = 20;
  uint32_t burst = 40;
  std::chrono::milliseconds requestTimeout{std::chrono::seconds(10)};
  uint32_t clientThreads = 4;  // the HTTP client library's thread pool

  static void bind(core::SectionBinder<ClientSettings>& keys);
  core::Status validate() const { return {}; }
};

// leaderElection.*: the Lease that picks one replica for once-per-cluster work.
struct LeaderElectionSettings {
  bool enabled = true;
  std::string leaseName = "podmortem-leader";
  std::chrono::milliseconds leaseDuration{std::chrono::seconds(15)};
  std::chrono::milliseconds retryPeriod{std::chrono::seconds(2)};

  static void bind(core::SectionBinder<LeaderElectionSettings>& keys);
  core::Status validate() const;  // retryPeriod shorter than leaseDuration
};

// This replica's name: the configured one, else $POD_NAME, else the host name.
std::string replicaIdentity(const ClientSettings& settings);

}  // namespace podmortem::kube
