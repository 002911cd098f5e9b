#include "podmortem/controller/findings_export.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>

#include <condition_variable>
#include <algorithm>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>

#include "finding_sinks.h"
#include "findings_outbox.h"
#include "ocsf_finding.h"
#include "podmortem/core/file_io.h"
#include "podmortem/core/log.h"
#include "podmortem/core/periodic_worker.h"
#include "podmortem/core/sha256.h"

namespace podmortem::controller {

namespace log = core::log;
using Clock = std::chrono::system_clock;
using nlohmann::json;

namespace {

int64_t nowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch()).count();
}

std::string outcomeOf(evidence::SnapshotPhase phase) { return std::string(evidence::toString(phase)); }

// The audit trail a bundle holds, read back from it: the finding lists who did what.
std::string trailOf(const evidence::WriteResult& result) {
  for (const auto& artifact : result.artifacts) {
    if (artifact.collector != "auditTrail" || !artifact.error.empty() || result.bundlePath.empty()) continue;
    std::string lines;
    if (core::fileio::readFile(result.bundlePath + "/" + artifact.path, lines).ok()) return lines;
  }
  return {};
}

// Every family the export counts; the gauges (pending, oldest) are read at each scrape.
struct ExportMetrics {
  explicit ExportMetrics(prometheus::Registry& registry)
      : findings(prometheus::BuildCounter()
                     .Name("podmortem_findings_total")
                     .Help("Findings made, by kind (snapshot, addendum, firing) and result "
                           "(queued: in the outbox; failed: the outbox could not take it).")
                     .Register(registry)),
        sent(prometheus::BuildCounter()
                 .Name("podmortem_export_sent_total")
                 .Help("Findings a sink took, by sink.")
                 .Register(registry)),
        failures(prometheus::BuildCounter()
                     .Name("podmortem_export_failures_total")
                     .Help("Delivery attempts that failed and will be retried, by sink and reason.")
                     .Register(registry)),
        rejected(prometheus::BuildCounter()
                     .Name("podmortem_export_rejected_total")
                     .Help("Findings a sink refused as malformed (HTTP 400, 413, 415, 422): not retried.")
                     .Register(registry)),
        dropped(prometheus::BuildCounter()
                    .Name("podmortem_export_dropped_total")
                    .Help("Findings a sink never got: the outbox held export.maxPending findings "
                          "and dropped the oldest, or the file was unreadable.")
                    .Register(registry)) {}

  prometheus::Family<prometheus::Counter>& findings;
  prometheus::Family<prometheus::Counter>& sent;
  prometheus::Family<prometheus::Counter>& failures;
  prometheus::Family<prometheus::Counter>& rejected;
  prometheus::Family<prometheus::Counter>& dropped;
};

}  // namespace

class FindingsExport::Impl {
 public:
  Impl(Options options, prometheus::Registry& registry)
      : options_(std::move(options)),
        metrics_(registry),
        outbox_(std::make_shared<FindingsOutbox>(options_.outboxDir, sinkNames(options_.settings),
                                                 options_.settings.maxPending)),
        intake_("findings intake", std::chrono::seconds(5),
                [this](std::stop_token) { drainIntake(); }),
        adoption_("findings outbox adoption", std::chrono::minutes(1),
                  [this](std::stop_token) { adoptOrphans(); }) {
    std::string host = options_.replica.empty() ? "podmortem" : options_.replica;
    for (const auto& settings : options_.settings.sinks) {
      auto sink = std::make_unique<Sink>();
      sink->settings = settings;
      sink->transport = makeSink(settings, host);
      Sink* raw = sink.get();
      sink->worker = std::make_unique<core::PeriodicWorker>(
          "findings to " + settings.name, std::chrono::seconds(5),
          [this, raw](std::stop_token stop) { deliver(*raw, stop); });
      // Counted from zero, so that rate() and alerts see the sinks before their first event.
      metrics_.sent.Add({{"sink", settings.name}});
      metrics_.dropped.Add({{"sink", settings.name}});
      metrics_.rejected.Add({{"sink", settings.name}});
      sinks_.push_back(std::move(sink));
    }
    for (const char* kind : {"snapshot", "addendum", "firing"}) {
      metrics_.findings.Add({{"kind", kind}, {"result", "queued"}});
    }
    metrics_.findings.Add({{"kind", "any"}, {"result", "dropped"}});
    intake_.start();
    for (auto& sink : sinks_) sink->worker->start();
    if (!options_.orphansRoot.empty()) adoption_.start();
  }

