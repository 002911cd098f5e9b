#pragma once

// manifest.json as the store writes it and the verifier (and anyone reading a bundle) reads it,
// kept in one place so the two cannot drift apart.

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "podmortem/core/result.h"
#include "podmortem/evidence/addendum.h"
#include "podmortem/evidence/bundle.h"

namespace podmortem::evidence::manifest {

inline constexpr std::string_view kApiVersion = "podmortem.io/v1alpha1";
inline constexpr std::string_view kKind = "EvidenceManifest";
inline constexpr std::string_view kAddendumKind = "EvidenceAddendum";

// The keys the store owns; SnapshotContent::extra may not reuse them.
bool isReservedKey(std::string_view key);

nlohmann::json build(const SnapshotContent& content, SnapshotPhase phase,
                     const std::vector<ArtifactRecord>& artifacts,
                     std::chrono::system_clock::time_point completedAt);

// Pretty-printed with a final newline. Invalid UTF-8 (say, in a collector's error text) is
// replaced rather than thrown on: the evidence matters more than one odd character.
std::string serialize(const nlohmann::json& manifest);

// What the verifier needs back; an error when the document is not a manifest.
struct Parsed {
  std::string snapshotId;
  std::string namespaceName;
  std::string podName;
  std::vector<ArtifactRecord> artifacts;  // sha256 empty: no file was stored
};
core::Result<Parsed> parse(std::string_view text);

// An addendum's manifest (addendum.h): what it adds, and the manifest it follows.
nlohmann::json buildAddendum(const AddendumContent& content, uint64_t sequence,
                             const std::string& parentManifestSha256,
                             const std::vector<ArtifactRecord>& artifacts,
                             std::chrono::system_clock::time_point createdAt);

struct ParsedAddendum {
  Parsed content;
  uint64_t sequence = 0;
  std::string parentManifestSha256;
};
core::Result<ParsedAddendum> parseAddendum(std::string_view text);

}  // namespace podmortem::evidence::manifest
