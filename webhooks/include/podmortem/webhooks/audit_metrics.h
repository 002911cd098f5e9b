#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace podmortem::webhooks {

// Every family the audit ingest exports.
struct AuditMetrics {
  explicit AuditMetrics(prometheus::Registry& registry);

  // podmortem_audit_events_total{result}: accepted, duplicate, malformed, oversized,
  // rejected_auth (requests refused before their events were read), dropped.
  prometheus::Family<prometheus::Counter>& events;
  prometheus::Family<prometheus::Counter>& batches;  // podmortem_audit_batches_total{code}
  prometheus::Gauge& queueDepth;                      // podmortem_audit_queue_depth
  prometheus::Gauge& queueCapacity;                   // podmortem_audit_queue_capacity
  prometheus::Histogram& ingestDuration;  // podmortem_audit_ingest_duration_seconds
  // podmortem_audit_last_event_timestamp_seconds: when a new audit event was last indexed
  // (0: none yet). The coverage check: admission goes on, audit stops, logging is off. Exported
  // only while audit ingest is on (trackLastEvent): with it off there is nothing to alert on.
  prometheus::Gauge* lastEvent = nullptr;
  void trackLastEvent(prometheus::Registry& registry);

  prometheus::Counter& result(const char* name) { return events.Add({{"result", name}}); }
};

}  // namespace podmortem::webhooks
