#include "ocsf_finding.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <map>

#include "podmortem/core/timestamp.h"
#include "podmortem/core/version.h"

namespace podmortem::controller {

using nlohmann::json;

namespace {

constexpr int kClassUid = 2004;  // Detection Finding
constexpr int kCategoryUid = 2;  // Findings
constexpr int kActivityCreate = 1;
constexpr int kActivityUpdate = 2;
constexpr int kStatusNew = 1;
constexpr int kSha256AlgorithmId = 3;  // OCSF fingerprint algorithm_id
constexpr int kRegularFile = 1;        // OCSF file type_id

// A JSON string member, or "" when it is absent or not a string.
std::string text(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

const json& member(const json& object, const char* key) {
  static const json kNull;
  auto it = object.find(key);
  return it != object.end() ? *it : kNull;
}

int64_t millisOf(const std::string& timestamp) {
  auto micros = core::parseTimestampMicros(timestamp);
  return micros ? *micros / 1000 : 0;
}

int stageRank(const std::string& stage) {
  if (stage == "RequestReceived") return 0;
  if (stage == "ResponseStarted") return 1;
  return 2;  // ResponseComplete, Panic
}

// A Kubernetes uid is a UUID; OCSF's pod_uuid must be one, so anything else is left out.
bool isUuid(const std::string& value) {
  if (value.size() != 36) return false;
  for (size_t i = 0; i < value.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? value[i] != '-' : !std::isxdigit(static_cast<unsigned char>(value[i]))) return false;
  }
  return true;
}

// Whether the trigger was about a pod ("pods", "pods/exec", ...); an audit trigger may fire on
// any resource (a Secret read), and then the finding names that object, not a pod.
bool aboutPod(const FindingFacts& facts) {
  const std::string& resource = facts.trigger.resource;
  return resource.empty() || resource == "pods" || resource.rfind("pods/", 0) == 0;
}

// The object the finding is about. OCSF wants a name or a uid: a request on a whole collection
// (list, watch) names none, and is "*".
json targetResource(const FindingFacts& facts) {
  const core::PodIdentity& pod = facts.pod;
  std::string type = aboutPod(facts) ? "Pod" : facts.trigger.resource;
  json resource = {{"type", type}, {"name", pod.name.empty() ? "*" : pod.name}};
  if (!pod.namespaceName.empty()) resource["namespace"] = pod.namespaceName;
  if (!pod.uid.empty()) resource["uid"] = pod.uid;
  if (!pod.node.empty()) resource["data"] = {{"node", pod.node}};
  return resource;
}

// "pod shop/web-0", "secrets shop/db-password", "pods in shop".
std::string targetName(const FindingFacts& facts) {
  std::string kind = aboutPod(facts) ? "pod" : facts.trigger.resource;
  const core::PodIdentity& pod = facts.pod;
  if (pod.name.empty()) {
    return (aboutPod(facts) ? std::string("pods") : kind) +
           (pod.namespaceName.empty() ? "" : " in " + pod.namespaceName);
  }
  return kind + " " + (pod.namespaceName.empty() ? pod.name : pod.key());
}

json userOf(const std::string& name, const std::vector<std::string>& groups) {
  json user = {{"name", name}};
  if (!groups.empty()) {
    json list = json::array();
    for (const auto& group : groups) list.push_back({{"name", group}});
    user["groups"] = std::move(list);
  }
  return user;
}

json requestEvidence(const TrailRequest& request, const json& pod) {
  json api = {{"operation", request.verb},
              {"request", {{"uid", request.auditId}}},
              {"service", {{"name", "kube-apiserver"}}}};
  if (request.responseCode != 0) api["response"] = {{"code", request.responseCode}};
  json evidence = {{"actor", {{"user", userOf(request.user, request.groups)}}},
                   {"api", std::move(api)},
                   {"resources", json::array({pod})},
                   {"data", {{"resource", request.resource}, {"time", request.timeMillis}}}};
  if (!request.sourceIp.empty()) evidence["src_endpoint"] = {{"ip", request.sourceIp}};
  return evidence;
}

// The trigger itself, when the trail does not hold it (an admission request seen before its
// audit event came, or no audit ingest at all).
json triggerEvidence(const FindingFacts& facts, const json& pod) {
  const auto& trigger = facts.trigger;
  json api = {{"operation", trigger.operation},
              {"service", {{"name", "kube-apiserver"}}}};
  if (!trigger.requestUid.empty()) api["request"] = {{"uid", trigger.requestUid}};
  json evidence = {{"actor", {{"user", userOf(trigger.user, trigger.groups)}}},
                   {"api", std::move(api)},
                   {"resources", json::array({pod})},
                   {"data",
                    {{"trigger", trigger.name},
                     {"source", trigger.source},
                     {"resource", trigger.resource},
                     {"time", std::chrono::duration_cast<std::chrono::milliseconds>(
                                  trigger.time.time_since_epoch())
                                  .count()}}}};
  if (!facts.sourceIp.empty()) evidence["src_endpoint"] = {{"ip", facts.sourceIp}};
  return evidence;
}

json containerEvidence(const ContainerImage& container, const core::PodIdentity& pod,
                       const json& podResource) {
  json image = {{"uid", container.imageId.empty() ? container.image : container.imageId},
                {"name", container.image}};
  if (auto colon = container.image.rfind(':');
      colon != std::string::npos && container.image.find('/', colon) == std::string::npos &&
      container.image.find('@') == std::string::npos) {
    image["name"] = container.image.substr(0, colon);
    image["tag"] = container.image.substr(colon + 1);
  }
  json object = {{"name", container.name}, {"image", std::move(image)}, {"orchestrator", "Kubernetes"}};
  if (!container.containerId.empty()) object["uid"] = container.containerId;
  if (isUuid(pod.uid)) object["pod_uuid"] = pod.uid;
  return {{"container", std::move(object)}, {"resources", json::array({podResource})}};
}

// The bundle: its manifest's hash, where it is, what it came to.
json bundleEvidence(const FindingFacts& facts, const json& pod) {
  json data = {{"outcome", facts.outcome}, {"artifacts", facts.artifacts}};
  if (!facts.bundleLocation.empty()) data["location"] = facts.bundleLocation;
  if (!facts.manifestSha256.empty()) data["manifestSha256"] = facts.manifestSha256;
  if (!facts.reason.empty()) data["reason"] = facts.reason;
  json evidence = {{"data", std::move(data)}, {"resources", json::array({pod})}};
  if (!facts.manifestSha256.empty()) {
    json file = {{"name", "manifest.json"},
                 {"type_id", kRegularFile},
                 {"hashes", json::array({{{"algorithm_id", kSha256AlgorithmId},
                                          {"algorithm", "SHA-256"},
                                          {"value", facts.manifestSha256}}})}};
    if (!facts.bundleLocation.empty()) file["path"] = facts.bundleLocation + "/manifest.json";
    evidence["file"] = std::move(file);
  }
  return evidence;
}

std::string titleOf(const FindingFacts& facts) {
  std::string pod = facts.pod.key();
  std::string target = targetName(facts);
  switch (facts.kind) {
    case FindingFacts::Kind::kSnapshot:
      return "Evidence captured from pod " + pod + " (" + facts.trigger.operation + " " +
             facts.trigger.resource + " by " + facts.trigger.user + ")";
    case FindingFacts::Kind::kAddendum:
      return "Late audit events added to the evidence of pod " + pod;
    case FindingFacts::Kind::kFiring:
      break;
  }
  return "Policy " + facts.policy + " fired on " + target + " (" + facts.trigger.operation + " " +
         facts.trigger.resource + " by " + facts.trigger.user + ")";
}

}  // namespace

std::vector<TrailRequest> trailRequests(std::string_view jsonLines) {
  std::vector<TrailRequest> requests;
  std::map<std::string, size_t> byAuditId;
  std::map<std::string, int> rankOf;
  size_t start = 0;
  while (start < jsonLines.size()) {
    size_t end = jsonLines.find('\n', start);
    if (end == std::string_view::npos) end = jsonLines.size();
    std::string_view line = jsonLines.substr(start, end - start);
    start = end + 1;
    json event = json::parse(line, nullptr, false);
    if (!event.is_object()) continue;
    std::string auditId = text(event, "auditID");
    if (auditId.empty()) continue;
    std::string stage = text(event, "stage");
    auto [slot, isNew] = byAuditId.try_emplace(auditId, requests.size());
    if (!isNew && stageRank(stage) < rankOf[auditId]) continue;  // keep the latest stage
    rankOf[auditId] = stageRank(stage);
    TrailRequest request;
    request.auditId = auditId;
    request.verb = text(event, "verb");
    const json& ref = member(event, "objectRef");
    if (ref.is_object()) {
      request.resource = text(ref, "resource");
      if (auto sub = text(ref, "subresource"); !sub.empty()) request.resource += "/" + sub;
    }
    const json& user = member(event, "user");
    if (user.is_object()) {
      request.user = text(user, "username");
      const json& groups = member(user, "groups");
      if (groups.is_array()) {
        for (const auto& group : groups) {
          if (group.is_string()) request.groups.push_back(group.get<std::string>());
        }
      }
    }
    const json& impersonated = member(event, "impersonatedUser");
    if (impersonated.is_object() && !text(impersonated, "username").empty()) {
      request.user += " as " + text(impersonated, "username");
    }
    const json& ips = member(event, "sourceIPs");
    if (ips.is_array() && !ips.empty() && ips[0].is_string()) request.sourceIp = ips[0].get<std::string>();
    const json& status = member(event, "responseStatus");
    if (status.is_object() && member(status, "code").is_number_integer()) {
      request.responseCode = member(status, "code").get<int>();
    }
    std::string time = text(event, "stageTimestamp");
    if (time.empty()) time = text(event, "timestamp");
    if (time.empty()) time = text(event, "requestReceivedTimestamp");
    request.timeMillis = millisOf(time);
    if (isNew) {
      requests.push_back(std::move(request));
    } else {
      requests[slot->second] = std::move(request);
    }
  }
  std::stable_sort(requests.begin(), requests.end(),
                   [](const TrailRequest& a, const TrailRequest& b) { return a.timeMillis < b.timeMillis; });
  return requests;
}

std::vector<ContainerImage> containerImages(std::string_view podJson) {
  std::vector<ContainerImage> containers;
  json pod = json::parse(podJson, nullptr, false);
  if (!pod.is_object()) return containers;
  const json& spec = member(pod, "spec");
  const json& status = member(pod, "status");
  for (const char* list : {"initContainers", "containers", "ephemeralContainers"}) {
    const json& specs = spec.is_object() ? member(spec, list) : json();
    if (!specs.is_array()) continue;
    for (const auto& container : specs) {
      if (!container.is_object()) continue;
      containers.push_back({text(container, "name"), "", text(container, "image"), ""});
    }
  }
  for (const char* list : {"initContainerStatuses", "containerStatuses", "ephemeralContainerStatuses"}) {
    const json& states = status.is_object() ? member(status, list) : json();
    if (!states.is_array()) continue;
    for (const auto& state : states) {
      if (!state.is_object()) continue;
      std::string name = text(state, "name");
      for (auto& container : containers) {
        if (container.name != name) continue;
        container.containerId = text(state, "containerID");
        container.imageId = text(state, "imageID");
      }
    }
  }
  std::erase_if(containers, [](const ContainerImage& c) { return c.name.empty() || c.image.empty(); });
  return containers;
}

json detectionFinding(const FindingFacts& facts) {
  const bool update = facts.kind == FindingFacts::Kind::kAddendum;
  const int activity = update ? kActivityUpdate : kActivityCreate;
  const int severity = static_cast<int>(facts.severity);
  const json pod = targetResource(facts);
  const int64_t triggerMillis =
      std::chrono::duration_cast<std::chrono::milliseconds>(facts.trigger.time.time_since_epoch())
          .count();

  json evidences = json::array();
  int64_t first = triggerMillis > 0 ? triggerMillis : facts.timeMillis;
  int64_t last = first;
  bool triggerInTrail = false;
  size_t listed = 0;
  for (const auto& request : facts.trail) {
    if (request.auditId == facts.trigger.requestUid) triggerInTrail = true;
    if (request.timeMillis > 0) {
      first = std::min(first, request.timeMillis);
      last = std::max(last, request.timeMillis);
    }
    if (listed++ < kMaxTrailEvidences) evidences.push_back(requestEvidence(request, pod));
  }
  if (!update && !triggerInTrail) evidences.push_back(triggerEvidence(facts, pod));
  for (const auto& container : facts.containers) {
    evidences.push_back(containerEvidence(container, facts.pod, pod));
  }
  if (facts.kind != FindingFacts::Kind::kFiring) evidences.push_back(bundleEvidence(facts, pod));

  json findingInfo = {{"uid", facts.findingUid},
                      {"title", titleOf(facts)},
                      {"types", json::array({update ? "podmortem/addendum"
                                             : facts.kind == FindingFacts::Kind::kSnapshot
                                                 ? "podmortem/snapshot"
                                                 : "podmortem/policy-firing"})},
                      {"first_seen_time", first},
                      {"last_seen_time", last},
                      {"created_time", facts.timeMillis},
                      {"analytic", {{"name", facts.policy}, {"type_id", 1}, {"type", "Rule"}}},
                      {"data_sources", json::array({"kubernetes-audit", "kubernetes-admission"})}};
  if (!facts.bundleLocation.empty()) findingInfo["src_url"] = facts.bundleLocation;

  std::string message = titleOf(facts);
  if (!facts.outcome.empty()) message += ": " + facts.outcome;
  if (!facts.reason.empty()) message += " (" + facts.reason + ")";

  json podmortem = {{"policy", facts.policy},
                    {"trigger",
                     {{"name", facts.trigger.name},
                      {"source", facts.trigger.source},
                      {"operation", facts.trigger.operation},
                      {"resource", facts.trigger.resource},
                      {"requestUID", facts.trigger.requestUid},
                      {"time", core::formatTimestamp(facts.trigger.time)}}},
                    {"outcome", facts.outcome}};
  if (!facts.actions.empty()) podmortem["actions"] = facts.actions;
  if (update) podmortem["addendum"] = facts.addendum;
  if (!facts.replica.empty()) podmortem["replica"] = facts.replica;
  if (facts.trail.size() > kMaxTrailEvidences) {
    podmortem["trailRequestsNotListed"] = facts.trail.size() - kMaxTrailEvidences;
  }

  return {{"class_uid", kClassUid},
          {"class_name", "Detection Finding"},
          {"category_uid", kCategoryUid},
          {"category_name", "Findings"},
          {"activity_id", activity},
          {"activity_name", update ? "Update" : "Create"},
          {"type_uid", kClassUid * 100 + activity},
          {"type_name", std::string("Detection Finding: ") + (update ? "Update" : "Create")},
          {"time", facts.timeMillis},
          {"severity_id", severity},
          {"severity", std::string(policy::toString(facts.severity))},
          {"status_id", kStatusNew},
          {"status", "New"},
          {"is_alert", true},
          {"message", message},
          {"metadata",
           {{"version", std::string(kOcsfVersion)},
            {"uid", facts.eventUid},
            {"correlation_uid", facts.findingUid},
            {"logged_time", facts.timeMillis},
            {"product",
             {{"name", "podmortem"},
              {"vendor_name", "podmortem"},
              {"version", std::string(core::version())}}}}},
          {"finding_info", std::move(findingInfo)},
          {"evidences", std::move(evidences)},
          {"resources", json::array({pod})},
          {"unmapped", {{"podmortem", std::move(podmortem)}}}};
}

}  // namespace podmortem::controller