  ~Impl() {
    adoption_.stop();
    intake_.stop();
    drainIntake();  // what arrived after the last tick goes into the outbox: it is kept
    for (auto& sink : sinks_) sink->worker->stop();
  }

  void add(std::string kind, std::function<FindingFacts()> facts) {
    {
      std::lock_guard lock(intakeMutex_);
      // Bounded: findings come from sealed snapshots and firings, which a flood of dry runs or
      // matches could outpace on a slow volume.
      if (intakeQueue_.size() >= kMaxIntake) {
        metrics_.findings.Add({{"kind", "any"}, {"result", "dropped"}}).Increment();
        log::warn("findings intake full: a finding was dropped", {{"kind", kind}});
        return;
      }
      intakeQueue_.push_back({std::move(kind), std::move(facts)});
    }
    intake_.wake();
  }

  std::vector<SinkState> states() const {
    std::vector<SinkState> states;
    int64_t now = nowMillis();
    for (const auto& sink : sinks_) {
      SinkState state;
      state.name = sink->settings.name;
      std::optional<int64_t> oldest;
      for (const auto& source : sources()) {
        state.pending += source->pending(state.name);
        if (auto first = source->oldestPendingMillis(state.name)) {
          oldest = oldest ? std::min(*oldest, *first) : *first;
        }
      }
      if (oldest) state.oldestPendingSeconds = std::max<int64_t>(0, now - *oldest) / 1000.0;
      std::lock_guard lock(sink->mutex);
      state.lastError = sink->lastError;
      states.push_back(std::move(state));
    }
    return states;
  }

 private:
  struct Sink {
    SinkSettings settings;
    std::unique_ptr<FindingSink> transport;
    std::unique_ptr<core::PeriodicWorker> worker;
    std::mutex mutex;
    std::string lastError;
  };

  static constexpr size_t kMaxIntake = 10'000;

  // The outboxes findings are delivered from: those taken over from stopped replicas first (their
  // findings are older), then this replica's own.
  std::vector<std::shared_ptr<FindingsOutbox>> sources() const {
    std::lock_guard lock(sourcesMutex_);
    std::vector<std::shared_ptr<FindingsOutbox>> all = adopted_;
    all.push_back(outbox_);
    return all;
  }

