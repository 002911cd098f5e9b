#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <mutex>
#include <stop_token>
#include <thread>

#include "nats_handles.h"
#include "nats_link.h"
#include "podmortem/policy/audit_journal.h"
#include "podmortem/stream/shared_stream.h"

namespace podmortem::stream {

// Reads the whole audit stream into this replica's indexer: an ordered consumer (no acks, in
// stream order; the client library recreates it after a gap), starting at now - audit.window,
// and after a lost subscription from the record after the last one read.
class AuditConsumer {
 public:
  // `streamReady`: the stream exists (set up by whoever made the link); reading waits for it.
  AuditConsumer(NatsLink& link, const StreamSettings& settings, std::chrono::milliseconds window,
                StreamMetrics& metrics, std::function<bool()> streamReady);
  ~AuditConsumer();  // stop()

  void start(StreamSink sink);
  void stop();

  // The backlog at start is indexed (latched), how much is left, and a gap while NATS is away.
  policy::AuditJournal::Progress progress() const;

 private:
  void run(std::stop_token stop);
  bool subscribe();
  // Whether the subscription still reads: not after a reconnect (its consumer may have lived
  // on the server that went), nor when its consumer is gone.
  bool stillReading();
  void dropSubscription(const char* why);
  void problem(const std::string& what, natsStatus status);
  void deliver(natsMsg* message);

  NatsLink& link_;
  const StreamSettings settings_;
  const std::chrono::milliseconds window_;
  StreamMetrics& metrics_;
  const std::function<bool()> streamReady_;
  StreamSink sink_;
  std::string lastProblem_;  // logged once, not at every retry
  const int64_t startedNanos_;

  JsContextPtr context_;         // the reading thread's own
  SubscriptionPtr subscription_;  // the reading thread's own
  uint64_t lastSequence_ = 0;    // stream sequence of the last record read
  uint64_t subscribedAtReconnect_ = 0;
  std::chrono::steady_clock::time_point lastChecked_;
  // When the consumer last showed it was alive: a record arrived, or its info answered.
  std::chrono::steady_clock::time_point lastAlive_;
  bool subscribedOnce_ = false;

  std::atomic<uint64_t> handed_{0};       // records handed to the indexer
  std::atomic<uint64_t> backlogEnd_{0};   // handed_ once the backlog at start is in
  std::atomic<bool> backlogKnown_{false};
  std::atomic<uint64_t> streamPending_{0};  // records after the last one read
  mutable std::atomic<bool> caughtUp_{false};
  std::jthread thread_;
};

}  // namespace podmortem::stream
