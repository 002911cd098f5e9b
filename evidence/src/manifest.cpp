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
  manifest["artifacts"] = std::move(list);
  if (content.extra.is_object()) {
    for (const auto& [key, value] : content.extra.items())
      manifest[key] = value;
  }
  return manifest;
}

std::string serialize(const nlohmann::json& manifest) {
  return manifest.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

core::Result<Parsed> parse(std::string_view text) {
  auto invalid = [](std::string message) {
    return core::makeError(core::ErrorCode::kInvalidArgument, std::move(message));
  };
  Parsed out;
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return invalid("manifest.json is not valid JSON");
  }
  if (stringField(doc, "apiVersion") != kApiVersion || stringField(doc, "kind") != kKind) {
    return invalid("manifest.json is not a " + std::string(kApiVersion) + " " + std::string(kKind));
  }
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

}  // namespace podmortem::evidence::manifest
