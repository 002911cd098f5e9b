#include "podmortem/controller/cluster_metrics.h"

namespace podmortem::controller {

ClusterMetrics::ClusterMetrics(prometheus::Registry& registry)
    : records(prometheus::BuildCounter()
                  .Name("podmortem_evidence_records_total")
                  .Help("EvidenceSnapshot objects written to the API server, by result "
                        "(created, updated, failed, dropped).")
                  .Register(registry)),
      actions(prometheus::BuildCounter()
                  .Name("podmortem_actions_total")
                  .Help("Actions on suspect pods (labels, annotations, quarantine), by result.")
                  .Register(registry)),
      downloads(prometheus::BuildCounter()
                    .Name("podmortem_evidence_downloads_total")
                    .Help("Evidence downloads: EvidenceDownloads answered (issued, presigned, failed) and "
                          "GET /evidence/{id} (served, refused).")
                    .Register(registry)) {}

}  // namespace podmortem::controller
