#pragma once

#include <memory>
#include <optional>
#include <string>

#include "podmortem/controller/cluster_metrics.h"
#include "podmortem/controller/collector.h"
#include "podmortem/controller/evidence_recorder.h"
#include "podmortem/kube/client.h"
#include "podmortem/kube/connection.h"
#include "podmortem/kube/metrics.h"
#include "podmortem/controller/pod_cache.h"
#include "podmortem/controller/policy_activity.h"
#include "podmortem/controller/evidence_recorder.h"
#include "podmortem/controller/snapshot_manager.h"
#include "podmortem/controller/settings.h"
#include "podmortem/kube/settings.h"
#include "podmortem/policy/label_selector.h"
#include "podmortem/policy/policy_store.h"

namespace podmortem::controller {

// Everything podmortem does with a Kubernetes API, behind one object the server wires in: the
// client, ForensicPolicy and Namespace watches, live collectors and actions, EvidenceSnapshot
// records, leader election and policy status. Absent in local mode.
class Kubernetes {
 public:
  struct Settings {
    kube::ClientSettings client;
    kube::LeaderElectionSettings leaderElection;
    ClusterSettings cluster;
  };

  Kubernetes(const Settings& settings, kube::Connection connection, kube::Metrics& metrics,
             ClusterMetrics& clusterMetrics, policy::PolicyStore& policies);
  ~Kubernetes();

  void start();  // watches, leader election, status writer
  void stop();

  kube::Client& client();
  const std::string& namespaceName() const;  // podmortem's own namespace
  const std::string& identity() const;       // this replica
  const std::string& server() const;

  // Replaces the local collectors with live ones.
  void addCollectors(CollectorRegistry& registry);
  // Records EvidenceSnapshots (null when kubernetes.evidenceRecords is false).
  std::shared_ptr<SnapshotObserver> recorder();
  // The same recorder, told of addenda (their ledger lines are anchored too); null without it.
  std::shared_ptr<EvidenceRecorder> evidenceRecorder();
  PolicyActivity& activity();
  std::optional<policy::Labels> namespaceLabels(std::string_view namespaceName) const;
  // A fresh GET of a pod, for triggers that name a pod no admission request showed; null when
  // it cannot be read.
  std::shared_ptr<const policy::PodRecord> lookupPod(const std::string& namespaceName,
                                                     const std::string& name);
  bool policiesSynced() const;  // ForensicPolicies and Namespaces listed at least once
  bool isLeader() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};


}  // namespace podmortem::controller
