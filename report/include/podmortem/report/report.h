#pragma once

// `podmortem report`: what happened to a pod, from its evidence bundle, on one time axis.

#include <nlohmann/json.hpp>
#include <string>

#include "podmortem/core/result.h"
#include "podmortem/evidence/signer.h"

namespace podmortem::report {

struct TimelineOptions {
  // When given, the bundle's signature must be by this key (as `podmortem verify --key`).
  const evidence::SignatureVerifier* verifier = nullptr;
  // Prefix of the artifact links, so that they resolve from where the page is written
  // (e.g. "../evidence/shop/web-0/<id>/"); empty: relative to the bundle itself.
  std::string linkBase;
  // Container log lines taken into the timeline per log file; the rest is counted.
  size_t maxLogLines = 2000;
};

// The timeline of one snapshot folder (it holds manifest.json), as an EvidenceReport document:
// the verification result, the snapshot (pod, policy, trigger), its artifacts with their hashes,
// and `entries` in time order: audit and admission events (one per request, with exec commands
// and source IPs), the pod's Kubernetes events, container log lines, the pod's own times, the
// capture, its actions and addenda. Each entry names the artifact (and line) it comes from.
// An error only when `bundleDir` is not a snapshot folder; a tampered bundle is reported inside.
// Reads only files inside the bundle. Never throws for what a bundle holds.
core::Result<nlohmann::json> buildTimeline(const std::string& bundleDir, const TimelineOptions& options);

// One self-contained HTML page of a timeline: no network access (a Content-Security-Policy that
// allows only its own inline style and script, by hash), filterable by actor and kind, readable
// without scripts.
std::string renderHtml(const nlohmann::json& timeline);

}  // namespace podmortem::report
