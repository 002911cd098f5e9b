#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace podmortem::stream {

// Every family the shared audit stream and the capture claims export.
struct StreamMetrics {
  explicit StreamMetrics(prometheus::Registry& registry);

  prometheus::Gauge& connected;  // podmortem_stream_connected: 1 while a NATS server answers
  // podmortem_stream_publish_duration_seconds: publish to JetStream acknowledgement.
  prometheus::Histogram& publishDuration;
  // podmortem_stream_messages_published_total{kind}: batch, admission.
  prometheus::Family<prometheus::Counter>& published;
  // podmortem_stream_publish_failures_total{reason}: unavailable, timeout, rejected, full.
  prometheus::Family<prometheus::Counter>& publishFailures;
  prometheus::Gauge& lag;  // podmortem_stream_lag_messages: stored, not yet indexed here
  prometheus::Counter& delivered;  // podmortem_stream_messages_indexed_total
  // podmortem_stream_delivery_delay_seconds: JetStream storing a record to this replica
  // handing it to its indexer (publish on one replica to indexing on another).
  prometheus::Histogram& deliveryDelay;
  prometheus::Counter& consumerRestarts;  // podmortem_stream_consumer_restarts_total
  // podmortem_stream_claims_total{result}: won, lost, taken_over, unavailable.
  prometheus::Family<prometheus::Counter>& claims;

  prometheus::Counter& publishFailure(const char* reason) {
    return publishFailures.Add({{"reason", reason}});
  }
  prometheus::Counter& claim(const char* result) { return claims.Add({{"result", result}}); }
};

}  // namespace podmortem::stream
