#include "podmortem/stream/stream_metrics.h"

namespace podmortem::stream {

namespace {

// From a loopback round trip (about 100 µs) to a cross-zone RAFT commit under load.
const prometheus::Histogram::BucketBoundaries& ackBuckets() {
  static const prometheus::Histogram::BucketBoundaries buckets = {
      0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};
  return buckets;
}

}  // namespace

StreamMetrics::StreamMetrics(prometheus::Registry& registry)
    : connected(prometheus::BuildGauge()
                    .Name("podmortem_stream_connected")
                    .Help("1 while this replica is connected to a NATS server of stream.url.")
                    .Register(registry)
                    .Add({})),
      publishDuration(prometheus::BuildHistogram()
                          .Name("podmortem_stream_publish_duration_seconds")
                          .Help("Time from publishing an audit record to JetStream's "
                                "acknowledgement that it is stored.")
                          .Register(registry)
                          .Add({}, ackBuckets())),
      published(prometheus::BuildCounter()
                    .Name("podmortem_stream_messages_published_total")
                    .Help("Records stored in the audit stream by this replica, by kind: batch "
                          "(POST /audit), admission (an exec seen at admission).")
                    .Register(registry)),
      publishFailures(prometheus::BuildCounter()
                          .Name("podmortem_stream_publish_failures_total")
                          .Help("Records the audit stream did not store, by reason: "
                                "unavailable, timeout, rejected, full. The API server "
                                "retries the batch.")
                          .Register(registry)),
      lag(prometheus::BuildGauge()
              .Name("podmortem_stream_lag_messages")
              .Help("Records in the audit stream this replica has not indexed yet.")
              .Register(registry)
              .Add({})),
      delivered(prometheus::BuildCounter()
                    .Name("podmortem_stream_messages_indexed_total")
                    .Help("Records read from the audit stream into this replica's window.")
                    .Register(registry)
                    .Add({})),
      deliveryDelay(prometheus::BuildHistogram()
                        .Name("podmortem_stream_delivery_delay_seconds")
                        .Help("Time from JetStream storing a record to this replica handing it "
                              "to its indexer.")
                        .Register(registry)
                        .Add({}, ackBuckets())),
      consumerRestarts(prometheus::BuildCounter()
                           .Name("podmortem_stream_consumer_restarts_total")
                           .Help("Times this replica subscribed to the audit stream again "
                                 "(after a lost subscription), from where it stopped.")
                           .Register(registry)
                           .Add({})),
      claims(prometheus::BuildCounter()
                 .Name("podmortem_stream_claims_total")
                 .Help("Capture claims, by result: won (this replica captures), lost (another "
                       "does), taken_over (from a replica that stopped), unavailable (the "
                       "bucket could not say; captured here).")
                 .Register(registry)) {
  for (const char* kind : {"batch", "admission"}) published.Add({{"kind", kind}});
  for (const char* reason : {"unavailable", "timeout", "rejected", "full"}) publishFailure(reason);
  for (const char* result : {"won", "lost", "taken_over", "unavailable"}) claim(result);
}

}  // namespace podmortem::stream
