#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "podmortem/policy/audit_event.h"
#include "podmortem/policy/audit_journal.h"
#include "podmortem/policy/correlation_window.h"
#include "podmortem/webhooks/audit_metrics.h"

namespace podmortem::webhooks {

// Decodes audit records and indexes them into the correlation window, from a bounded queue (by
// batches and by bytes), on two threads: one decodes, one indexes, in arrival order. Each event
// new to the window is passed to `onEvent` with its exact bytes (audit triggers, addenda), on
// the indexing thread, right after it was added: the window's indexedTotal() is then that event's ordinal. Records come from the local journal
// (what this replica received) or from the shared stream (what every replica received).
class AuditIndexer {
 public:
  struct Options {
    size_t queueBatches = 64;
    // Bytes of queued bodies at most; one body is always taken, however large, so that a
    // maximum-size batch is never refused forever.
    size_t queueBytes = size_t{256} << 20;
    size_t maxEventBytes = 256 * 1024;
  };
  using EventSink = std::function<void(const policy::AuditEvent&, std::string_view raw)>;

  AuditIndexer(Options options, policy::CorrelationWindow& window, AuditMetrics& metrics,
               EventSink onEvent);
  ~AuditIndexer();  // indexes what is queued, then stops the threads

  // Queues a body; false when the queue is full (the caller answers 429).
  bool tryEnqueue(std::string body);
  // Queues a body, waiting for room (a stream consumer pauses instead of dropping); false only
  // when the indexer is stopping. Not `live`: history read back from the stream, whose events
  // fill the window but do not reach onEvent (the replicas that were up acted on them).
  bool enqueue(std::string body, bool live = true);
  // Queues a record podmortem wrote itself (an admission event): small and never refused.
  void enqueueOwn(std::string body);

  // When a new live audit event was last indexed, in ms since the epoch; 0 until the first.
  int64_t lastEventMillis() const;
  uint64_t batchesIndexed() const;  // records decoded and indexed since start (tests wait on it)

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// The journal of a replica alone (no stream.url): what it receives it indexes itself. A full
// indexer queue refuses a batch with kResourceExhausted, so the API server retries it later.
class LocalAuditJournal final : public policy::AuditJournal {
 public:
  explicit LocalAuditJournal(AuditIndexer& indexer) : indexer_(indexer) {}
  void append(Kind kind, std::string body, Stored stored) override;
  Progress progress() const override { return {}; }

 private:
  AuditIndexer& indexer_;
};

// The shared stream's journal (replicas together), with one fallback: an admission event this
// replica could not publish (NATS away) is indexed here anyway, so that its own correlation
// still sees the exec.
class StreamAuditJournal final : public policy::AuditJournal {
 public:
  StreamAuditJournal(policy::AuditJournal& stream, AuditIndexer& indexer)
      : stream_(stream), indexer_(indexer) {}
  void append(Kind kind, std::string body, Stored stored) override;
  size_t maxRecordBytes() const override { return stream_.maxRecordBytes(); }
  Progress progress() const override { return stream_.progress(); }

 private:
  policy::AuditJournal& stream_;
  AuditIndexer& indexer_;
};

}  // namespace podmortem::webhooks
