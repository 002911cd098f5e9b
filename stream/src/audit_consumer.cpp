#include "audit_consumer.h"

#include <algorithm>

#include "podmortem/core/log.h"
#include "stream_setup.h"

namespace podmortem::stream {

namespace log = core::log;

namespace {

// A consumer whose info request has gone unanswered this long (and that delivered nothing
// meanwhile) is taken for lost: its server died, and with it the ephemeral consumer, while the
// JetStream API of the others cannot say so until a new leader is elected. Subscribing again
// from the last record read loses nothing and repeats nothing.
constexpr std::chrono::seconds kUnansweredLimit{6};

// Records stored this long before a replica started reading only rebuild its window: the
// replicas that were up ran their audit triggers, and claims older than the bucket's TTL are
// gone, so running them again would capture a second time. Newer ones run again, and their
// claims (still in the bucket) keep them to one capture.
constexpr std::chrono::seconds kRefireHorizon{30};

int64_t nowNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

AuditConsumer::AuditConsumer(NatsLink& link, const StreamSettings& settings,
                             std::chrono::milliseconds window, StreamMetrics& metrics,
                             std::function<bool()> streamReady)
    : link_(link), settings_(settings), window_(window), metrics_(metrics),
      streamReady_(std::move(streamReady)), startedNanos_(nowNanos()) {}

void AuditConsumer::problem(const std::string& what, natsStatus status) {
  std::string text = what + ": " + natsError(status);
  if (text == lastProblem_) return;
  lastProblem_ = text;
  log::warn("cannot read the audit stream; trying again", {{"error", text}});
}

AuditConsumer::~AuditConsumer() { stop(); }

void AuditConsumer::start(StreamSink sink) {
  sink_ = std::move(sink);
  thread_ = std::jthread([this](std::stop_token stop) { run(stop); });
}

void AuditConsumer::stop() {
  if (!thread_.joinable()) return;
  thread_.request_stop();
  thread_.join();
  subscription_.reset();
  context_.reset();
}

bool AuditConsumer::subscribe() {
  if (!context_) {
    jsCtx* raw = nullptr;
    if (natsStatus s = natsConnection_JetStream(&raw, link_.connection(), nullptr); s != NATS_OK) {
      problem("JetStream context", s);
      return false;
    }
    context_.reset(raw);
  }
  jsSubOptions options;
  jsSubOptions_Init(&options);
  options.Stream = settings_.name.c_str();
  options.Ordered = true;
  if (lastSequence_ == 0) {
    options.Config.DeliverPolicy = js_DeliverByStartTime;
    options.Config.OptStartTime =
        startedNanos_ - std::chrono::duration_cast<std::chrono::nanoseconds>(window_).count();
  } else {
    options.Config.DeliverPolicy = js_DeliverByStartSequence;
    options.Config.OptStartSeq = lastSequence_ + 1;
  }
  natsSubscription* raw = nullptr;
  jsErrCode error = static_cast<jsErrCode>(0);
  const std::string subjects = streamSubjects(settings_.name);
  natsStatus s = js_SubscribeSync(&raw, context_.get(), subjects.c_str(), nullptr, &options, &error);
  if (s != NATS_OK) {
    problem("subscribing", s);
    return false;
  }
  lastProblem_.clear();
  subscription_.reset(raw);
  subscribedAtReconnect_ = link_.reconnects();
  lastChecked_ = lastAlive_ = std::chrono::steady_clock::now();
  // Batches are up to a megabyte each: room for a burst without the library dropping any.
  natsSubscription_SetPendingLimits(raw, 65'536, 256 << 20);
  if (!subscribedOnce_) {
    subscribedOnce_ = true;
    jsConsumerInfo* info = nullptr;
    uint64_t backlog = 0;
    if (natsSubscription_GetConsumerInfo(&info, raw, nullptr, &error) == NATS_OK) {
      backlog = info->NumPending;
    }
    ConsumerInfoPtr owned(info);
    backlogEnd_ = handed_.load() + backlog;
    backlogKnown_ = true;
    log::info("reading the audit stream", {{"stream", settings_.name},
                                           {"backlog", backlog}});
  }
  return true;
}

void AuditConsumer::deliver(natsMsg* message) {
  NatsMsgPtr owned(message);
  jsMsgMetaData* rawMeta = nullptr;
  if (natsMsg_GetMetaData(&rawMeta, message) != NATS_OK) return;  // not a stream record
  MetaDataPtr meta(rawMeta);
  lastSequence_ = meta->Sequence.Stream;
  streamPending_ = meta->NumPending;
  const int64_t storedAt = meta->Timestamp;
  const int64_t now = nowNanos();
  if (now > storedAt) metrics_.deliveryDelay.Observe(static_cast<double>(now - storedAt) / 1e9);
  const bool live =
      storedAt >= startedNanos_ - std::chrono::duration_cast<std::chrono::nanoseconds>(
                                      kRefireHorizon).count();
  const char* data = natsMsg_GetData(message);
  std::string body(data != nullptr ? data : "", static_cast<size_t>(natsMsg_GetDataLength(message)));
  if (sink_.deliver(std::move(body), live)) {
    ++handed_;
    metrics_.delivered.Increment();
  }
}

void AuditConsumer::run(std::stop_token stop) {
  while (!stop.stop_requested()) {
    if (!subscription_) {
      if (!link_.connected() || !streamReady_() || !subscribe()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
        continue;
      }
    }
    natsMsg* message = nullptr;
    natsStatus s = natsSubscription_NextMsg(&message, subscription_.get(), 250);
    if (s == NATS_OK) {
      lastAlive_ = std::chrono::steady_clock::now();
      deliver(message);
      metrics_.lag.Set(static_cast<double>(progress().pendingMessages));
      continue;
    }
    if (s == NATS_TIMEOUT) {
      metrics_.lag.Set(static_cast<double>(progress().pendingMessages));
      if (!stillReading()) dropSubscription("its consumer is gone");
      continue;
    }
    // The subscription is gone (the connection closed, a slow consumer, the consumer deleted):
    // subscribe again from the record after the last one read.
    dropSubscription(natsStatus_GetText(s));
  }
}

bool AuditConsumer::stillReading() {
  if (link_.reconnects() != subscribedAtReconnect_) return false;
  auto now = std::chrono::steady_clock::now();
  if (now - lastChecked_ < std::chrono::seconds(2)) return true;
  lastChecked_ = now;
  jsConsumerInfo* info = nullptr;
  jsErrCode error = static_cast<jsErrCode>(0);
  natsStatus s = natsSubscription_GetConsumerInfo(&info, subscription_.get(), nullptr, &error);
  ConsumerInfoPtr owned(info);
  if (s == NATS_OK || !link_.connected()) {  // disconnected: the reconnect resubscribes
    lastAlive_ = now;
    return true;
  }
  // One timeout says little (a busy or electing server); a missing consumer, or silence for
  // kUnansweredLimit, says it is gone.
  return s == NATS_TIMEOUT && now - lastAlive_ < kUnansweredLimit;
}

void AuditConsumer::dropSubscription(const char* why) {
  log::info("reading the audit stream again from where this replica stopped",
            {{"reason", std::string(why)}, {"after", lastSequence_}});
  natsSubscription_Unsubscribe(subscription_.get());  // deletes its consumer, if it still exists
  subscription_.reset();
  metrics_.consumerRestarts.Increment();
}

policy::AuditJournal::Progress AuditConsumer::progress() const {
  policy::AuditJournal::Progress progress;
  const uint64_t handed = handed_.load();
  const uint64_t indexed = sink_.indexed ? sink_.indexed() : handed;
  const uint64_t queued = handed > indexed ? handed - indexed : 0;
  const uint64_t backlogLeft =
      backlogKnown_ && backlogEnd_ > handed ? backlogEnd_.load() - handed : 0;
  progress.pendingMessages = std::max(streamPending_.load(), backlogLeft) + queued;
  if (!caughtUp_ && backlogKnown_ && handed >= backlogEnd_ && queued == 0) caughtUp_ = true;
  progress.caughtUp = caughtUp_;
  if (!link_.connected()) {
    progress.gap =
        "the audit stream (NATS) cannot be reached: events other replicas received may be "
        "missing";
  }
  return progress;
}

}  // namespace podmortem::stream
