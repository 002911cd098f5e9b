#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/registry.h>

namespace podmortem::controller {

// Every family of what the controller does to the cluster (records and actions).
struct ClusterMetrics {
  explicit ClusterMetrics(prometheus::Registry& registry);

  // podmortem_evidence_records_total{result}: EvidenceSnapshot writes (created, updated, failed,
  // dropped).
  prometheus::Family<prometheus::Counter>& records;
  // podmortem_actions_total{action,result}: labels, annotations, quarantine on suspect pods.
  prometheus::Family<prometheus::Counter>& actions;
  // podmortem_evidence_downloads_total{result}: EvidenceDownloads answered (issued, presigned,
  // failed) and GET /evidence/{id} (served, refused).
  prometheus::Family<prometheus::Counter>& downloads;
};

}  // namespace podmortem::controller
