#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "podmortem/core/pod_identity.h"
#include "podmortem/evidence/bundle.h"
#include "podmortem/evidence/custody_ledger.h"

namespace podmortem::evidence {

// What arrives for a snapshot after it was sealed (audit events of the activity that triggered
// it, which the API server batches for up to a minute). A sealed bundle is never rewritten: an
// addendum is a new artifact set in <bundle>/addenda/<n>/ (n = 1, 2, ...) with its own manifest
// (kind EvidenceAddendum) naming the SHA-256 of the manifest before it (the bundle's for n = 1,
// addendum n-1's after), its own signature when a key is configured, and its own custody-ledger
// line ("<namespace>/<pod>/<id>/addenda/<n>").

inline constexpr std::string_view kAddendaFolder = "addenda";

struct AddendumContent {
  std::string snapshotId;
  core::PodIdentity pod;  // namespace and name locate the bundle
  std::string reason;     // why it was added, for a reader of the manifest
  std::vector<Artifact> artifacts;
  nlohmann::json extra = nlohmann::json::object();  // more top-level manifest objects
};

struct AddendumRecord {
  uint64_t sequence = 0;
  std::string path;  // the addendum folder
  std::string manifestSha256;
  std::string parentManifestSha256;
  LedgerAnchor custody;  // the addendum's custody-ledger line
};

}  // namespace podmortem::evidence
