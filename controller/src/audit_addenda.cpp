#include "podmortem/controller/audit_addenda.h"

#include <algorithm>

#include "podmortem/core/log.h"

namespace podmortem::controller {

namespace log = core::log;
using Clock = std::chrono::steady_clock;

namespace {

// A capture that never finished (it cannot happen, but a watch must not live forever).
constexpr auto kUnsealedLimit = std::chrono::minutes(10);
constexpr std::string_view kAdmissionSourceMark = R"("podmortem.io/source":"admission")";

std::string podKey(std::string_view namespaceName, std::string_view name) {
  return std::string(namespaceName) + "/" + std::string(name);
}

}  // namespace

AuditAddenda::AuditAddenda(evidence::Store& store, const policy::CorrelationWindow& window,
                           SnapshotMetrics& metrics, Options options)
    : store_(store),
      window_(window),
      metrics_(metrics),
      options_(options),
      worker_("audit addenda", options.flushInterval, [this](std::stop_token) { flush(); }) {
  worker_.start(core::PeriodicWorker::FirstTick::kAfterInterval);
}

AuditAddenda::~AuditAddenda() {
  worker_.stop();
  flush();
}

void AuditAddenda::started(const std::string& snapshotId, const CaptureRequest& request) {
  auto watch = std::make_shared<Watch>();
  watch->snapshotId = snapshotId;
  watch->pod = request.pod;
  if (options_.onSealed) {
    watch->request.pod = request.pod;
    watch->request.policyName = request.policyName;
    watch->request.severity = request.severity;
    watch->request.trigger = request.trigger;
  }
  std::lock_guard lock(mutex_);
  byPod_[podKey(request.pod.namespaceName, request.pod.name)].push_back(std::move(watch));
}

void AuditAddenda::finished(const std::string& snapshotId, const CaptureRequest& request,
                            const evidence::WriteResult& result,
                            const nlohmann::json& manifestExtra) {
  uint64_t trailThrough = 0;
  if (auto trail = manifestExtra.find("auditTrail"); trail != manifestExtra.end()) {
    trailThrough = trail->value("windowEventsIndexed", uint64_t{0});
  }
  std::lock_guard lock(mutex_);
  auto it = byPod_.find(podKey(request.pod.namespaceName, request.pod.name));
  if (it == byPod_.end()) return;
  auto& watches = it->second;
  for (auto watch = watches.begin(); watch != watches.end(); ++watch) {
    if ((*watch)->snapshotId != snapshotId) continue;
    if (result.bundlePath.empty()) {  // nothing was kept to add to
      watches.erase(watch);
      break;
    }
    auto& pending = (*watch)->pending;
    pending.erase(std::remove_if(pending.begin(), pending.end(),
                                 [&](const auto& event) { return event.first <= trailThrough; }),
                  pending.end());
    (*watch)->trailThrough = trailThrough;
    (*watch)->sealed = true;
    (*watch)->until = Clock::now() + options_.lateness;
    break;
  }
  if (watches.empty()) byPod_.erase(it);
}

void AuditAddenda::onEvent(const policy::AuditEvent& event, std::string_view raw) {
  if (!event.isPodEvent()) return;
  const uint64_t ordinal = window_.indexedTotal();
  auto now = Clock::now();
  std::lock_guard lock(mutex_);
  auto it = byPod_.find(podKey(event.namespaceName, event.name));
  if (it == byPod_.end()) return;
  for (auto& watch : it->second) {
    if (now < watch->until) watch->pending.emplace_back(ordinal, std::string(raw));
  }
}

void AuditAddenda::flush() {
  std::vector<std::pair<std::shared_ptr<Watch>, std::vector<std::pair<uint64_t, std::string>>>>
      due;
  auto now = Clock::now();
  {
    std::lock_guard lock(mutex_);
    for (auto it = byPod_.begin(); it != byPod_.end();) {
      auto& watches = it->second;
      for (auto& watch : watches) {
        if (watch->sealed && !watch->pending.empty()) {
          due.emplace_back(watch, std::move(watch->pending));
          watch->pending.clear();
        }
      }
      std::erase_if(watches, [&](const std::shared_ptr<Watch>& watch) {
        return watch->pending.empty() &&
               (now >= watch->until || (!watch->sealed && now - watch->startedAt > kUnsealedLimit));
      });
      it = watches.empty() ? byPod_.erase(it) : std::next(it);
    }
  }
  for (auto& [watch, events] : due) seal(*watch, std::move(events));
}

void AuditAddenda::seal(Watch& watch, std::vector<std::pair<uint64_t, std::string>> events) {
  std::string lines;
  size_t fromAdmission = 0;
  for (const auto& [ordinal, raw] : events) {
    if (raw.find(kAdmissionSourceMark) != std::string::npos) ++fromAdmission;
    lines += raw;
    lines += '\n';
  }
  evidence::AddendumContent content;
  content.snapshotId = watch.snapshotId;
  content.pod = watch.pod;
  content.reason = "audit events of the pod that arrived after the snapshot was sealed";
  content.artifacts.push_back({"audit-trail.jsonl", "auditTrail", std::move(lines), ""});
  content.extra["auditTrail"] = {{"events", events.size()},
                                 {"fromAdmission", fromAdmission},
                                 {"afterWindowEventsIndexed", watch.trailThrough}};
  auto added = store_.addAddendum(content);
  if (!added) {
    metrics_.addenda.Add({{"result", "failed"}}).Increment();
    log::error("could not seal late audit events as an addendum",
               {{"snapshot", watch.snapshotId}, {"events", static_cast<uint64_t>(events.size())},
                {"error", added.error().message}});
    return;
  }
  metrics_.addenda.Add({{"result", "written"}}).Increment();
  if (options_.onSealed) {
    options_.onSealed({watch.snapshotId, watch.request, *added, content.artifacts.front().bytes});
  }
  log::info("late audit events sealed as an addendum",
            {{"snapshot", watch.snapshotId}, {"addendum", added->sequence},
             {"events", static_cast<uint64_t>(events.size())},
             {"manifestSha256", added->manifestSha256}});
}

}  // namespace podmortem::controller
