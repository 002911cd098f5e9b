#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "podmortem/policy/audit_journal.h"
#include "podmortem/policy/capture_claims.h"
#include "podmortem/stream/settings.h"
#include "podmortem/stream/stream_metrics.h"

namespace podmortem::stream {

// Where records read from the stream go: this replica's audit indexer.
struct StreamSink {
  // Queues one record, waiting for room; false once the indexer stops. `live`: stored after
  // this replica started reading (minus a margin), so its audit triggers should run; older
  // records only rebuild the window (the replicas that were up ran their triggers).
  std::function<bool(std::string body, bool live)> deliver;
  // Records indexed so far (to tell when the replayed backlog is in the window).
  std::function<uint64_t()> indexed;
};

// Replicas sharing one audit stream and one set of capture claims on NATS JetStream (DESIGN.md,
// "With several replicas"). Audit batches and admission events are published to the stream and
// acknowledged only once stored; every replica reads the whole stream, from now - audit.window
// at start, into its own correlation window; capture keys are claimed in a key-value bucket so
// that one replica captures per deletion. The rest of podmortem sees only policy::AuditJournal
// and policy::CaptureClaims.
class SharedStream {
 public:
  struct Options {
    StreamSettings settings;
    std::chrono::milliseconds window{std::chrono::minutes(30)};  // the stream's max age
    std::string replica;  // this replica's name, written into its claims
    // Claims outlive the longest hold by this much: enough for a follower to read an outcome.
    std::chrono::milliseconds claimTtl{std::chrono::seconds(60)};
  };

  // Connects to NATS and creates the stream and the claims bucket if they are missing. Throws
  // core::ConfigError when an existing stream or bucket cannot be used (a different subject or
  // retention): the operator must fix it, and serve exits 2. When no server answers within
  // stream.connectTimeout it returns anyway and keeps trying: until a server answers, /audit
  // answers 503 and captures go on with this replica's own window.
  static std::unique_ptr<SharedStream> open(Options options, StreamMetrics& metrics);
  virtual ~SharedStream() = default;

  // Starts reading the stream into `sink` (once the indexer exists).
  virtual void startReading(StreamSink sink) = 0;
  // Stops reading and publishing; records not yet acknowledged are answered "unavailable".
  virtual void stop() = 0;

  virtual policy::AuditJournal& journal() = 0;
  virtual policy::CaptureClaims& claims() = 0;

  struct Health {
    bool connected = false;
    bool caughtUp = false;  // the backlog at start is indexed
    uint64_t lagMessages = 0;
    std::string problem;  // why the stream cannot be used, when it cannot
  };
  virtual Health health() const = 0;
};

}  // namespace podmortem::stream
