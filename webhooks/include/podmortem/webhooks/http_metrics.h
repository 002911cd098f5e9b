#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>
#include <string_view>

namespace podmortem::webhooks {

// Every family the HTTP servers export (webhook and metrics listeners share them).
struct HttpMetrics {
  explicit HttpMetrics(prometheus::Registry& registry);
  ~HttpMetrics();

  // One answered request: counted and timed without allocating (after the first of its kind).
  void observe(std::string_view handler, unsigned code, double seconds);

  prometheus::Family<prometheus::Counter>& requests;   // podmortem_http_requests_total{handler,code}
  prometheus::Family<prometheus::Histogram>& duration;  // podmortem_http_request_duration_seconds{handler}
  prometheus::Gauge& connections;                       // podmortem_http_connections
  prometheus::Counter& connectionsRejected;  // podmortem_http_connections_rejected_total
  // podmortem_http_connections_shed_total{reason}: closed to make room (capacity, per_address)
  prometheus::Family<prometheus::Counter>& connectionsShed;
  prometheus::Counter& tlsHandshakeFailures;  // podmortem_tls_handshake_failures_total
  prometheus::Counter& tlsReloads;            // podmortem_tls_certificate_reloads_total

 private:
  struct Children;
  std::unique_ptr<Children> children_;
};

// Latency buckets fine enough to see sub-millisecond answers, up to the 30 s webhook ceiling.
const prometheus::Histogram::BucketBoundaries& latencyBuckets();

}  // namespace podmortem::webhooks
