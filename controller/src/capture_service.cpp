#include "podmortem/controller/capture_service.h"

#include <set>

#include "shared_captures.h"

namespace podmortem::controller {

namespace {

std::string shortId(const std::string& id) { return id.substr(0, 12); }

CapturePhase phaseOf(evidence::SnapshotPhase phase) {
  switch (phase) {
    case evidence::SnapshotPhase::kComplete:
      return CapturePhase::kComplete;
    case evidence::SnapshotPhase::kPartial:
      return CapturePhase::kPartial;
    case evidence::SnapshotPhase::kFailed:
      return CapturePhase::kFailed;
  }
  return CapturePhase::kFailed;
}

std::string count(size_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

// What the store itself said, in words for a client.
std::string storeReason(core::ErrorCode code) {
  switch (code) {
    case core::ErrorCode::kNoSpace:
      return "no space on the evidence volume";
    case core::ErrorCode::kReadOnly:
      return "the evidence volume is read-only";
    case core::ErrorCode::kPermissionDenied:
      return "no permission to write the evidence volume";
    default:
      return "the evidence store failed (see the server log)";
  }
}

}  // namespace

std::string clientReason(const evidence::WriteResult& result) {
  if (result.errorCode) {
    // A refused request (a name Kubernetes would not accept) says which; it names no path.
    if (*result.errorCode == core::ErrorCode::kInvalidArgument) return result.reason;
    return storeReason(*result.errorCode);
  }
  std::set<std::string> needApi;
  std::set<std::string> timedOut;
  std::set<std::string> stopped;
  std::set<std::string> failed;
  for (const auto& artifact : result.artifacts) {
    if (artifact.error.empty()) continue;
    if (artifact.error.find("needs a Kubernetes API") != std::string::npos) {
      needApi.insert(artifact.collector);
    } else if (artifact.error.rfind("timed out", 0) == 0) {
      timedOut.insert(artifact.collector);
    } else if (artifact.error.rfind("the server stopped", 0) == 0) {
      stopped.insert(artifact.collector);
    } else {
      failed.insert(artifact.collector);
    }
  }
  std::string reason;
  auto add = [&reason](const std::string& part) {
    reason += (reason.empty() ? "" : ", ") + part;
  };
  if (!needApi.empty()) {
    add(count(needApi.size(), "collector needs", "collectors need") + " a Kubernetes API");
  }
  if (!timedOut.empty()) add(count(timedOut.size(), "collector", "collectors") + " timed out");
  if (!stopped.empty()) {
    add(count(stopped.size(), "collector", "collectors") + " cut short by a server stop");
  }
  if (!failed.empty()) add(count(failed.size(), "collector", "collectors") + " failed");
  return reason.empty() ? "see the manifest" : reason;
}

std::string warningFor(const SnapshotOutcome& outcome, const std::string& policyName) {
  const auto& result = outcome.result;
  std::string id = shortId(outcome.snapshotId);
  switch (result.phase) {
    case evidence::SnapshotPhase::kComplete:
      return "podmortem: evidence snapshot " + id + "… captured (policy " + policyName + ", " +
             std::to_string(outcome.artifactsStored) + " artifacts)";
    case evidence::SnapshotPhase::kPartial:
      return "podmortem: evidence snapshot " + id + "… partially captured (policy " + policyName +
             ", " + std::to_string(outcome.artifactsStored) + " of " +
             std::to_string(outcome.artifactsTotal) + " artifacts; " + clientReason(result) + ")";
    case evidence::SnapshotPhase::kFailed:
      return "podmortem: evidence capture " + id + "… failed (policy " + policyName + "): " +
             clientReason(result);
  }
  return {};
}

CaptureService::CaptureService(SnapshotManager& snapshots, PodCache& pods,
                               policy::CaptureClaims* claims)
    : snapshots_(snapshots), pods_(pods) {
  if (claims == nullptr) return;
  shared_ = std::make_unique<SharedCaptures>(
      *claims, [this](policy::CaptureRequest request, std::chrono::steady_clock::time_point deadline,
                      std::string snapshotId, CaptureCallback done) {
        captureHere(std::move(request), deadline, std::move(done), std::move(snapshotId));
      });
}

CaptureService::~CaptureService() = default;

void CaptureService::drain() {
  if (shared_) shared_->drain();
}

CaptureTicket CaptureService::capture(policy::CaptureRequest request,
                                      std::chrono::steady_clock::time_point deadline,
                                      CaptureCallback done) {
  if (shared_) return shared_->capture(std::move(request), deadline, std::move(done));
  return captureHere(std::move(request), deadline, std::move(done), {});
}

CaptureTicket CaptureService::captureHere(policy::CaptureRequest request,
                                          std::chrono::steady_clock::time_point deadline,
                                          CaptureCallback done, std::string snapshotId) {
  std::string policyName = request.policyName;
  return snapshots_.capture(
      std::move(request), deadline,
      [policyName, done = std::move(done)](const SnapshotOutcome& outcome) {
        done({outcome.snapshotId, phaseOf(outcome.result.phase), outcome.cutShort,
              warningFor(outcome, policyName)});
      },
      std::move(snapshotId));
}

std::shared_ptr<const policy::PodRecord> CaptureService::findPod(std::string_view namespaceName,
                                                                 std::string_view name) const {
  return pods_.find(namespaceName, name);
}

void CaptureService::rememberPod(policy::PodRecord pod) { pods_.remember(std::move(pod)); }

}  // namespace podmortem::controller
