#include "podmortem/controller/findings_export.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>

#include <condition_variable>
#include <deque>
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
        outbox_(options_.outboxDir, sinkNames(options_.settings), options_.settings.maxPending),
        intake_("findings intake", std::chrono::seconds(5),
                [this](std::stop_token) { drainIntake(); }) {
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
    intake_.start();
    for (auto& sink : sinks_) sink->worker->start();
  }

  ~Impl() {
    intake_.stop();
    drainIntake();  // what arrived after the last tick goes into the outbox: it is kept
    for (auto& sink : sinks_) sink->worker->stop();
  }

  void add(std::string kind, std::function<FindingFacts()> facts) {
    {
      std::lock_guard lock(intakeMutex_);
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
      state.pending = outbox_.pending(state.name);
      if (auto oldest = outbox_.oldestPendingMillis(state.name)) {
        state.oldestPendingSeconds = std::max<int64_t>(0, now - *oldest) / 1000.0;
      }
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
        std::string finding = detectionFinding(facts).dump();
        std::map<std::string, uint64_t> dropped;
        auto appended = outbox_.append(facts.eventUid, facts.pod.key(), facts.timeMillis, finding, dropped);
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
      uint64_t unreadable = 0;
      auto record = outbox_.next(name, unreadable);
      if (unreadable > 0) metrics_.dropped.Add({{"sink", name}}).Increment(static_cast<double>(unreadable));
      if (!record) return;
      Delivery delivery;
      try {
        delivery = sink.transport->deliver(*record);
      } catch (const std::exception& error) {
        delivery = {Delivery::Result::kRetry, error.what(), "configuration"};
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
                    {{"sink", name}, {"error", delivery.reason},
                     {"pending", static_cast<uint64_t>(outbox_.pending(name))}});
        }
        if (!sink.worker->sleepFor(stop, backoff)) return;
        backoff = std::min(backoff * 2, options_.settings.maxBackoff);
        continue;
      }
      backoff = firstBackoff;
      if (delivery.result == Delivery::Result::kRejected) {
        metrics_.rejected.Add({{"sink", name}}).Increment();
        log::error("findings sink refused a finding as malformed; it is not sent again",
                   {{"sink", name}, {"finding", record->key}, {"error", delivery.reason}});
      } else {
        metrics_.sent.Add({{"sink", name}}).Increment();
      }
      bool recovered;
      {
        std::lock_guard lock(sink.mutex);
        recovered = !sink.lastError.empty();
        sink.lastError.clear();
      }
      if (recovered) log::info("findings sink reachable again", {{"sink", name}});
      if (auto saved = outbox_.delivered(name, record->sequence); !saved.ok()) {
        // The finding went; only the mark did not: it is sent again after a restart (same key).
        log::warn("findings outbox: cannot save a sink's cursor",
                  {{"sink", name}, {"error", saved.error().message}});
      }
    }
  }

  Options options_;
  ExportMetrics metrics_;
  FindingsOutbox outbox_;
  std::vector<std::unique_ptr<Sink>> sinks_;
  std::mutex intakeMutex_;
  std::deque<std::pair<std::string, std::function<FindingFacts()>>> intakeQueue_;
  core::PeriodicWorker intake_;  // last: its ticks use everything above
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

void FindingsExport::addendumSealed(const std::string& snapshotId, const core::PodIdentity& pod,
                                    uint64_t sequence, const std::string& manifestSha256,
                                    const std::string& addendumPath, std::string trailLines) {
  FindingFacts facts;
  facts.kind = FindingFacts::Kind::kAddendum;
  facts.findingUid = snapshotId;
  facts.eventUid = "snapshot/" + snapshotId + "/addendum/" + std::to_string(sequence);
  facts.pod = pod;
  facts.addendum = sequence;
  facts.outcome = "Addendum";
  facts.manifestSha256 = manifestSha256;
  if (!addendumPath.empty()) facts.bundleLocation = "file://" + addendumPath;
  facts.artifacts = 1;
  facts.trigger.time = Clock::now();
  impl_->add("addendum", [facts = std::move(facts), lines = std::move(trailLines)]() mutable {
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
