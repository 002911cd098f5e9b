#pragma once

#include <string>
#include <vector>

#include "podmortem/evidence/verifier.h"

namespace podmortem::cli {

// Where `podmortem verify --against-cluster` reads the anchors of a ledger: the EvidenceSnapshots
// in podmortem's namespace (status.custody, status.custody.addenda).
struct ClusterSource {
  std::string kubeconfig;  // empty: $KUBECONFIG, then ~/.kube/config
  std::string context;
  std::string namespaceName;  // empty: the context's, then podmortem-system
  std::string replica;        // whose ledger; empty: found from the ledger's own anchors
};

struct ClusterAnchors {
  std::vector<evidence::LedgerAnchorRecord> anchors;  // the replica's
  std::string replica;
  std::string namespaceName;
};

// Lists the EvidenceSnapshots and keeps the anchors of one replica's ledger: `source.replica`,
// else the replica whose anchors name `ledgerId` (this ledger's first line), else the only
// replica there is. Throws std::runtime_error saying what went wrong (no API, 403, several
// replicas and none named).
ClusterAnchors fetchClusterAnchors(const ClusterSource& source, const std::string& ledgerId);

}  // namespace podmortem::cli
