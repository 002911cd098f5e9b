#include "podmortem/webhooks/audit_indexer.h"

#include <atomic>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "podmortem/core/log.h"
#include "podmortem/webhooks/audit_decoder.h"

namespace podmortem::webhooks {

namespace log = core::log;
using Clock = std::chrono::steady_clock;

// Two stages on two threads, in order: the decoder takes queued bodies and decodes them, the
// indexer adds their events to the window. Profiling put decoding at about two fifths of a
// single worker's time, so the stages overlap instead of taking turns; the window is still fed
// by one thread, in arrival order.
class AuditIndexer::Impl {
 public:
  Impl(Options options, policy::CorrelationWindow& window, AuditMetrics& metrics, EventSink onEvent)
      : options_(options),
        window_(window),
        metrics_(metrics),
        onEvent_(std::move(onEvent)),
        decoder_([this] { decodeLoop(); }),
        indexer_([this] { indexLoop(); }) {
    metrics_.queueCapacity.Set(static_cast<double>(options_.queueBatches));
  }

  ~Impl() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    changed_.notify_all();
    decoder_.join();  // decodes what is queued, then tells the indexer it is done
    indexer_.join();
  }

  bool push(std::string body, bool wait, bool own, bool live = true) {
    {
      std::unique_lock lock(mutex_);
      auto full = [&] {
        return waiting_ >= options_.queueBatches ||
               (waiting_ != 0 && queuedBytes_ + body.size() > options_.queueBytes);
      };
      if (!own && wait) changed_.wait(lock, [&] { return stopping_ || !full(); });
      if (stopping_ || (!own && full())) return false;
      ++waiting_;
      queuedBytes_ += body.size();
      queue_.push_back({std::move(body), live});
      metrics_.queueDepth.Set(static_cast<double>(waiting_));
    }
    changed_.notify_all();
    return true;
  }

  uint64_t batchesIndexed() const {
    std::lock_guard lock(mutex_);
    return indexed_;
  }

  int64_t lastEventMillis() const { return lastEventMillis_.load(std::memory_order_relaxed); }

 private:
  struct Record {
    std::string body;
    bool live = true;
  };

  // A decoded batch on its way to the window. The events view into the body, so the body is
  // held where a move cannot change its address.
  struct Decoded {
    std::unique_ptr<std::string> body;
    DecodedAudit audit;
    size_t bytes = 0;  // the body's size, as counted in queuedBytes_
    bool live = true;
    Clock::time_point started;
  };

  // Decoded batches waiting for the indexer: enough to keep it busy, few enough that memory
  // stays with the queue's byte bound (plus this many bodies).
  static constexpr size_t kDecodedAhead = 2;

  void decodeLoop() {
    while (true) {
      Record record;
      {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) break;  // stopping, and everything queued was decoded
        record = std::move(queue_.front());
        queue_.pop_front();  // still waiting (and counted) until the indexer takes it
      }
      Decoded decoded = decode(std::move(record));
      std::unique_lock lock(decodedMutex_);
      decodedChanged_.wait(lock, [this] { return decoded_.size() < kDecodedAhead; });
      decoded_.push_back(std::move(decoded));
      decodedChanged_.notify_all();
    }
    std::lock_guard lock(decodedMutex_);
    decoderDone_ = true;
    decodedChanged_.notify_all();
  }

  void indexLoop() {
    while (true) {
      Decoded decoded;
      {
        std::unique_lock lock(decodedMutex_);
        decodedChanged_.wait(lock, [this] { return decoderDone_ || !decoded_.empty(); });
        if (decoded_.empty()) return;  // the decoder stopped, and everything was indexed
        decoded = std::move(decoded_.front());
        decoded_.pop_front();
      }
      decodedChanged_.notify_all();  // room for the decoder
      {
        std::lock_guard lock(mutex_);
        --waiting_;
        queuedBytes_ -= decoded.bytes;
        metrics_.queueDepth.Set(static_cast<double>(waiting_));
      }
      changed_.notify_all();  // room for a waiting enqueue
      index(decoded);
      std::lock_guard lock(mutex_);
      ++indexed_;
    }
  }

  Decoded decode(Record record) {
    Decoded decoded;
    decoded.started = Clock::now();
    decoded.live = record.live;
    decoded.bytes = record.body.size();
    // Bodies arrive with simdjson's padding as spare capacity; the moves keep it.
    decoded.body = std::make_unique<std::string>(std::move(record.body));
    // Views into the body: the window copies each event's bytes once, into its spool.
    decoded.audit = decodeAuditPayload(*decoded.body, options_.maxEventBytes, RawBytes::kView);
    if (!decoded.audit.error.empty()) {
      metrics_.result("malformed").Increment();
      log::warn("audit batch is not usable", {{"error", decoded.audit.error}});
    }
    metrics_.result("malformed").Increment(static_cast<double>(decoded.audit.malformed));
    metrics_.result("oversized").Increment(static_cast<double>(decoded.audit.oversized));
    return decoded;
  }

  // `live`: new events go on to onEvent (audit triggers); history only fills the window.
  void index(const Decoded& decoded) {
    auto now = std::chrono::system_clock::now();
    uint64_t accepted = 0;
    uint64_t duplicates = 0;
    const auto& events = decoded.audit.events;
    for (size_t i = 0; i < events.size(); ++i) {
      const auto& event = events[i];
      const auto raw = decoded.audit.rawViews[i];
      if (window_.add(event, raw, now) == policy::CorrelationWindow::AddResult::kDuplicate) {
        ++duplicates;
        continue;
      }
      ++accepted;
      if (!onEvent_ || !decoded.live) continue;
      try {
        onEvent_(event, raw);
      } catch (const std::exception& error) {
        log::error("audit trigger failed", {{"error", error.what()}, {"auditID", event.auditId}});
      }
    }
    if (accepted > 0 && decoded.live) {
      auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
      lastEventMillis_.store(millis, std::memory_order_relaxed);
      if (metrics_.lastEvent != nullptr) metrics_.lastEvent->Set(static_cast<double>(millis) / 1000.0);
    }
    metrics_.result("accepted").Increment(static_cast<double>(accepted));
    metrics_.result("duplicate").Increment(static_cast<double>(duplicates));
    metrics_.ingestDuration.Observe(
        std::chrono::duration<double>(Clock::now() - decoded.started).count());
  }

  std::atomic<int64_t> lastEventMillis_{0};
  const Options options_;
  policy::CorrelationWindow& window_;
  AuditMetrics& metrics_;
  EventSink onEvent_;

  mutable std::mutex mutex_;  // the queue of bodies, and the counts
  std::condition_variable changed_;
  std::deque<Record> queue_;  // bodies not yet decoded
  // Batches accepted that the indexer has not taken yet (queued, being decoded, or decoded),
  // and their bytes: what the queue bounds, so that memory stays bounded, not just the count.
  size_t waiting_ = 0;
  size_t queuedBytes_ = 0;
  bool stopping_ = false;
  uint64_t indexed_ = 0;

  std::mutex decodedMutex_;  // the hand-over from decoder to indexer
  std::condition_variable decodedChanged_;
  std::deque<Decoded> decoded_;
  bool decoderDone_ = false;

  std::thread decoder_;  // last: they start once everything above exists
  std::thread indexer_;
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

int64_t AuditIndexer::lastEventMillis() const { return impl_->lastEventMillis(); }

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
