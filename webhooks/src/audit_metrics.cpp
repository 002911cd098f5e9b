#include "podmortem/webhooks/audit_metrics.h"

#include "podmortem/webhooks/http_metrics.h"

namespace podmortem::webhooks {

AuditMetrics::AuditMetrics(prometheus::Registry& registry)
    : events(prometheus::BuildCounter()
                 .Name("podmortem_audit_events_total")
                 .Help("Audit events received, by result: accepted, duplicate, malformed, "
                       "oversized, rejected_auth (requests), dropped.")
                 .Register(registry)),
      batches(prometheus::BuildCounter()
                  .Name("podmortem_audit_batches_total")
                  .Help("Audit webhook requests answered, by status code.")
                  .Register(registry)),
      queueDepth(prometheus::BuildGauge()
                     .Name("podmortem_audit_queue_depth")
                     .Help("Audit batches accepted and waiting to be indexed.")
                     .Register(registry)
                     .Add({})),
      queueCapacity(prometheus::BuildGauge()
                        .Name("podmortem_audit_queue_capacity")
                        .Help("Audit batches the queue holds at most (audit.queueBatches); more "
                              "are answered 429.")
                        .Register(registry)
                        .Add({})),
      ingestDuration(prometheus::BuildHistogram()
                         .Name("podmortem_audit_ingest_duration_seconds")
                         .Help("Time to decode and index one audit batch.")
                         .Register(registry)
                         .Add({}, latencyBuckets())) {
  for (const char* name :
       {"accepted", "duplicate", "malformed", "oversized", "rejected_auth", "dropped"}) {
    result(name);  // every result exported from the start, at 0
  }
}

void AuditMetrics::trackLastEvent(prometheus::Registry& registry) {
  if (lastEvent != nullptr) return;
  lastEvent = &prometheus::BuildGauge()
                   .Name("podmortem_audit_last_event_timestamp_seconds")
                   .Help("When this replica last indexed a new audit event, in seconds since the "
                         "epoch; 0 until the first. Admission requests without audit events mean "
                         "the API server's audit webhook is off or broken.")
                   .Register(registry)
                   .Add({});
}

}  // namespace podmortem::webhooks
