#include "podmortem/evidence/manifest.h"

#include <array>

#include "podmortem/core/timestamp.h"
#include "podmortem/core/version.h"

namespace podmortem::evidence::manifest {

namespace {
constexpr std::array<std::string_view, 11> kReservedKeys = {
    "apiVersion",       "kind",   "snapshotId", "createdAt", "completedAt", "phase",
    "podmortemVersion", "policy", "trigger",    "pod",       "artifacts"};

bool isHexSha256(const std::string& text) {
  if (text.size() != 64)
    return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
      return false;
  }
  return true;
}

// A string member, or "" when it is missing or of another type (value() would throw).
std::string stringField(const nlohmann::json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

nlohmann::json artifactList(const std::vector<ArtifactRecord>& artifacts) {
  nlohmann::json list = nlohmann::json::array();
  for (const ArtifactRecord& record : artifacts) {
    nlohmann::json item = {
        {"path", record.path}, {"collector", record.collector}, {"size", record.size}};
    if (!record.sha256.empty())
      item["sha256"] = record.sha256;
    if (!record.error.empty())
      item["error"] = record.error;
    list.push_back(std::move(item));
  }
  return list;
}

}  // namespace

bool isReservedKey(std::string_view key) {
  for (std::string_view reserved : kReservedKeys) {
    if (key == reserved)
      return true;
  }
  return false;
}

nlohmann::json build(const SnapshotContent& content, SnapshotPhase phase,
                     const std::vector<ArtifactRecord>& artifacts,
                     std::chrono::system_clock::time_point completedAt) {
  const core::TriggerInfo& trigger = content.trigger;
  nlohmann::json manifest = {
      {"apiVersion", kApiVersion},
      {"kind", kKind},
      {"snapshotId", content.id},
      {"createdAt", core::formatTimestamp(content.createdAt)},
      {"completedAt", core::formatTimestamp(completedAt)},
      {"phase", toString(phase)},
      {"podmortemVersion", core::version()},
      {"policy", {{"name", content.policyName}}},
      {"trigger",
       {{"source", trigger.source},
        {"name", trigger.name},
        {"operation", trigger.operation},
        {"resource", trigger.resource},
        {"user", trigger.user},
        {"groups", trigger.groups},
        {"requestUid", trigger.requestUid},
        {"time", core::formatTimestamp(trigger.time)}}},
      {"pod",
       {{"namespace", content.pod.namespaceName},
        {"name", content.pod.name},
        {"uid", content.pod.uid},
        {"node", content.pod.node}}},
  };
  manifest["artifacts"] = artifactList(artifacts);
  if (content.extra.is_object()) {
    for (const auto& [key, value] : content.extra.items())
      manifest[key] = value;
  }
  return manifest;
}

std::string serialize(const nlohmann::json& manifest) {
  return manifest.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

namespace {

core::Error invalid(std::string message) {
  return core::makeError(core::ErrorCode::kInvalidArgument, std::move(message));
}

// The document, when it is JSON of `kind`.
core::Result<nlohmann::json> parseKind(std::string_view text, std::string_view kind) {
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return invalid("manifest.json is not valid JSON");
  }
  if (stringField(doc, "apiVersion") != kApiVersion || stringField(doc, "kind") != kind) {
    return invalid("manifest.json is not a " + std::string(kApiVersion) + " " + std::string(kind));
  }
  return doc;
}

core::Result<Parsed> parseContent(const nlohmann::json& doc);

}  // namespace

core::Result<Parsed> parse(std::string_view text) {
  auto doc = parseKind(text, kKind);
  if (!doc) return doc.error();
  return parseContent(*doc);
}

nlohmann::json buildAddendum(const AddendumContent& content, uint64_t sequence,
                             const std::string& parentManifestSha256,
                             const std::vector<ArtifactRecord>& artifacts,
                             std::chrono::system_clock::time_point createdAt) {
  nlohmann::json manifest = {
      {"apiVersion", kApiVersion},
      {"kind", kAddendumKind},
      {"snapshotId", content.snapshotId},
      {"sequence", sequence},
      {"parentManifestSha256", parentManifestSha256},
      {"createdAt", core::formatTimestamp(createdAt)},
      {"podmortemVersion", core::version()},
      {"reason", content.reason},
      {"pod",
       {{"namespace", content.pod.namespaceName},
        {"name", content.pod.name},
        {"uid", content.pod.uid}}},
      {"artifacts", artifactList(artifacts)},
  };
  if (content.extra.is_object()) {
    for (const auto& [key, value] : content.extra.items()) {
      if (!manifest.contains(key)) manifest[key] = value;
    }
  }
  return manifest;
}

core::Result<ParsedAddendum> parseAddendum(std::string_view text) {
  auto doc = parseKind(text, kAddendumKind);
  if (!doc) return doc.error();
  auto content = parseContent(*doc);
  if (!content) return content.error();
  ParsedAddendum out;
  out.content = std::move(*content);
  auto sequence = doc->find("sequence");
  out.parentManifestSha256 = stringField(*doc, "parentManifestSha256");
  if (sequence == doc->end() || !sequence->is_number_unsigned() ||
      !isHexSha256(out.parentManifestSha256)) {
    return invalid("manifest.json of an addendum lacks its sequence or parentManifestSha256");
  }
  out.sequence = sequence->get<uint64_t>();
  return out;
}

namespace {

core::Result<Parsed> parseContent(const nlohmann::json& doc) {
  Parsed out;
  auto pod = doc.find("pod");
  auto artifacts = doc.find("artifacts");
  auto id = doc.find("snapshotId");
  if (id == doc.end() || !id->is_string() || pod == doc.end() || !pod->is_object() ||
      artifacts == doc.end() || !artifacts->is_array()) {
    return invalid("manifest.json lacks snapshotId, pod or artifacts");
  }
  out.snapshotId = id->get<std::string>();
  out.namespaceName = stringField(*pod, "namespace");
  out.podName = stringField(*pod, "name");
  out.artifacts.clear();
  for (const nlohmann::json& item : *artifacts) {
    if (!item.is_object() || !item.contains("path") || !item["path"].is_string() ||
        !item.contains("size") || !item["size"].is_number_unsigned()) {
      return invalid("manifest.json has an artifact without a path or size");
    }
    ArtifactRecord record;
    record.path = item["path"].get<std::string>();
    record.size = item["size"].get<uint64_t>();
    record.collector = stringField(item, "collector");
    record.error = stringField(item, "error");
    if (item.contains("sha256")) {
      if (!item["sha256"].is_string() || !isHexSha256(item["sha256"].get<std::string>())) {
        return invalid("manifest.json artifact " + record.path + " has a malformed sha256");
      }
      record.sha256 = item["sha256"].get<std::string>();
    }
    out.artifacts.push_back(std::move(record));
  }
  return out;
}

}  // namespace

}  // namespace podmortem::evidence::manifest
