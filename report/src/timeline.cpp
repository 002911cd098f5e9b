#include <algorithm>
#include <filesystem>
#include <set>

#include "entries.h"
#include "podmortem/core/file_io.h"
#include "podmortem/core/timestamp.h"
#include "podmortem/core/version.h"
#include "podmortem/evidence/addendum.h"
#include "podmortem/evidence/artifact_path.h"
#include "podmortem/evidence/manifest.h"
#include "podmortem/evidence/store.h"
#include "podmortem/evidence/verifier.h"
#include "podmortem/report/report.h"

namespace podmortem::report {

namespace fs = std::filesystem;
using internal::Entry;
using nlohmann::json;

namespace {

std::string text(const json& value) { return value.is_string() ? value.get<std::string>() : std::string(); }

json field(const json& object, const char* key) {
  return object.is_object() && object.contains(key) ? object[key] : json();
}

std::string formatMicros(int64_t micros) {
  return core::formatMicroTime(std::chrono::system_clock::time_point(std::chrono::microseconds(micros)));
}

// Reads a bundle file; empty when it is not there or not a regular file (the verifier says why).
std::string readArtifact(const fs::path& dir, const std::string& path) {
  std::string bytes;
  std::error_code ec;
  if (!fs::is_regular_file(fs::symlink_status(dir / path, ec))) return bytes;
  if (!core::fileio::readFile((dir / path).string(), bytes).ok()) bytes.clear();
  return bytes;
}

json verification(const fs::path& dir, const TimelineOptions& options) {
  auto report = evidence::verifyEvidence(dir.string(), options.verifier);
  auto list = [&](const std::vector<evidence::VerifyProblem>& items) {
    json out = json::array();
    for (const auto& item : items) {
      // Paths relative to the bundle: the reader knows which bundle this is.
      std::string path = item.path;
      std::string prefix = dir.string() + "/";
      if (path.rfind(prefix, 0) == 0) path = path.substr(prefix.size());
      out.push_back({{"path", path}, {"message", item.message}});
    }
    return out;
  };
  json notes = report.notes;
  return {{"intact", report.ok()},
          {"signed", options.verifier != nullptr},
          {"signaturesChecked", report.signaturesChecked},
          {"artifactsChecked", report.artifactsChecked},
          {"addendaChecked", report.addendaChecked},
          {"ledgerEntries", report.ledgerEntries},
          {"ledgerHeadSha256", report.ledgerHeadSha256},
          {"problems", list(report.problems)},
          {"notCaptured", list(report.notCaptured)},
          {"notes", notes}};
}

// The capture itself: the trigger, the bundle sealed, each action, from the manifest.
void captureEntries(const json& manifest, std::vector<Entry>& out) {
  json trigger = field(manifest, "trigger");
  auto add = [&](const json& when, const std::string& kind, std::string actor, std::string summary, json detail) {
    if (!when.is_string()) return;
    auto micros = core::parseTimestampMicros(when.get<std::string>());
    if (!micros) return;
    Entry entry;
    entry.micros = *micros;
    entry.kind = kind;
    entry.actor = std::move(actor);
    entry.summary = std::move(summary);
    entry.detail = std::move(detail);
    entry.artifact = std::string(evidence::kManifestFileName);
    out.push_back(std::move(entry));
  };
  std::string policy = text(field(field(manifest, "policy"), "name"));
  std::string what = text(field(trigger, "operation")) + " " + text(field(trigger, "resource"));
  add(field(trigger, "time"), "capture", text(field(trigger, "user")),
      "policy " + policy + " fired (" + text(field(trigger, "source")) + " trigger " + text(field(trigger, "name")) +
          ": " + what + ")",
      {{"requestUid", field(trigger, "requestUid")}, {"groups", field(trigger, "groups")}});
  add(field(manifest, "createdAt"), "capture", "podmortem", "capture started: snapshot " + text(field(manifest, "snapshotId")),
      json::object());
  add(field(manifest, "completedAt"), "capture", "podmortem", "bundle sealed: " + text(field(manifest, "phase")),
      json::object());
  json actions = field(manifest, "actions");
  if (actions.is_array()) {
    for (const json& action : actions) {
      add(field(manifest, "completedAt"), "action", "podmortem",
          text(field(action, "action")) + ": " + text(field(action, "result")) +
              (text(field(action, "message")).empty() ? "" : " (" + text(field(action, "message")) + ")"),
          json::object());
    }
  }
}

// A bundle's (or addendum's) artifacts that go on the timeline.
void artifactEntries(const fs::path& bundle, const std::string& folder, const json& manifest,
                     const TimelineOptions& options, std::vector<Entry>& out, json& notes) {
  json artifacts = field(manifest, "artifacts");
  if (!artifacts.is_array()) return;
  for (const json& artifact : artifacts) {
    std::string path = text(field(artifact, "path"));
    // A manifest names files inside its bundle; any other path is not read (../../home/...).
    if (!evidence::isSafeArtifactPath(path) || text(field(artifact, "sha256")).empty()) continue;
    std::string relative = folder + path;
    std::string bytes = readArtifact(bundle, relative);
    if (bytes.empty()) continue;
    if (path == "audit-trail.jsonl") {
      size_t skipped = 0;
      internal::auditEntries(bytes, relative, out, skipped);
      if (skipped > 0) notes.push_back(relative + ": " + std::to_string(skipped) + " line(s) are not audit events");
    } else if (path == "events.json") {
      internal::kubernetesEventEntries(bytes, relative, out);
    } else if (path.rfind("logs/", 0) == 0 && path.ends_with(".log")) {
      std::string container = path.substr(5, path.size() - 9);
      size_t left = internal::logEntries(bytes, relative, container, options.maxLogLines, out);
      if (left > 0) notes.push_back(relative + ": " + std::to_string(left) + " more line(s) than the timeline shows");
    } else if (path == "pod.json") {
      internal::podEntries(json::parse(bytes, nullptr, false), relative, out);
    }
  }
}

json artifactList(const json& manifest, const std::string& folder, const json& problems) {
  json out = json::array();
  json artifacts = field(manifest, "artifacts");
  if (!artifacts.is_array()) return out;
  for (const json& artifact : artifacts) {
    std::string path = folder + text(field(artifact, "path"));
    std::string state = text(field(artifact, "sha256")).empty() ? "not captured" : "intact";
    for (const json& problem : problems) {
      if (text(field(problem, "path")) == path) state = "problem: " + text(field(problem, "message"));
    }
    out.push_back({{"path", path},
                   {"collector", field(artifact, "collector")},
                   {"sha256", field(artifact, "sha256")},
                   {"size", field(artifact, "size")},
                   {"error", field(artifact, "error")},
                   {"state", state}});
  }
  return out;
}

}  // namespace

namespace {

core::Result<json> timelineOf(const std::string& bundleDir, const TimelineOptions& options) {
  const fs::path dir = fs::path(bundleDir).lexically_normal();
  std::string manifestText = readArtifact(dir, std::string(evidence::kManifestFileName));
  json manifest = json::parse(manifestText, nullptr, false);
  if (!manifest.is_object() || text(field(manifest, "kind")) != evidence::manifest::kKind) {
    return core::makeError(core::ErrorCode::kInvalidArgument,
                           bundleDir + " is not a snapshot folder: it has no readable manifest.json of an EvidenceManifest");
  }
  json result = {{"apiVersion", "podmortem.io/v1alpha1"},
                 {"kind", "EvidenceReport"},
                 {"generatedAt", core::formatTimestamp(std::chrono::system_clock::now())},
                 {"podmortemVersion", core::version()},
                 {"bundle", dir.string()},
                 {"linkBase", options.linkBase}};
  result["verification"] = verification(dir, options);
  result["snapshot"] = {{"id", field(manifest, "snapshotId")},
                        {"phase", field(manifest, "phase")},
                        {"createdAt", field(manifest, "createdAt")},
                        {"completedAt", field(manifest, "completedAt")},
                        {"policy", field(field(manifest, "policy"), "name")},
                        {"trigger", field(manifest, "trigger")},
                        {"pod", field(manifest, "pod")},
                        {"auditTrail", field(manifest, "auditTrail")}};
  json notes = json::array();
  std::vector<Entry> entries;
  captureEntries(manifest, entries);
  artifactEntries(dir, "", manifest, options, entries, notes);
  json artifacts = artifactList(manifest, "", result["verification"]["problems"]);

  // Addenda: audit events that came after the seal, in their own sealed folders.
  std::error_code ec;
  std::vector<uint64_t> addenda;
  for (const auto& entry : fs::directory_iterator(dir / evidence::kAddendaFolder, ec)) {
    std::string name = entry.path().filename().string();
    if (!name.empty() && name.size() <= 9 && name.find_first_not_of("0123456789") == std::string::npos) {
      addenda.push_back(std::stoull(name));
    }
  }
  std::sort(addenda.begin(), addenda.end());
  for (uint64_t sequence : addenda) {
    std::string folder = std::string(evidence::kAddendaFolder) + "/" + std::to_string(sequence) + "/";
    json addendum = json::parse(readArtifact(dir, folder + std::string(evidence::kManifestFileName)), nullptr, false);
    if (!addendum.is_object()) continue;
    if (auto when = core::parseTimestampMicros(text(field(addendum, "createdAt")))) {
      Entry sealed;
      sealed.micros = *when;
      sealed.kind = "addendum";
      sealed.actor = "podmortem";
      sealed.summary = "addendum " + std::to_string(sequence) + " sealed: " + text(field(addendum, "reason"));
      sealed.artifact = folder + std::string(evidence::kManifestFileName);
      entries.push_back(std::move(sealed));
    }
    artifactEntries(dir, folder, addendum, options, entries, notes);
    for (auto& artifact : artifactList(addendum, folder, result["verification"]["problems"])) artifacts.push_back(artifact);
  }

  // One time axis; at the same microsecond, the order the artifacts gave.
  std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.micros < b.micros; });
  json rows = json::array();
  std::set<std::string> actors, kinds;
  for (const Entry& entry : entries) {
    json row = {{"time", formatMicros(entry.micros)},
                {"kind", entry.kind},
                {"actor", entry.actor},
                {"summary", entry.summary},
                {"artifact", entry.artifact}};
    if (entry.line > 0) row["line"] = entry.line;
    if (!entry.detail.empty()) row["detail"] = entry.detail;
    rows.push_back(std::move(row));
    if (!entry.actor.empty()) actors.insert(entry.actor);
    kinds.insert(entry.kind);
  }
  result["artifacts"] = artifacts;
  result["actors"] = actors;
  result["kinds"] = kinds;
  result["entries"] = rows;
  result["notes"] = notes;
  return result;
}

}  // namespace

core::Result<json> buildTimeline(const std::string& bundleDir, const TimelineOptions& options) {
  // A bundle is someone else's bytes: whatever the JSON library or the file system throws on them
  // becomes an error, never the end of the process.
  try {
    return timelineOf(bundleDir, options);
  } catch (const std::exception& error) {
    return core::makeError(core::ErrorCode::kInvalidArgument, bundleDir + ": cannot be read as a bundle: " + error.what());
  }
}

}  // namespace podmortem::report
