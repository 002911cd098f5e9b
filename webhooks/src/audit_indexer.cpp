#include "podmortem/webhooks/audit_indexer.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "podmortem/core/log.h"
#include "podmortem/webhooks/audit_decoder.h"

namespace podmortem::webhooks {

namespace log = core::log;
using Clock = std::chrono::steady_clock;

class AuditIndexer::Impl {
 public:
  Impl(Options options, policy::CorrelationWindow& window, AuditMetrics& metrics, EventSink onEvent)
      : options_(options),
        window_(window),
        metrics_(metrics),
        onEvent_(std::move(onEvent)),
        worker_([this] { run(); }) {
    metrics_.queueCapacity.Set(static_cast<double>(options_.queueBatches));
  }

  ~Impl() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    changed_.notify_all();
    worker_.join();
  }

  bool push(std::string body, bool wait, bool own, bool live = true) {
    {
      std::unique_lock lock(mutex_);
      auto full = [&] {
        return queue_.size() >= options_.queueBatches ||
               (!queue_.empty() && queuedBytes_ + body.size() > options_.queueBytes);
      };
      if (!own && wait) changed_.wait(lock, [&] { return stopping_ || !full(); });
      if (stopping_ || (!own && full())) return false;
      queuedBytes_ += body.size();
      queue_.push_back({std::move(body), live});
      metrics_.queueDepth.Set(static_cast<double>(queue_.size()));
    }
    changed_.notify_all();
    return true;
  }

  uint64_t batchesIndexed() const {
    std::lock_guard lock(mutex_);
    return indexed_;
  }

 private:
  void run() {
    while (true) {
      Record record;
      {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping, and everything queued was indexed
        record = std::move(queue_.front());
        queue_.pop_front();
        queuedBytes_ -= record.body.size();
        metrics_.queueDepth.Set(static_cast<double>(queue_.size()));
      }
      changed_.notify_all();  // room for a waiting enqueue
      ingest(record.body, record.live);
      std::lock_guard lock(mutex_);
      ++indexed_;
    }
  }

  // `live`: new events go on to onEvent (audit triggers); history only fills the window.
  void ingest(std::string& body, bool live) {
    auto started = Clock::now();
    // Bodies arrive with simdjson's padding as spare capacity; the move kept it.
    // Views into the body: the window copies each event's bytes once, into its spool.
    DecodedAudit decoded = decodeAuditPayload(body, options_.maxEventBytes, RawBytes::kView);
    if (!decoded.error.empty()) {
      metrics_.result("malformed").Increment();
      log::warn("audit batch is not usable", {{"error", decoded.error}});
    }
    metrics_.result("malformed").Increment(static_cast<double>(decoded.malformed));
    metrics_.result("oversized").Increment(static_cast<double>(decoded.oversized));
    auto now = std::chrono::system_clock::now();
    uint64_t accepted = 0;
    uint64_t duplicates = 0;
    for (size_t i = 0; i < decoded.events.size(); ++i) {
      const auto& event = decoded.events[i];
      if (window_.add(event, decoded.rawViews[i], now) ==
          policy::CorrelationWindow::AddResult::kDuplicate) {
        ++duplicates;
        continue;
      }
      ++accepted;
      if (!onEvent_ || !live) continue;
      try {
        onEvent_(event, decoded.rawViews[i]);
      } catch (const std::exception& error) {
        log::error("audit trigger failed", {{"error", error.what()}, {"auditID", event.auditId}});
      }
    }
    metrics_.result("accepted").Increment(static_cast<double>(accepted));
    metrics_.result("duplicate").Increment(static_cast<double>(duplicates));
    metrics_.ingestDuration.Observe(std::chrono::duration<double>(Clock::now() - started).count());
  }

  const Options options_;
  policy::CorrelationWindow& window_;
  AuditMetrics& metrics_;
  EventSink onEvent_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  struct Record {
    std::string body;
    bool live = true;
  };
  std::deque<Record> queue_;
  size_t queuedBytes_ = 0;  // bodies waiting, so that memory stays bounded, not just the count
  bool stopping_ = false;
  uint64_t indexed_ = 0;
  std::thread worker_;  // last: starts once everything above exists
};

AuditIndexer::AuditIndexer(Options options, policy::CorrelationWindow& window,
                           AuditMetrics& metrics, EventSink onEvent)
    : impl_(std::make_unique<Impl>(options, window, metrics, std::move(onEvent))) {}

AuditIndexer::~AuditIndexer() = default;

bool AuditIndexer::tryEnqueue(std::string body) { return impl_->push(std::move(body), false, false); }
bool AuditIndexer::enqueue(std::string body, bool live) {
  return impl_->push(std::move(body), true, false, live);
}
void AuditIndexer::enqueueOwn(std::string body) { impl_->push(std::move(body), false, true); }
uint64_t AuditIndexer::batchesIndexed() const { return impl_->batchesIndexed(); }

void LocalAuditJournal::append(Kind kind, std::string body, Stored stored) {
  if (kind == Kind::kAdmissionEvent) {
    indexer_.enqueueOwn(std::move(body));
    return stored({});
  }
  // The API server's webhook backend retries a refused batch with backoff: nothing is lost,
  // and the same batch accepted later is deduplicated by auditID + stage.
  if (!indexer_.tryEnqueue(std::move(body))) {
    return stored(core::makeError(core::ErrorCode::kResourceExhausted,
                                  "audit queue is full; retry later"));
  }
  stored({});
}

void StreamAuditJournal::append(Kind kind, std::string body, Stored stored) {
  if (kind != Kind::kAdmissionEvent) return stream_.append(kind, std::move(body), std::move(stored));
  std::string copy = body;
  stream_.append(kind, std::move(body),
                 [this, copy = std::move(copy), stored = std::move(stored)](core::Status status) {
                   if (!status.ok()) indexer_.enqueueOwn(copy);
                   stored(status);
                 });
}

}  // namespace podmortem::webhooks
