#include "podmortem/kube/metrics.h"

namespace podmortem::kube {

Metrics::Metrics(prometheus::Registry& registry)
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
                 .Add({})) {}

}  // namespace podmortem::kube
