#include "podmortem/webhooks/http_metrics.h"

#include <charconv>

#include "metric_children.h"

namespace podmortem::webhooks {

const prometheus::Histogram::BucketBoundaries& latencyBuckets() {
  static const prometheus::Histogram::BucketBoundaries buckets = {
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
      0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10,  30};
  return buckets;
}

struct HttpMetrics::Children {
  explicit Children(HttpMetrics& metrics)
      : requests({"handler", "code"},
                 [&metrics](const prometheus::Labels& labels) -> prometheus::Counter& {
                   return metrics.requests.Add(labels);
                 }),
        duration({"handler"}, [&metrics](const prometheus::Labels& labels) -> prometheus::Histogram& {
          return metrics.duration.Add(labels, latencyBuckets());
        }) {}

  MetricChildren<prometheus::Counter> requests;
  MetricChildren<prometheus::Histogram> duration;
};

HttpMetrics::HttpMetrics(prometheus::Registry& registry)
    : requests(prometheus::BuildCounter()
                   .Name("podmortem_http_requests_total")
                   .Help("HTTP requests answered, by handler and status code.")
                   .Register(registry)),
      duration(prometheus::BuildHistogram()
                   .Name("podmortem_http_request_duration_seconds")
                   .Help("Time from a complete request to its answer being written, by handler.")
                   .Register(registry)),
      connections(prometheus::BuildGauge()
                      .Name("podmortem_http_connections")
                      .Help("Connections open on the HTTP listeners.")
                      .Register(registry)
                      .Add({})),
      connectionsRejected(prometheus::BuildCounter()
                              .Name("podmortem_http_connections_rejected_total")
                              .Help("New connections closed at accept because every open one "
                                    "was busy with a request (limits.maxConnections).")
                              .Register(registry)
                              .Add({})),
      connectionsShed(prometheus::BuildCounter()
                          .Name("podmortem_http_connections_shed_total")
                          .Help("Connections that had not sent a whole request (or were idle) "
                                "closed to make room for a new one, by reason: capacity "
                                "(limits.maxConnections) or per_address "
                                "(limits.maxConnectionsPerAddress).")
                          .Register(registry)),
      tlsHandshakeFailures(prometheus::BuildCounter()
                               .Name("podmortem_tls_handshake_failures_total")
                               .Help("TLS handshakes that failed or timed out.")
                               .Register(registry)
                               .Add({})),
      tlsReloads(prometheus::BuildCounter()
                     .Name("podmortem_tls_certificate_reloads_total")
                     .Help("Times the serving certificate was reloaded from changed files.")
                     .Register(registry)
                     .Add({})),
      children_(std::make_unique<Children>(*this)) {
  // Present from the start, so that rate() over them works before the first flood.
  for (const char* reason : {"capacity", "per_address"}) connectionsShed.Add({{"reason", reason}});
}

HttpMetrics::~HttpMetrics() = default;

void HttpMetrics::observe(std::string_view handler, unsigned code, double seconds) {
  char digits[16];
  auto end = std::to_chars(digits, digits + sizeof digits, code).ptr;
  children_->requests.get({handler, std::string_view(digits, static_cast<size_t>(end - digits))})
      .Increment();
  children_->duration.get({handler}).Observe(seconds);
}

}  // namespace podmortem::webhooks
