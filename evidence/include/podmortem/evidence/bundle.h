#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "podmortem/core/pod_identity.h"
#include "podmortem/core/result.h"
#include "podmortem/evidence/custody_ledger.h"
#include "podmortem/core/trigger_info.h"

namespace podmortem::evidence {

// What one evidence bundle holds, as the snapshot manager hands it to a Store, and what
// the store reports back. The on-disk shape is described in DESIGN.md ("Evidence bundle").

struct Artifact {
  std::string path;       // relative to the bundle, e.g. "logs/app.log"; see isSafeArtifactPath
  std::string collector;  // which collector produced it
  std::string bytes;      // stored exactly as given
  std::string error;      // non-empty: the collector failed; bytes (if any) are what it got
};

struct SnapshotContent {
  std::string id;  // DNS-1123 label, normally from newSnapshotId()
  std::string policyName;
  core::TriggerInfo trigger;
  core::PodIdentity pod;
  std::vector<Artifact> artifacts;
  std::chrono::system_clock::time_point createdAt;
  // Extra top-level manifest objects (e.g. "auditTrail"); must not reuse a manifest key.
  nlohmann::json extra = nlohmann::json::object();
};

enum class SnapshotPhase { kComplete, kPartial, kFailed };

// "Complete", "Partial", "Failed": the EvidenceSnapshot status.phase and the metrics label.
std::string_view toString(SnapshotPhase phase);

struct ArtifactRecord {
  std::string path;
  std::string collector;
  std::string sha256;  // empty when no file was stored (a failed collector with no bytes)
  std::string error;
  uint64_t size = 0;
};

struct WriteResult {
  SnapshotPhase phase = SnapshotPhase::kFailed;
  std::string reason;      // why Partial or Failed; empty when Complete
  std::string bundlePath;  // where the bundle is; empty when nothing was kept
  std::string manifestSha256;
  std::vector<ArtifactRecord> artifacts;
  uint64_t bytesWritten = 0;  // bytes of the bundle that was kept (0 when nothing was kept)
  // Why the store itself failed (no space, read-only, ...); unset when only collectors did.
  std::optional<core::ErrorCode> errorCode;
  // The bundle's custody-ledger line, to be anchored outside the volume; seq 0 when none.
  LedgerAnchor custody;
};

// 32 lower-case hex characters from the OpenSSL random generator: unguessable, so a snapshot's
// folder cannot be predicted and pre-created by someone else.
std::string newSnapshotId();


}  // namespace podmortem::evidence
