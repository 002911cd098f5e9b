#include "entries.h"

#include <map>
#include <optional>

#include "podmortem/core/json_path.h"
#include "podmortem/core/timestamp.h"

namespace podmortem::report::internal {

using nlohmann::json;
constexpr auto& at = core::jsonAt;
constexpr auto& text = core::jsonText;

namespace {

// The object at `path`, or null: never throws, never asserts on a missing key.
std::optional<int64_t> micros(const json& value) {
  if (!value.is_string()) return std::nullopt;
  return core::parseTimestampMicros(value.get<std::string>());
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string decode(std::string_view encoded) {
  std::string out;
  for (size_t i = 0; i < encoded.size(); ++i) {
    char c = encoded[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%' && i + 2 < encoded.size() && hexValue(encoded[i + 1]) >= 0 && hexValue(encoded[i + 2]) >= 0) {
      out += static_cast<char>(hexValue(encoded[i + 1]) * 16 + hexValue(encoded[i + 2]));
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

// "exec into checkout (container web): sh -c id", "delete pod checkout (force)", ...
std::string describe(const json& event, const std::vector<std::pair<std::string, std::string>>& query,
                     json& detail) {
  std::string verb = text(at(event, {"verb"}));
  std::string resource = text(at(event, {"objectRef", "resource"}));
  std::string subresource = text(at(event, {"objectRef", "subresource"}));
  std::string name = text(at(event, {"objectRef", "name"}));
  std::string namespaceName = text(at(event, {"objectRef", "namespace"}));
  std::vector<std::string> command;
  std::string container;
  bool dryRun = false;
  std::string gracePeriod;
  for (const auto& [key, value] : query) {
    if (key == "command") command.push_back(value);
    if (key == "container") container = value;
    if (key == "dryRun" && value == "All") dryRun = true;
    if (key == "gracePeriodSeconds") gracePeriod = value;
  }
  if (!command.empty()) detail["command"] = command;
  if (!container.empty()) detail["container"] = container;
  std::string in = container.empty() ? "" : " (container " + container + ")";
  std::string summary;
  if (resource == "pods" && (subresource == "exec" || subresource == "attach")) {
    summary = subresource + " into " + name + in;
    if (!command.empty()) {
      std::string joined;
      for (const auto& part : command) joined += (joined.empty() ? "" : " ") + part;
      summary += ": " + joined;
    }
  } else if (resource == "pods" && subresource == "portforward") {
    summary = "port-forward to " + name;
  } else if (resource == "pods" && subresource == "eviction") {
    summary = "evict " + name;
  } else if (resource.empty()) {
    // No object: discovery, /version, a non-resource URL.
    std::string uri = text(at(event, {"requestURI"}));
    summary = verb + " " + uri.substr(0, uri.find('?'));
  } else {
    summary = verb + " " + resource + (subresource.empty() ? "" : "/" + subresource) +
              (name.empty() ? "" : " " + name);
    if (!namespaceName.empty() && resource != "namespaces") summary += " in " + namespaceName;
  }
  // The request body of a delete may carry its own options (kubectl --force sends them there).
  json options = event.contains("requestObject") ? event["requestObject"] : json();
  if (options.is_object() && text(options["kind"]) == "DeleteOptions") {
    if (options["gracePeriodSeconds"].is_number_integer()) gracePeriod = std::to_string(options["gracePeriodSeconds"].get<int64_t>());
    if (options["dryRun"].is_array() && !options["dryRun"].empty()) dryRun = true;
  }
  if (verb == "delete" || verb == "deletecollection") {
    if (gracePeriod == "0") summary += " (force, grace period 0)";
    if (dryRun) summary += " (dry run)";
  }
  if (dryRun) detail["dryRun"] = true;
  return summary;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> queryOf(std::string_view requestUri) {
  std::vector<std::pair<std::string, std::string>> out;
  auto mark = requestUri.find('?');
  if (mark == std::string_view::npos) return out;
  std::string_view query = requestUri.substr(mark + 1);
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    auto eq = pair.find('=');
    out.emplace_back(decode(pair.substr(0, eq)), eq == std::string_view::npos ? "" : decode(pair.substr(eq + 1)));
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return out;
}

void auditEntries(std::string_view text_, const std::string& artifact, std::vector<Entry>& out, size_t& skipped) {
  // A request's stages, merged: the API server sends the request body and the answer only with
  // later stages (RequestReceived has neither), so the entry is made once all are read.
  struct Request {
    json event;
    json stages = json::array();
    size_t line = 0;
    int64_t micros = 0;  // when it was received (else its first stage), as first read
  };
  std::vector<Request> requests;
  std::map<std::string, size_t> byAuditId;
  size_t lineNumber = 0;
  while (!text_.empty()) {
    auto newline = text_.find('\n');
    std::string_view line = text_.substr(0, newline);
    text_.remove_prefix(newline == std::string_view::npos ? text_.size() : newline + 1);
    ++lineNumber;
    if (line.empty()) continue;
    json event = json::parse(line, nullptr, false);
    std::optional<int64_t> when;
    if (event.is_object()) {
      when = micros(event["requestReceivedTimestamp"]);
      if (!when) when = micros(event["stageTimestamp"]);
    }
    if (!when) {
      ++skipped;
      continue;
    }
    std::string auditId = text(event["auditID"]);
    auto known = auditId.empty() ? byAuditId.end() : byAuditId.find(auditId);
    if (known == byAuditId.end()) {
      if (!auditId.empty()) byAuditId[auditId] = requests.size();
      requests.push_back({event, json::array({event["stage"]}), lineNumber, *when});
      continue;
    }
    Request& request = requests[known->second];
    request.stages.push_back(event["stage"]);
    for (auto& [key, value] : event.items()) {
      if (key == "annotations" && value.is_object() && request.event["annotations"].is_object()) {
        request.event["annotations"].update(value);
      } else if (key != "requestReceivedTimestamp" && !value.is_null()) {
        request.event[key] = value;
      }
    }
  }
  for (Request& request : requests) {
    json& event = request.event;
    Entry entry;
    entry.micros = request.micros;
    bool fromAdmission = text(at(event, {"annotations", "podmortem.io/source"})) == "admission";
    entry.kind = fromAdmission ? "admission" : "audit";
    entry.actor = text(at(event, {"user", "username"}));
    auto query = queryOf(text(event["requestURI"]));
    entry.summary = describe(event, query, entry.detail);
    entry.detail["verb"] = event["verb"];
    entry.detail["auditID"] = event["auditID"];
    entry.detail["stages"] = request.stages;
    if (event["sourceIPs"].is_array()) entry.detail["sourceIPs"] = event["sourceIPs"];
    if (event["userAgent"].is_string()) entry.detail["userAgent"] = event["userAgent"];
    if (event["requestURI"].is_string()) entry.detail["requestURI"] = event["requestURI"];
    json groups = at(event, {"user", "groups"});
    if (groups.is_array()) entry.detail["groups"] = groups;
    json impersonated = at(event, {"impersonatedUser", "username"});
    if (impersonated.is_string()) entry.detail["impersonatedUser"] = impersonated;
    json code = at(event, {"responseStatus", "code"});
    if (code.is_number()) entry.detail["status"] = code;
    json decision = at(event, {"annotations", "authorization.k8s.io/decision"});
    if (decision.is_string()) entry.detail["authorization"] = decision;
    entry.artifact = artifact;
    entry.line = request.line;
    out.push_back(std::move(entry));
  }
}

void kubernetesEventEntries(std::string_view text_, const std::string& artifact, std::vector<Entry>& out) {
  json list = json::parse(text_, nullptr, false);
  if (!list.is_object() || !list["items"].is_array()) return;
  for (const json& event : list["items"]) {
    if (!event.is_object()) continue;
    std::optional<int64_t> when;
    for (const char* field : {"eventTime", "lastTimestamp", "firstTimestamp"}) {
      if (!when) when = micros(event.value(field, json()));
    }
    if (!when) when = micros(at(event, {"metadata", "creationTimestamp"}));
    if (!when) continue;
    Entry entry;
    entry.micros = *when;
    entry.kind = "event";
    entry.actor = text(at(event, {"source", "component"}));
    if (entry.actor.empty()) entry.actor = text(event.value("reportingComponent", json()));
    entry.summary = text(event.value("reason", json())) + ": " + text(event.value("message", json()));
    entry.detail["type"] = event.value("type", json());
    if (event.value("count", json()).is_number()) entry.detail["count"] = event.value("count", json());
    entry.artifact = artifact;
    out.push_back(std::move(entry));
  }
}

size_t logEntries(std::string_view text_, const std::string& artifact, const std::string& container, size_t maxLines,
                  std::vector<Entry>& out) {
  size_t taken = 0, left = 0, lineNumber = 0;
  int64_t last = 0;
  while (!text_.empty()) {
    auto newline = text_.find('\n');
    std::string_view line = text_.substr(0, newline);
    text_.remove_prefix(newline == std::string_view::npos ? text_.size() : newline + 1);
    ++lineNumber;
    if (taken >= maxLines) {
      ++left;
      continue;
    }
    auto space = line.find(' ');
    std::optional<int64_t> when;
    if (space != std::string_view::npos) when = core::parseTimestampMicros(line.substr(0, space));
    std::string_view message = when ? line.substr(space + 1) : line;
    if (when) last = *when;
    if (last == 0) continue;  // no time to place it at
    Entry entry;
    entry.micros = last;
    entry.kind = "log";
    entry.actor = "container " + container;
    entry.summary = std::string(message);
    entry.artifact = artifact;
    entry.line = lineNumber;
    out.push_back(std::move(entry));
    ++taken;
  }
  return left;
}

void podEntries(const json& pod, const std::string& artifact, std::vector<Entry>& out) {
  auto add = [&](const json& when, std::string summary, std::string actor = "") {
    auto at_ = micros(when);
    if (!at_) return;
    Entry entry;
    entry.micros = *at_;
    entry.kind = "pod";
    entry.actor = std::move(actor);
    entry.summary = std::move(summary);
    entry.artifact = artifact;
    out.push_back(std::move(entry));
  };
  add(at(pod, {"metadata", "creationTimestamp"}), "pod created");
  json conditions = at(pod, {"status", "conditions"});
  if (conditions.is_array()) {
    for (const json& condition : conditions) {
      if (text(at(condition, {"type"})) == "PodScheduled" && text(at(condition, {"status"})) == "True") {
        add(at(condition, {"lastTransitionTime"}), "scheduled on " + text(at(pod, {"spec", "nodeName"})));
      }
    }
  }
  json statuses = at(pod, {"status", "containerStatuses"});
  if (statuses.is_array()) {
    for (const json& status : statuses) {
      if (!status.is_object()) continue;
      std::string name = text(status.value("name", json()));
      add(at(status, {"state", "running", "startedAt"}), "container " + name + " started (" +
                                                             text(status.value("image", json())) + ")",
          "container " + name);
      add(at(status, {"state", "terminated", "finishedAt"}),
          "container " + name + " terminated: " + text(at(status, {"state", "terminated", "reason"})), "container " + name);
      add(at(status, {"lastState", "terminated", "finishedAt"}),
          "container " + name + " terminated before its restart: " + text(at(status, {"lastState", "terminated", "reason"})),
          "container " + name);
    }
  }
  add(at(pod, {"metadata", "deletionTimestamp"}), "deletion requested: the pod is Terminating");
}

}  // namespace podmortem::report::internal
