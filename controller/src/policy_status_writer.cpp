#include "podmortem/controller/policy_status_writer.h"

#include "podmortem/core/log.h"
#include "podmortem/core/timestamp.h"
#include "podmortem/evidence/bundle.h"
#include "podmortem/policy/policy.h"

namespace podmortem::controller {

namespace log = core::log;
using nlohmann::json;

namespace {

std::string joined(const std::vector<std::string>& values, const char* separator) {
  std::string text;
  for (const auto& value : values) text += (text.empty() ? "" : separator) + value;
  return text;
}

std::string triggerSummary(const policy::Policy& policy) {
  std::vector<std::string> parts;
  for (const auto& trigger : policy.triggers) {
    if (trigger.source == policy::TriggerSource::kAdmission) {
      parts.push_back(joined(trigger.operations, "|") + " " + joined(trigger.resources, ","));
    } else {
      parts.push_back("audit " + joined(trigger.verbs, "|") + " " + joined(trigger.resources, ","));
    }
  }
  return joined(parts, "; ");
}

std::string actionSummary(const policy::Policy& policy) {
  std::vector<std::string> parts;
  if (policy.actions.snapshot) parts.push_back("snapshot");
  if (!policy.actions.labels.empty()) parts.push_back("labels");
  if (!policy.actions.annotations.empty()) parts.push_back("annotations");
  if (policy.actions.quarantine) parts.push_back("quarantine");
  return joined(parts, ", ");
}

uint64_t counter(const json& status, const char* key) {
  return status.is_object() && status.contains(key) && status[key].is_number_unsigned()
             ? status[key].get<uint64_t>()
             : 0;
}

}  // namespace

PolicyStatusWriter::PolicyStatusWriter(kube::Client& client, policy::PolicyStore& store,
                                       KubePolicySource& source, PolicyActivity& activity,
                                       std::function<bool()> isLeader,
                                       std::chrono::milliseconds interval)
    : client_(client), store_(store), source_(source), activity_(activity),
      isLeader_(std::move(isLeader)), interval_(interval),
      worker_("policy status", interval_, [this](std::stop_token) {
        if (isLeader_()) writeOnce();
      }) {}

PolicyStatusWriter::~PolicyStatusWriter() { stop(); }

void PolicyStatusWriter::start() { worker_.start(); }

void PolicyStatusWriter::stop() { worker_.stop(); }

json PolicyStatusWriter::readyCondition(bool valid, const std::string& message, int64_t generation,
                                        const json& previous) {
  json condition = {{"type", "Ready"},
                    {"status", valid ? "True" : "False"},
                    {"reason", valid ? "Valid" : "Invalid"},
                    {"message", message},
                    {"observedGeneration", generation}};
  // lastTransitionTime moves only when the status value does (metav1.Condition's contract).
  std::string transition = core::formatTimestamp(std::chrono::system_clock::now());
  if (previous.is_object()) {
    for (const auto& old : previous.value("conditions", json::array())) {
      if (old.value("type", "") == "Ready" && old.value("status", "") == condition["status"]) {
        transition = old.value("lastTransitionTime", transition);
      }
    }
  }
  condition["lastTransitionTime"] = transition;
  return condition;
}

size_t PolicyStatusWriter::writeOnce() {
  auto set = store_.current();
  auto problems = store_.problems();
  size_t patches = 0;
  for (const auto& observed : source_.observed()) {
    std::string sourceName = KubePolicySource::sourceName(observed.name);
    std::vector<std::string> reasons;
    for (const auto& problem : problems) {
      if (problem.source == sourceName) {
        reasons.push_back((problem.fieldPath.empty() ? "" : problem.fieldPath + ": ") + problem.reason);
      }
    }
    auto policy = set->find(observed.name);
    bool valid = reasons.empty() && policy && policy->source == sourceName;
    if (reasons.empty() && !valid) reasons.push_back("a policy file of the same name takes precedence");
    json status = observed.status.is_object() ? observed.status : json::object();
    auto& mine = written_[observed.name];
    // What this replica wrote last is newer than a watch that has not caught up yet; another
    // leader's writes are newer than ours. Counters only grow, so the larger of the two wins.
    const json& previous = mine.status.is_object() ? mine.status : status;
    auto counts = activity_.of(observed.name);
    uint64_t matches = std::max(counter(status, "matches"), counter(mine.status, "matches")) +
                       (counts.matches - mine.counts.matches);
    uint64_t snapshots = std::max(counter(status, "snapshots"), counter(mine.status, "snapshots")) +
                         (counts.snapshots - mine.counts.snapshots);
    json desired = {
        {"observedGeneration", observed.generation},
        {"conditions", {readyCondition(valid, valid ? "policy loaded" : joined(reasons, "; "),
                                       observed.generation, previous)}},
        {"matches", matches},
        {"snapshots", snapshots},
        {"triggers", policy && valid ? triggerSummary(*policy) : ""},
        {"actions", policy && valid ? actionSummary(*policy) : ""}};
    if (counts.lastTrigger != std::chrono::system_clock::time_point{}) {
      desired["lastTriggerTime"] = core::formatTimestamp(counts.lastTrigger);
    } else if (previous.contains("lastTriggerTime")) {
      desired["lastTriggerTime"] = previous["lastTriggerTime"];
    }
    if (desired == status || desired == mine.status) continue;
    kube::Request patch;
    patch.verb = "patch";
    patch.method = "PATCH";
    patch.resource = "forensicpolicies/status";
    patch.path = std::string(KubePolicySource::kPath) + "/" + observed.name + "/status";
    patch.contentType = "application/merge-patch+json";
    patch.body = json{{"status", desired}}.dump();
    auto response = client_.send(patch);
    if (response.ok()) {
      mine = {desired, counts};
      ++patches;
    } else {
      log::warn("ForensicPolicy status write failed",
                {{"policy", observed.name}, {"error", response.describe()}});
    }
  }
  return patches;
}

}  // namespace podmortem::controller
