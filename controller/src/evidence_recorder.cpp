#include "podmortem/controller/evidence_recorder.h"

#include "podmortem/core/kubernetes_names.h"
#include "podmortem/core/log.h"
#include "podmortem/core/timestamp.h"

namespace podmortem::controller {

namespace log = core::log;
using nlohmann::json;

EvidenceRecorder::EvidenceRecorder(kube::Client& client, Options options, ClusterMetrics* metrics)
    : client_(client),
      options_(std::move(options)),
      metrics_(metrics),
      // Woken by every enqueue; the interval only matters if a wake is ever missed.
      worker_("EvidenceSnapshot records", std::chrono::seconds(5),
              [this](std::stop_token stop) { drain(stop); }) {
  worker_.start();
}

EvidenceRecorder::~EvidenceRecorder() {
  worker_.stop();
  std::stop_source stopped;
  stopped.request_stop();
  drain(stopped.get_token());  // what was queued after the last tick, one attempt each
}

std::string EvidenceRecorder::collectionPath() const {
  return "/apis/podmortem.io/v1alpha1/namespaces/" + options_.namespaceName + "/evidencesnapshots";
}

json EvidenceRecorder::objectFor(const std::string& snapshotId, const CaptureRequest& request) const {
  json labels = {{"app.kubernetes.io/managed-by", "podmortem"}};
  if (core::names::isLabelValue(request.pod.namespaceName)) labels["podmortem.io/pod-namespace"] = request.pod.namespaceName;
  if (core::names::isLabelValue(request.pod.name)) labels["podmortem.io/pod-name"] = request.pod.name;
  if (core::names::isLabelValue(request.policyName)) labels["podmortem.io/policy"] = request.policyName;
  json pod = {{"namespace", request.pod.namespaceName}, {"name", request.pod.name}};
  if (!request.pod.uid.empty()) pod["uid"] = request.pod.uid;
  if (!request.pod.node.empty()) pod["node"] = request.pod.node;
  const auto& trigger = request.trigger;
  json spec = {{"pod", pod},
               {"policy", request.policyName},
               {"trigger",
                {{"source", trigger.source},
                 {"name", trigger.name},
                 {"operation", trigger.operation},
                 {"resource", trigger.resource},
                 {"user", trigger.user},
                 {"groups", trigger.groups},
                 {"requestUID", trigger.requestUid},
                 {"time", core::formatTimestamp(trigger.time)}}}};
  if (!options_.replica.empty()) spec["replica"] = options_.replica;
  return {{"apiVersion", "podmortem.io/v1alpha1"},
          {"kind", "EvidenceSnapshot"},
          {"metadata", {{"name", snapshotId}, {"namespace", options_.namespaceName}, {"labels", labels}}},
          {"spec", spec}};
}

json EvidenceRecorder::statusFor(const evidence::WriteResult& result, const json& manifestExtra,
                                 std::chrono::system_clock::time_point started) {
  json artifacts = json::array();
  uint64_t total = 0;
  for (const auto& artifact : result.artifacts) {
    json entry = {{"path", artifact.path}, {"collector", artifact.collector}, {"size", artifact.size}};
    if (!artifact.sha256.empty()) entry["sha256"] = artifact.sha256;
    if (!artifact.error.empty()) entry["error"] = artifact.error;
    total += artifact.size;
    artifacts.push_back(std::move(entry));
  }
  json status = {{"phase", std::string(toString(result.phase))},
                 {"startTime", core::formatTimestamp(started)},
                 {"completionTime", core::formatTimestamp(std::chrono::system_clock::now())},
                 {"artifactCount", result.artifacts.size()},
                 {"totalBytes", total},
                 {"artifacts", artifacts}};
  if (!result.reason.empty()) status["reason"] = result.reason;
  if (!result.bundlePath.empty()) {
    json bundle = {{"location", "file://" + result.bundlePath}};
    if (!result.manifestSha256.empty()) bundle["manifestSHA256"] = result.manifestSha256;
    status["bundle"] = bundle;
  }
  if (manifestExtra.contains("actions") && manifestExtra["actions"].is_array()) {
    status["actions"] = manifestExtra["actions"];
  }
  if (result.custody.seq > 0) status["custody"] = custodyOf(result.custody);
  return status;
}

json EvidenceRecorder::custodyOf(const evidence::LedgerAnchor& anchor) {
  return {{"ledger", anchor.ledgerId},
          {"seq", anchor.seq},
          {"entrySHA256", anchor.entrySha256},
          {"previousSHA256", anchor.prevSha256}};
}

void EvidenceRecorder::bundleUploaded(const std::string& snapshotId, const std::string& url) {
  // Only a status patch: the object exists (its capture started long before the upload ended).
  enqueue({snapshotId, "PATCH", collectionPath() + "/" + snapshotId + "/status",
           {{"status", {{"bundle", {{"location", url}}}}}}, json()});
}

void EvidenceRecorder::addendumSealed(const std::string& snapshotId, const CaptureRequest& request,
                                      const evidence::AddendumRecord& addendum) {
  if (addendum.custody.seq == 0) return;
  // A map keyed by the addendum's number: a merge patch adds to it without reading it first.
  json custody = {{"addenda", {{std::to_string(addendum.sequence), custodyOf(addendum.custody)}}}};
  enqueue({snapshotId, "PATCH", collectionPath() + "/" + snapshotId + "/status",
           {{"status", {{"custody", std::move(custody)}}}}, objectFor(snapshotId, request)});
}

void EvidenceRecorder::started(const std::string& snapshotId, const CaptureRequest& request) {
  json object = objectFor(snapshotId, request);
  enqueue({snapshotId, "POST", collectionPath(), object, json()});
  enqueue({snapshotId, "PATCH", collectionPath() + "/" + snapshotId + "/status",
           {{"status", {{"phase", "Capturing"}, {"startTime", core::formatTimestamp(request.trigger.time)}}}},
           object});
}

void EvidenceRecorder::finished(const std::string& snapshotId, const CaptureRequest& request,
                                const evidence::WriteResult& result, const json& manifestExtra) {
  enqueue({snapshotId, "PATCH", collectionPath() + "/" + snapshotId + "/status",
           {{"status", statusFor(result, manifestExtra, request.trigger.time)}},
           objectFor(snapshotId, request)});
}

void EvidenceRecorder::enqueue(Work work) {
  {
    std::lock_guard lock(mutex_);
    if (queue_.size() >= options_.queueLimit) {
      if (metrics_ != nullptr) metrics_->records.Add({{"result", "dropped"}}).Increment();
      log::warn("EvidenceSnapshot record dropped: the queue is full",
                {{"snapshot", work.snapshotId}});
      return;
    }
    queue_.push_back(std::move(work));
  }
  worker_.wake();
}

void EvidenceRecorder::drain(std::stop_token stop) {
  while (true) {
    Work work;
    {
      std::lock_guard lock(mutex_);
      if (queue_.empty()) return;
      work = std::move(queue_.front());
      queue_.pop_front();
    }
    bool done = false;
    auto delay = options_.initialBackoff;
    for (int attempt = 0; attempt < options_.attempts && !done; ++attempt) {
      done = perform(work);
      // Shutting down: one attempt each for what is left, so stopping stays bounded.
      if (!done && attempt + 1 < options_.attempts) {
        if (!worker_.sleepFor(stop, delay)) break;
        delay *= 2;
      }
    }
    if (metrics_ != nullptr) {
      metrics_->records
          .Add({{"result", done ? (work.method == "POST" ? "created" : "updated") : "failed"}})
          .Increment();
    }
  }
}

bool EvidenceRecorder::perform(const Work& work) {
  kube::Request request;
  request.method = work.method;
  request.path = work.path;
  request.resource = work.method == "POST" ? "evidencesnapshots" : "evidencesnapshots/status";
  request.verb = work.method == "POST" ? "create" : "patch";
  request.body = work.body.dump();
  if (work.method == "PATCH") request.contentType = "application/merge-patch+json";
  auto response = client_.send(request);
  if (response.ok()) return true;
  if (work.method == "POST" && response.reason() == "AlreadyExists") return true;  // a retry
  if (work.method == "PATCH" && response.status == 404 && work.object.is_object()) {
    // The create never made it (the API was down): create now, then patch again.
    kube::Request create;
    create.method = "POST";
    create.verb = "create";
    create.resource = "evidencesnapshots";
    create.path = collectionPath();
    create.body = work.object.dump();
    auto created = client_.send(create);
    if (created.ok() || created.reason() == "AlreadyExists") return client_.send(request).ok();
  }
  log::warn("EvidenceSnapshot write failed",
            {{"snapshot", work.snapshotId}, {"method", work.method}, {"error", response.describe()}});
  return false;
}

}  // namespace podmortem::controller