  // An outbox whose replica is gone (a rollout gave the pod a new name, and so a new folder with
  // evidence.perReplica) is locked by nobody: this replica delivers what it holds, then removes it.
  void adoptOrphans() {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(options_.orphansRoot, ec)) {
      auto candidate = entry.path() / ".outbox";
      if (std::filesystem::equivalent(candidate, options_.outboxDir, ec) || ec) {
        ec.clear();
        continue;
      }
      {
        std::lock_guard lock(sourcesMutex_);
        bool held = std::any_of(adopted_.begin(), adopted_.end(),
                                [&](const auto& source) { return source->dir() == candidate; });
        if (held) continue;
      }
      auto orphan = FindingsOutbox::tryAdopt(candidate, sinkNames(options_.settings),
                                             options_.settings.maxPending);
      if (!orphan) continue;
      log::info("took over the findings outbox of a stopped replica",
                {{"outbox", candidate.string()}, {"pending", static_cast<uint64_t>(orphan->pendingForAny())}});
      {
        std::lock_guard lock(sourcesMutex_);
        adopted_.push_back(std::move(orphan));
      }
      for (auto& sink : sinks_) sink->worker->wake();
    }
    releaseDrained();
  }

  // Adopted outboxes every sink has emptied are removed.
  void releaseDrained() {
    std::vector<std::shared_ptr<FindingsOutbox>> drained;
    {
      std::lock_guard lock(sourcesMutex_);
      for (auto it = adopted_.begin(); it != adopted_.end();) {
        if ((*it)->pendingForAny() == 0) {
          drained.push_back(*it);
          it = adopted_.erase(it);
        } else {
          ++it;
        }
      }
    }
    for (auto& outbox : drained) {
      auto dir = outbox->dir();
      outbox.reset();  // unlocks; the sink workers hold no reference once it left the list
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
      log::info("a taken-over findings outbox is delivered and removed", {{"outbox", dir.string()}});
    }
  }

  static std::vector<std::string> sinkNames(const ExportSettings& settings) {
    std::vector<std::string> names;
    for (const auto& sink : settings.sinks) names.push_back(sink.name);
    return names;
  }

  // Builds each queued finding (reading the trail from its bundle) and writes it to the outbox.
  void drainIntake() {
    while (true) {
      std::pair<std::string, std::function<FindingFacts()>> item;
      {
        std::lock_guard lock(intakeMutex_);
        if (intakeQueue_.empty()) return;
        item = std::move(intakeQueue_.front());
        intakeQueue_.pop_front();
      }
      try {
        FindingFacts facts = item.second();
        facts.replica = options_.replica;
        facts.timeMillis = facts.timeMillis != 0 ? facts.timeMillis : nowMillis();
        // Bytes that are not UTF-8 (a reason quoting a path) are replaced, not a lost finding.
        std::string finding =
            detectionFinding(facts).dump(-1, ' ', false, json::error_handler_t::replace);
        std::map<std::string, uint64_t> dropped;
        auto appended = outbox_->append(facts.eventUid, facts.pod.key(), facts.timeMillis, finding, dropped);
        for (const auto& [sink, count] : dropped) {
          metrics_.dropped.Add({{"sink", sink}}).Increment(static_cast<double>(count));
          log::warn("findings outbox full: the oldest findings a sink had not taken were dropped",
                    {{"sink", sink}, {"dropped", count}});
        }
        if (!appended) {
          metrics_.findings.Add({{"kind", item.first}, {"result", "failed"}}).Increment();
          log::error("a finding could not be written to the outbox",
                     {{"finding", facts.eventUid}, {"error", appended.error().message}});
          continue;
        }
        metrics_.findings.Add({{"kind", item.first}, {"result", "queued"}}).Increment();
      } catch (const std::exception& error) {
        metrics_.findings.Add({{"kind", item.first}, {"result", "failed"}}).Increment();
        log::error("a finding could not be made", {{"error", error.what()}});
      }
      for (auto& sink : sinks_) sink->worker->wake();
    }
  }

  // Delivers what the sink has not taken, in order; on failure waits (doubling, up to
  // export.maxBackoff) and tries the same finding again.
  void deliver(Sink& sink, std::stop_token stop) {
    const std::string& name = sink.settings.name;
    const std::chrono::milliseconds firstBackoff =
        std::min<std::chrono::milliseconds>(std::chrono::seconds(1), options_.settings.maxBackoff);
    std::chrono::milliseconds backoff = firstBackoff;
    while (!stop.stop_requested()) {
      std::shared_ptr<FindingsOutbox> source;
      std::optional<OutboxRecord> record;
      std::string outboxError;
      for (auto& candidate : sources()) {
        uint64_t unreadable = 0;
        auto next = candidate->next(name, unreadable);
        if (unreadable > 0) metrics_.dropped.Add({{"sink", name}}).Increment(static_cast<double>(unreadable));
        if (!next.ok()) {
          outboxError = next.error().message;
          break;
        }
        if (*next) {
          source = candidate;
          record = std::move(*next);
          break;
        }
      }
      Delivery delivery;
      if (!outboxError.empty()) {
        delivery = {Delivery::Result::kRetry, "reading the outbox: " + outboxError, "outbox"};
      } else if (!record) {
        releaseDrained();
        return;
      } else {
        try {
          delivery = sink.transport->deliver(*record);
        } catch (const std::exception& error) {
          delivery = {Delivery::Result::kRetry, error.what(), "configuration"};
        }
      }
      if (delivery.result == Delivery::Result::kRetry) {
        metrics_.failures.Add({{"sink", name}, {"reason", delivery.reasonLabel}}).Increment();
        bool first;
        {
          std::lock_guard lock(sink.mutex);
          first = sink.lastError != delivery.reason;
          sink.lastError = delivery.reason;
        }
        // Said once per new reason, not once per retry.
        if (first) {
          log::warn("findings sink unavailable: findings wait in the outbox",
                    {{"sink", name}, {"error", delivery.reason}});
        }
        if (!sink.worker->sleepFor(stop, backoff)) return;
        backoff = std::min(backoff * 2, options_.settings.maxBackoff);
        continue;
      }
      backoff = firstBackoff;
      core::Status marked;
      if (delivery.result == Delivery::Result::kRejected) {
        metrics_.rejected.Add({{"sink", name}}).Increment();
        log::error("findings sink refused a finding as malformed; it is kept under rejected/ in the outbox and not sent again",
                   {{"sink", name}, {"finding", record->key}, {"error", delivery.reason}});
        marked = source->rejected(name, record->sequence);
      } else {
        metrics_.sent.Add({{"sink", name}}).Increment();
        marked = source->delivered(name, record->sequence);
      }
      bool recovered;
      {
        std::lock_guard lock(sink.mutex);
        recovered = !sink.lastError.empty();
        sink.lastError.clear();
      }
      if (recovered) log::info("findings sink reachable again", {{"sink", name}});
      if (!marked.ok()) {
        // The finding went; only the mark did not: it is sent again after a restart (same key).
        log::warn("findings outbox: cannot save a sink's cursor",
                  {{"sink", name}, {"error", marked.error().message}});
      }
    }
  }

  Options options_;
  ExportMetrics metrics_;
  std::shared_ptr<FindingsOutbox> outbox_;  // this replica's
  mutable std::mutex sourcesMutex_;
  std::vector<std::shared_ptr<FindingsOutbox>> adopted_;  // stopped replicas', being delivered
  std::vector<std::unique_ptr<Sink>> sinks_;
  std::mutex intakeMutex_;
  std::deque<std::pair<std::string, std::function<FindingFacts()>>> intakeQueue_;
  core::PeriodicWorker intake_;    // last: their ticks use everything above
  core::PeriodicWorker adoption_;
};

