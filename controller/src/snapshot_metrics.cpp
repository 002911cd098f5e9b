#include "podmortem/controller/snapshot_metrics.h"

namespace podmortem::controller {

SnapshotMetrics::SnapshotMetrics(prometheus::Registry& registry)
    : snapshots(prometheus::BuildCounter()
                    .Name("podmortem_snapshots_total")
                    .Help("Evidence snapshots finished, by result (complete, partial, failed).")
                    .Register(registry)),
      duration(prometheus::BuildHistogram()
                   .Name("podmortem_snapshot_duration_seconds")
                   .Help("Time from the trigger to the bundle being written.")
                   .Register(registry)
                   .Add({}, prometheus::Histogram::BucketBoundaries{
                                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
                                5, 10, 20, 30, 60})),
      evidenceBytes(prometheus::BuildCounter()
                        .Name("podmortem_evidence_bytes_total")
                        .Help("Bytes of evidence bundles written.")
                        .Register(registry)
                        .Add({})),
      inProgress(prometheus::BuildGauge()
                     .Name("podmortem_snapshots_in_progress")
                     .Help("Captures started and not yet written.")
                     .Register(registry)
                     .Add({})),
      reused(prometheus::BuildCounter()
                 .Name("podmortem_snapshots_reused_total")
                 .Help("Triggers answered with a snapshot already taken or in progress for the "
                       "same pod, policy and trigger (API server retries, force deletes).")
                 .Register(registry)
                 .Add({})),
      addenda(prometheus::BuildCounter()
                  .Name("podmortem_evidence_addenda_total")
                  .Help("Addenda sealed to snapshots (audit events that arrived after the "
                        "snapshot), by result: written, failed.")
                  .Register(registry)) {
  for (const char* result : {"written", "failed"}) addenda.Add({{"result", result}});
}

}  // namespace podmortem::controller
