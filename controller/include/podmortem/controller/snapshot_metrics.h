#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace podmortem::controller {

// Every family the snapshot manager exports.
struct SnapshotMetrics {
  explicit SnapshotMetrics(prometheus::Registry& registry);

  prometheus::Family<prometheus::Counter>& snapshots;  // podmortem_snapshots_total{result}
  prometheus::Histogram& duration;                     // podmortem_snapshot_duration_seconds
  prometheus::Counter& evidenceBytes;                  // podmortem_evidence_bytes_total
  prometheus::Gauge& inProgress;                       // podmortem_snapshots_in_progress
  prometheus::Counter& reused;                         // podmortem_snapshots_reused_total
  // podmortem_evidence_addenda_total{result}: written, failed.
  prometheus::Family<prometheus::Counter>& addenda;
};

}  // namespace podmortem::controller
