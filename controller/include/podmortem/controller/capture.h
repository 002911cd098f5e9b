#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "podmortem/policy/capture_request.h"
#include "podmortem/policy/pod_record.h"

namespace podmortem::controller {

// The one door from webhooks/ into capture: a capture request in, an outcome with the snapshot
// id and a warning out, and the pods earlier requests showed. Everything behind it (collectors,
// evidence store, EvidenceSnapshot records, deduplication) stays the controller's business.

enum class CapturePhase { kComplete, kPartial, kFailed };

struct CaptureOutcome {
  std::string snapshotId;
  CapturePhase phase = CapturePhase::kFailed;
  // Sealed at its deadline before every collector was done: for a held answer, the hold ran
  // out (the policy's onTimeout applies), though what was in hand is sealed.
  bool cutShort = false;
  // One short line for whoever triggered the capture (kubectl prints it as "Warning: ..."):
  // the snapshot id and a reason, never a server-side path; the details are in the manifest.
  std::string warning;
};

struct CaptureTicket {
  std::string snapshotId;
  bool reused = false;  // an earlier trigger for the same key started (or finished) it
};

using CaptureCallback = std::function<void(const CaptureOutcome&)>;

class Capture {
 public:
  virtual ~Capture() = default;

  // Starts the capture for request.key(), or joins the one running or finished for it, so that
  // the API server calling several times for one deletion gives one snapshot. `done` runs once,
  // never on the caller's thread, when the bundle is sealed. Collectors still running at
  // `deadline` are recorded as timed out.
  virtual CaptureTicket capture(policy::CaptureRequest request,
                                std::chrono::steady_clock::time_point deadline,
                                CaptureCallback done) = 0;

  // A pod an earlier admission request showed (CREATE/UPDATE pods), for requests that only name
  // it (eviction, exec); null when none did.
  virtual std::shared_ptr<const policy::PodRecord> findPod(std::string_view namespaceName,
                                                           std::string_view name) const = 0;
  virtual void rememberPod(policy::PodRecord pod) = 0;
};

}  // namespace podmortem::controller
