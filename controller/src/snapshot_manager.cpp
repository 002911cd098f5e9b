#include "podmortem/controller/snapshot_manager.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <cctype>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "coalescer.h"
#include "podmortem/core/log.h"

namespace podmortem::controller {

namespace net = boost::asio;
namespace log = core::log;
using Clock = std::chrono::steady_clock;

namespace {

// What a finished capture is remembered by for a later caller of its key: its answer, without
// the records of the artifacts it stored (these were most of the memory it took).
SnapshotOutcome rememberedPart(const SnapshotOutcome& outcome) {
  SnapshotOutcome kept;
  kept.snapshotId = outcome.snapshotId;
  kept.artifactsStored = outcome.artifactsStored;
  kept.artifactsTotal = outcome.artifactsTotal;
  kept.cutShort = outcome.cutShort;
  kept.result.phase = outcome.result.phase;
  kept.result.reason = outcome.result.reason;
  kept.result.errorCode = outcome.result.errorCode;
  // The client's reason is made from the failed artifacts' errors: keep those.
  for (const auto& artifact : outcome.result.artifacts) {
    if (!artifact.error.empty()) kept.result.artifacts.push_back(artifact);
  }
  return kept;
}

// "complete", "partial", "failed": the phase as a metric label.
std::string resultLabel(evidence::SnapshotPhase phase) {
  std::string label(evidence::toString(phase));
  for (char& c : label) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return label;
}

}  // namespace

class SnapshotManager::Impl {
 public:
  Impl(evidence::Store& store, CollectorRegistry collectors, SnapshotMetrics& metrics,
       Options options)
      : store_(store),
        collectors_(std::move(collectors)),
        metrics_(metrics),
        options_(options),
        captures_(options.rememberFor, options.rememberAtMost),
        workers_(std::max(1u, options.workers)),
        // Bundles are written on their own threads, so hung collectors cannot hold them up.
        writers_(std::max(2u, options.workers)),
        timerGuard_(net::make_work_guard(timers_)),
        timerThread_([this] { timers_.run(); }) {}

  // Seals every capture still running with what it has (a collector not done is recorded as
  // cut short by the shutdown), so that a stop never loses a bundle or leaves a waiter without
  // an answer; then waits for the collectors still blocked in I/O.
  ~Impl() {
    std::vector<std::shared_ptr<Job>> running;
    {
      std::lock_guard lock(mutex_);
      running.assign(running_.begin(), running_.end());
    }
    for (const auto& job : running) finalize(job, "the server stopped before it finished");
    writers_.join();
    timerGuard_.reset();
    timers_.stop();
    timerThread_.join();
    workers_.join();
  }

  void runInBackground(std::function<void()> work) {
    net::post(workers_, [work = std::move(work)] {
      try {
        work();
      } catch (const std::exception& error) {
        log::error("background capture work failed", {{"error", error.what()}});
      }
    });
  }

  CaptureTicket capture(CaptureRequest request, Clock::time_point deadline, SnapshotCallback done,
                        std::string snapshotId) {
    const std::string key = request.key();
    auto newId = [&snapshotId] {
      return snapshotId.empty() ? evidence::newSnapshotId() : std::move(snapshotId);
    };
    auto joined = captures_.join(key, newId, done);
    if (joined.started) {
      try {
        start(key, joined.id, std::move(request), deadline);
      } catch (const std::exception& error) {
        couldNotStart(key, joined.id, error.what());
      }
      return {joined.id, false};
    }
    metrics_.reused.Increment();
    if (joined.finished) {
      // Finished earlier: answer with what it produced, off the caller's thread.
      net::post(writers_, [outcome = std::move(joined.outcome), done = std::move(done)] {
        done(outcome);
      });
    }
    return {joined.id, true};
  }

 private:
  struct Job {
    Job(net::io_context& timers, std::string k, std::string id, CaptureRequest r)
        : key(std::move(k)), snapshotId(std::move(id)), request(std::move(r)), timer(timers) {}

