#include "podmortem/controller/kube_metrics.h"

namespace podmortem::controller {

KubeMetrics::KubeMetrics(prometheus::Registry& registry)
    : requests(prometheus::BuildCounter()
                   .Name("podmortem_kube_requests_total")
                   .Help("Kubernetes API requests, by verb, resource and HTTP status code "
                         "(\"error\" when no answer came).")
                   .Register(registry)),
      watchRestarts(prometheus::BuildCounter()
                        .Name("podmortem_kube_watch_restarts_total")
                        .Help("Watches started again, by resource and reason (closed: the "
                              "server ended the stream; expired: 410 Gone, relisted; error).")
                        .Register(registry)),
      leader(prometheus::BuildGauge()
                 .Name("podmortem_leader")
                 .Help("1 while this replica holds the leader lease (it writes policy status).")
                 .Register(registry)
                 .Add({})),
      records(prometheus::BuildCounter()
                  .Name("podmortem_evidence_records_total")
                  .Help("EvidenceSnapshot objects written to the API server, by result "
                        "(created, updated, failed).")
                  .Register(registry)),
      actions(prometheus::BuildCounter()
                  .Name("podmortem_actions_total")
                  .Help("Actions on suspect pods (labels, annotations, quarantine), by result.")
                  .Register(registry)) {}

}  // namespace podmortem::controller
