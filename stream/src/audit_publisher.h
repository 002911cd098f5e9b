#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <unordered_map>

#include "nats_handles.h"
#include "nats_link.h"
#include "podmortem/policy/audit_journal.h"
#include "podmortem/stream/settings.h"
#include "podmortem/stream/stream_metrics.h"

namespace podmortem::stream {

// The journal as the stream keeps it: each record published to JetStream without waiting, and
// its Stored callback run from the library's acknowledgement (or its timeout). The message id
// is the SHA-256 of the record, so the API server's retry of a batch JetStream already stored is
// acknowledged again and stored once.
class AuditPublisher final : public policy::AuditJournal {
 public:
  using ProgressSource = std::function<Progress()>;

  AuditPublisher(NatsLink& link, const StreamSettings& settings, StreamMetrics& metrics,
                 ProgressSource progress);
  ~AuditPublisher() override;

  // Makes the JetStream context once the link is connected; ok when already made.
  core::Status attach();
  // Refuses new records and answers those still waiting "unavailable".
  void stop();

  void append(Kind kind, std::string body, Stored stored) override;
  Progress progress() const override { return progress_(); }
  size_t maxRecordBytes() const override;

 private:
  struct Pending {
    Stored stored;
    std::chrono::steady_clock::time_point started;
    bool admission = false;
  };
  static void onAck(jsCtx*, natsMsg* message, jsPubAck* ack, jsPubAckErr* error, void* self);
  void acknowledged(natsMsg* message, jsPubAck* ack, jsPubAckErr* error);
  void fail(const Stored& stored, const char* reason, core::ErrorCode code, std::string message);

  NatsLink& link_;
  const StreamSettings settings_;
  StreamMetrics& metrics_;
  const ProgressSource progress_;
  std::mutex contextMutex_;
  JsContextPtr context_;
  std::atomic<jsCtx*> js_{nullptr};
  std::mutex mutex_;
  std::unordered_map<natsMsg*, Pending> pending_;
  bool stopped_ = false;
};

}  // namespace podmortem::stream