    std::string key;
    std::string snapshotId;
    CaptureRequest request;
    net::steady_timer timer;
    Clock::time_point started = Clock::now();
    std::chrono::system_clock::time_point createdAt = std::chrono::system_clock::now();
    std::mutex mutex;
    std::vector<std::optional<Collected>> results;
    size_t pending = 0;
    bool finalized = false;
    bool cutShort = false;  // sealed before every collector was done
  };

  // A capture that failed before it began (no job, no bundle): its callers are answered, and
  // the next call for the key tries again.
  void couldNotStart(const std::string& key, const std::string& snapshotId, const char* why) {
    log::error("capture could not start", {{"snapshot", snapshotId}, {"error", why}});
    SnapshotOutcome failed;
    failed.snapshotId = snapshotId;
    failed.result.phase = evidence::SnapshotPhase::kFailed;
    failed.result.reason = "the capture could not start (see the server log)";
    captures_.abandon(key, failed);
  }

  void start(const std::string& key, std::string snapshotId, CaptureRequest request,
             Clock::time_point deadline) {
    request.collectors = collectors_.expand(request.collectors);
    if (request.actions.hasPodActions()) request.collectors.emplace_back(kActionsCollector);
    auto job = std::make_shared<Job>(timers_, key, std::move(snapshotId), std::move(request));
    metrics_.inProgress.Increment();
    {
      std::lock_guard lock(mutex_);
      running_.insert(job);
    }
    // From here the job is sealed in every case (its deadline, its collectors, a stop).
    for (const auto& observer : options_.observers) {
      try {
        observer->started(job->snapshotId, job->request);
      } catch (const std::exception& error) {
        log::error("snapshot observer failed", {{"snapshot", job->snapshotId}, {"error", error.what()}});
      }
    }
    const auto& names = job->request.collectors;
    job->results.resize(names.size());
    job->pending = names.size();
    log::info("capture started", {{"snapshot", job->snapshotId},
                                  {"policy", job->request.policyName},
                                  {"namespace", job->request.pod.namespaceName},
                                  {"pod", job->request.pod.name},
                                  {"trigger", job->request.trigger.name},
                                  {"user", job->request.trigger.user}});
    if (names.empty()) return finalize(job);
    job->timer.expires_at(deadline);
    job->timer.async_wait([this, job](const boost::system::error_code& ec) {
      if (!ec) finalize(job);
    });
    for (size_t i = 0; i < names.size(); ++i) {
      net::post(workers_, [this, job, i] { runCollector(job, i); });
    }
  }

  void runCollector(const std::shared_ptr<Job>& job, size_t index) {
    const std::string& name = job->request.collectors[index];
    Collected collected;
    auto collector = collectors_.find(name);
    if (!collector) {
      collected.artifacts.push_back({name, name, "", "no such collector"});
    } else {
      try {
        collected = collector->collect(job->request);
      } catch (const std::exception& error) {
        collected = Collected{};
        collected.artifacts.push_back(
            {name, name, "", std::string("collector failed: ") + error.what()});
      }
    }
    bool last = false;
    {
      std::lock_guard lock(job->mutex);
      if (job->finalized) return;  // too late: the bundle went without it
      job->results[index] = std::move(collected);
      last = --job->pending == 0;
    }
    if (last) {
      net::post(timers_, [job] { job->timer.cancel(); });
      finalize(job);
    }
  }