FindingsExport::FindingsExport(Options options, prometheus::Registry& registry)
    : impl_(std::make_unique<Impl>(std::move(options), registry)) {}

FindingsExport::~FindingsExport() = default;

void FindingsExport::finished(const std::string& snapshotId, const CaptureRequest& request,
                              const evidence::WriteResult& result, const json& manifestExtra) {
  // Only what the finding needs is copied: the bundle writer must not wait.
  FindingFacts facts;
  facts.kind = FindingFacts::Kind::kSnapshot;
  facts.findingUid = snapshotId;
  facts.eventUid = "snapshot/" + snapshotId;
  facts.policy = request.policyName;
  facts.severity = request.severity;
  facts.pod = request.pod;
  facts.trigger = request.trigger;
  facts.outcome = outcomeOf(result.phase);
  facts.reason = result.reason;
  if (!result.bundlePath.empty()) facts.bundleLocation = "file://" + result.bundlePath;
  facts.manifestSha256 = result.manifestSha256;
  facts.artifacts = result.artifacts.size();
  if (manifestExtra.contains("actions") && manifestExtra["actions"].is_array()) {
    facts.actions = manifestExtra["actions"];
  }
  std::string podJson = request.podJson;
  impl_->add("snapshot", [facts = std::move(facts), result, podJson = std::move(podJson)]() mutable {
    facts.trail = trailRequests(trailOf(result));
    for (const auto& request : facts.trail) {
      if (request.auditId == facts.trigger.requestUid) facts.sourceIp = request.sourceIp;
    }
    facts.containers = containerImages(podJson);
    return std::move(facts);
  });
}

void FindingsExport::addendumSealed(const AuditAddenda::SealedAddendum& sealed) {
  FindingFacts facts;
  facts.kind = FindingFacts::Kind::kAddendum;
  facts.findingUid = sealed.snapshotId;
  facts.eventUid = "snapshot/" + sealed.snapshotId + "/addendum/" + std::to_string(sealed.addendum.sequence);
  // The snapshot's policy, severity and trigger: an update must not restate them differently.
  facts.policy = sealed.request.policyName;
  facts.severity = sealed.request.severity;
  facts.pod = sealed.request.pod;
  facts.trigger = sealed.request.trigger;
  facts.addendum = sealed.addendum.sequence;
  facts.outcome = "Addendum";
  facts.manifestSha256 = sealed.addendum.manifestSha256;
  if (!sealed.addendum.path.empty()) facts.bundleLocation = "file://" + sealed.addendum.path;
  facts.artifacts = 1;
  impl_->add("addendum", [facts = std::move(facts), lines = sealed.eventLines]() mutable {
    facts.trail = trailRequests(lines);
    return std::move(facts);
  });
}

void FindingsExport::firedWithoutCapture(const policy::CaptureRequest& request, std::string what) {
  FindingFacts facts;
  facts.kind = FindingFacts::Kind::kFiring;
  // The same request seen again (the API server retries a webhook call) gives the same key.
  std::string id = core::sha256Hex(request.key() + "|" + request.trigger.requestUid).substr(0, 32);
  facts.findingUid = id;
  facts.eventUid = "firing/" + id;
  facts.policy = request.policyName;
  facts.severity = request.severity;
  facts.pod = request.pod;
  facts.trigger = request.trigger;
  facts.outcome = std::move(what);
  std::string podJson = request.podJson;
  impl_->add("firing", [facts = std::move(facts), podJson = std::move(podJson)]() mutable {
    facts.containers = containerImages(podJson);
    return std::move(facts);
  });
}

std::vector<FindingsExport::SinkState> FindingsExport::sinks() const { return impl_->states(); }

}  // namespace podmortem::controller
