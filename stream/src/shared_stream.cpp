#include "podmortem/stream/shared_stream.h"

#include <mutex>

#include "audit_consumer.h"
#include "audit_publisher.h"
#include "kv_claims.h"
#include "nats_link.h"
#include "podmortem/core/config.h"
#include "podmortem/core/log.h"
#include "podmortem/core/periodic_worker.h"
#include "stream_setup.h"

namespace podmortem::stream {

namespace log = core::log;

namespace {

class NatsSharedStream final : public SharedStream {
 public:
  NatsSharedStream(Options options, StreamMetrics& metrics)
      : options_(std::move(options)),
        link_(options_.settings, options_.replica, metrics),
        consumer_(link_, options_.settings, options_.window, metrics,
                  [this] { return prepared_.load(); }),
        publisher_(link_, options_.settings, metrics, [this] { return consumer_.progress(); }),
        claims_(options_.replica, metrics, [this] { return link_.connected(); }),
        setup_("NATS stream setup", std::chrono::seconds(1), [this](std::stop_token) {
          if (prepared_) return;
          auto status = prepare();
          if (!status.ok()) remember(status);
        }) {}

  ~NatsSharedStream() override { stop(); }

  // Connects and makes the stream, the bucket and the publisher ready; ok once done.
  core::Status prepare() {
    if (auto connected = link_.connect(); !connected.ok()) return connected;
    if (!admin_) {
      // Also the claims bucket's context: a claim or a heartbeat waits at most this long.
      jsOptions jsOptions;
      jsOptions_Init(&jsOptions);
      jsOptions.Wait = kBucketRequestTimeout.count();
      jsCtx* raw = nullptr;
      if (natsStatus s = natsConnection_JetStream(&raw, link_.connection(), &jsOptions);
          s != NATS_OK) {
        return natsFailure("JetStream context", s);
      }
      admin_.reset(raw);
    }
    const auto& settings = options_.settings;
    if (auto made = ensureAuditStream(admin_.get(), settings, options_.window); !made.ok()) {
      return made;
    }
    auto bucket = openClaimsBucket(admin_.get(), settings, options_.claimTtl);
    if (!bucket) return bucket.error();
    claims_.attach(std::move(*bucket));
    if (auto attached = publisher_.attach(); !attached.ok()) return attached;
    prepared_ = true;
    {
      std::lock_guard lock(mutex_);
      problem_.clear();
    }
    log::info("the audit stream and capture claims are ready",
              {{"stream", settings.name}, {"bucket", settings.claimsBucket}});
    return {};
  }

  void remember(const core::Status& status) {
    std::lock_guard lock(mutex_);
    if (problem_ != status.error().message) {
      if (status.error().code == core::ErrorCode::kInvalidArgument) {
        log::error("the NATS stream cannot be used", {{"error", status.error().message}});
      } else {
        log::warn("NATS is not ready; trying again every second",
                  {{"error", status.error().message}});
      }
    }
    problem_ = status.error().message;
  }

  void startSetup() { setup_.start(core::PeriodicWorker::FirstTick::kAfterInterval); }

  void startReading(StreamSink sink) override { consumer_.start(std::move(sink)); }

  void stop() override {
    setup_.stop();
    consumer_.stop();
    publisher_.stop();
    claims_.stop();
    link_.close();
  }

  policy::AuditJournal& journal() override { return publisher_; }
  policy::CaptureClaims& claims() override { return claims_; }

  Health health() const override {
    Health health;
    health.connected = link_.connected();
    auto progress = consumer_.progress();
    health.caughtUp = progress.caughtUp;
    health.lagMessages = progress.pendingMessages;
    std::lock_guard lock(mutex_);
    health.problem = problem_;
    if (health.problem.empty() && !progress.gap.empty()) health.problem = progress.gap;
    return health;
  }

 private:
  // A claim is decided within the hold of a deletion (10 s by default): a bucket that does not
  // answer in a second is treated as away, and this replica captures itself.
  static constexpr std::chrono::milliseconds kBucketRequestTimeout{1000};

  const Options options_;
  NatsLink link_;
  JsContextPtr admin_;  // the stream's setup and the claims bucket
  AuditConsumer consumer_;
  AuditPublisher publisher_;
  KvClaims claims_;
  std::atomic<bool> prepared_{false};
  mutable std::mutex mutex_;
  std::string problem_;
  core::PeriodicWorker setup_;  // last: its ticks use everything above
};

}  // namespace

std::unique_ptr<SharedStream> SharedStream::open(Options options, StreamMetrics& metrics) {
  auto stream = std::make_unique<NatsSharedStream>(std::move(options), metrics);
  auto ready = stream->prepare();
  if (!ready.ok()) {
    // A stream or bucket of the wrong shape, or a bad TLS or credentials file, will not fix
    // itself: the operator must, so the server does not start.
    if (ready.error().code == core::ErrorCode::kInvalidArgument) {
      throw core::ConfigError(ready.error().message);
    }
    stream->remember(ready);
    stream->startSetup();
  }
  return stream;
}

}  // namespace podmortem::stream