  // Seals the job with the collectors done by now; `cutShort` says why the others are not.
  void finalize(const std::shared_ptr<Job>& job, std::string_view cutShort = "timed out") {
    evidence::SnapshotContent content;
    {
      std::lock_guard lock(job->mutex);
      if (job->finalized) return;
      job->finalized = true;
      auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - job->started);
      for (size_t i = 0; i < job->results.size(); ++i) {
        if (job->results[i]) {
          for (auto& artifact : job->results[i]->artifacts) {
            content.artifacts.push_back(std::move(artifact));
          }
          for (auto& [key, value] : job->results[i]->manifest.items()) content.extra[key] = value;
        } else {
          job->cutShort = true;
          const auto& name = job->request.collectors[i];
          content.artifacts.push_back({name, name, "",
                                       std::string(cutShort) + " after " +
                                           std::to_string(waited.count()) + " ms"});
        }
      }
    }
    content.id = job->snapshotId;
    content.policyName = job->request.policyName;
    content.trigger = job->request.trigger;
    content.pod = job->request.pod;
    content.createdAt = job->createdAt;
    if (!job->request.podSource.empty()) {
      content.extra["podSource"] = job->request.podSource;
    }
    net::post(writers_, [this, job, content = std::move(content)] { write(job, content); });
  }

  void write(const std::shared_ptr<Job>& job, const evidence::SnapshotContent& content) {
    SnapshotOutcome outcome;
    outcome.snapshotId = content.id;
    outcome.cutShort = job->cutShort;  // set under the job's lock, before this write was posted
    outcome.result = store_.write(content);
    outcome.artifactsTotal = outcome.result.artifacts.size();
    for (const auto& artifact : outcome.result.artifacts) {
      if (artifact.error.empty()) ++outcome.artifactsStored;
    }
    double seconds = std::chrono::duration<double>(Clock::now() - job->started).count();
    metrics_.snapshots.Add({{"result", resultLabel(outcome.result.phase)}}).Increment();
    metrics_.duration.Observe(seconds);
    metrics_.evidenceBytes.Increment(static_cast<double>(outcome.result.bytesWritten));
    metrics_.inProgress.Decrement();
    auto fields = {std::pair<std::string_view, log::Value>{"snapshot", content.id},
                   {"phase", toString(outcome.result.phase)},
                   {"policy", content.policyName},
                   {"namespace", content.pod.namespaceName},
                   {"pod", content.pod.name},
                   {"artifacts", static_cast<uint64_t>(outcome.artifactsStored)},
                   {"bytes", outcome.result.bytesWritten},
                   {"seconds", seconds},
                   {"bundle", outcome.result.bundlePath},
                   {"reason", outcome.result.reason}};
    if (outcome.result.phase == evidence::SnapshotPhase::kComplete) {
      log::info("snapshot written", fields);
    } else {
      log::warn("snapshot incomplete", fields);
    }

    for (const auto& observer : options_.observers) {
      try {
        observer->finished(content.id, job->request, outcome.result, content.extra);
      } catch (const std::exception& error) {
        log::error("snapshot observer failed", {{"snapshot", content.id}, {"error", error.what()}});
      }
    }

    {
      std::lock_guard lock(mutex_);
      running_.erase(job);
    }
    captures_.finish(job->key, outcome, rememberedPart(outcome));
  }

  evidence::Store& store_;
  CollectorRegistry collectors_;
  SnapshotMetrics& metrics_;
  Options options_;
  Coalescer<SnapshotOutcome> captures_;  // one capture per key
  std::mutex mutex_;
  std::set<std::shared_ptr<Job>> running_;  // started, not yet written
  net::thread_pool workers_;
  net::thread_pool writers_;
  net::io_context timers_;
  net::executor_work_guard<net::io_context::executor_type> timerGuard_;
  std::thread timerThread_;
};

SnapshotManager::SnapshotManager(evidence::Store& store, CollectorRegistry collectors,
                                 SnapshotMetrics& metrics, Options options)
    : impl_(std::make_unique<Impl>(store, std::move(collectors), metrics, options)) {}

SnapshotManager::~SnapshotManager() = default;

CaptureTicket SnapshotManager::capture(CaptureRequest request,
                                       std::chrono::steady_clock::time_point deadline,
                                       SnapshotCallback done, std::string snapshotId) {
  return impl_->capture(std::move(request), deadline, std::move(done), std::move(snapshotId));
}

void SnapshotManager::runInBackground(std::function<void()> work) {
  impl_->runInBackground(std::move(work));
}

}  // namespace podmortem::controller
