#include "audit_publisher.h"

#include <vector>

#include "podmortem/core/log.h"
#include "podmortem/core/sha256.h"
#include "stream_setup.h"

namespace podmortem::stream {

namespace log = core::log;
using Clock = std::chrono::steady_clock;

namespace {

// Records published and not yet acknowledged, at most; more are refused (429) rather than
// queued without bound while JetStream is slow.
constexpr size_t kMaxInFlight = 16'384;
// Room left in a message for its headers (the message id).
constexpr int64_t kHeaderRoom = 1024;

}  // namespace

AuditPublisher::AuditPublisher(NatsLink& link, const StreamSettings& settings,
                               StreamMetrics& metrics, ProgressSource progress)
    : link_(link), settings_(settings), metrics_(metrics), progress_(std::move(progress)) {}

AuditPublisher::~AuditPublisher() { stop(); }

core::Status AuditPublisher::attach() {
  std::lock_guard lock(contextMutex_);
  if (context_) return {};
  if (link_.connection() == nullptr) {
    return core::makeError(core::ErrorCode::kUnavailable, "not connected to NATS");
  }
  jsOptions options;
  jsOptions_Init(&options);
  options.Wait = settings_.ackTimeout.count();
  options.PublishAsync.MaxPending = kMaxInFlight + 1024;
  options.PublishAsync.AckHandler = &AuditPublisher::onAck;
  options.PublishAsync.AckHandlerClosure = this;
  options.PublishAsync.StallWait = 10;  // never reached: append() refuses first
  jsCtx* raw = nullptr;
  if (natsStatus s = natsConnection_JetStream(&raw, link_.connection(), &options); s != NATS_OK) {
    return natsFailure("JetStream context", s);
  }
  context_.reset(raw);
  js_ = raw;
  return {};
}

size_t AuditPublisher::maxRecordBytes() const {
  int64_t payload = link_.maxPayload();
  return payload > kHeaderRoom ? static_cast<size_t>(payload - kHeaderRoom) : 0;
}

void AuditPublisher::fail(const Stored& stored, const char* reason, core::ErrorCode code,
                          std::string message) {
  metrics_.publishFailure(reason).Increment();
  stored(core::makeError(code, std::move(message)));
}

void AuditPublisher::append(Kind kind, std::string body, Stored stored) {
  jsCtx* js = js_.load();
  if (js == nullptr || !link_.connected()) {
    return fail(stored, "unavailable", core::ErrorCode::kUnavailable, "NATS is not reachable");
  }
  const bool admission = kind == Kind::kAdmissionEvent;
  const std::string subject =
      admission ? admissionSubject(settings_.name) : batchSubject(settings_.name);
  natsMsg* raw = nullptr;
  if (natsStatus s = natsMsg_Create(&raw, subject.c_str(), nullptr, body.data(),
                                    static_cast<int>(body.size()));
      s != NATS_OK) {
    return fail(stored, "rejected", core::ErrorCode::kInternal, natsError(s));
  }
  NatsMsgPtr message(raw);
  {
    std::lock_guard lock(mutex_);
    if (stopped_) {
      return fail(stored, "unavailable", core::ErrorCode::kUnavailable, "the server is stopping");
    }
    if (pending_.size() >= kMaxInFlight) {
      return fail(stored, "full", core::ErrorCode::kResourceExhausted,
                  "too many audit records wait for JetStream");
    }
    // Registered before publishing: the acknowledgement may arrive before js_PublishMsgAsync
    // returns.
    pending_.emplace(raw, Pending{stored, Clock::now(), admission});
  }
  const std::string id = core::sha256Hex(body);
  jsPubOptions options;
  jsPubOptions_Init(&options);
  options.MsgId = id.c_str();
  options.MaxWait = settings_.ackTimeout.count();
  natsMsg* handedOver = message.release();
  natsStatus s = js_PublishMsgAsync(js, &handedOver, &options);
  if (s == NATS_OK) return;
  // Not taken by the library: still ours.
  NatsMsgPtr refused(handedOver);
  bool stillPending = false;
  {
    std::lock_guard lock(mutex_);
    stillPending = pending_.erase(raw) == 1;
  }
  if (stillPending) fail(stored, "unavailable", core::ErrorCode::kUnavailable, natsError(s));
}

void AuditPublisher::onAck(jsCtx*, natsMsg* message, jsPubAck* ack, jsPubAckErr* error,
                           void* self) {
  static_cast<AuditPublisher*>(self)->acknowledged(message, ack, error);
}

void AuditPublisher::acknowledged(natsMsg* message, jsPubAck* ack, jsPubAckErr* error) {
  NatsMsgPtr owned(message);
  Pending pending;
  {
    std::lock_guard lock(mutex_);
    auto it = pending_.find(message);
    if (it == pending_.end()) return;  // answered already (a stop)
    pending = std::move(it->second);
    pending_.erase(it);
  }
  if (ack != nullptr) {
    // A duplicate is a retry of a record JetStream holds: stored, once.
    metrics_.publishDuration.Observe(
        std::chrono::duration<double>(Clock::now() - pending.started).count());
    metrics_.published.Add({{"kind", pending.admission ? "admission" : "batch"}}).Increment();
    return pending.stored({});
  }
  natsStatus status = error != nullptr ? error->Err : NATS_ERR;
  std::string text = error != nullptr && error->ErrText != nullptr ? error->ErrText
                                                                   : natsStatus_GetText(status);
  if (status == NATS_TIMEOUT) {
    return fail(pending.stored, "timeout", core::ErrorCode::kUnavailable,
                "JetStream did not acknowledge within stream.ackTimeout");
  }
  fail(pending.stored, "rejected", core::ErrorCode::kUnavailable, "JetStream refused: " + text);
}

void AuditPublisher::stop() {
  std::vector<Pending> abandoned;
  {
    std::lock_guard lock(mutex_);
    stopped_ = true;
    for (auto& [message, pending] : pending_) abandoned.push_back(std::move(pending));
    pending_.clear();
  }
  for (auto& pending : abandoned) {
    fail(pending.stored, "unavailable", core::ErrorCode::kUnavailable, "the server is stopping");
  }
}

}  // namespace podmortem::stream
