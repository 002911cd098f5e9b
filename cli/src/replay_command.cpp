#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "commands.h"
#include "podmortem/core/timestamp.h"
#include "podmortem/controller/audit_trigger_runner.h"
#include "podmortem/evidence/bundle.h"
#include "podmortem/policy/correlation_window.h"
#include "podmortem/policy/directory_loader.h"
#include "podmortem/policy/policy_set.h"
#include "podmortem/webhooks/audit_decoder.h"

namespace podmortem::cli {

namespace {

constexpr const char* kReplayUsage =
    "Usage: podmortem replay --audit-log FILE [--audit-log FILE ...] --policies DIR\n"
    "                        [--output text|json]\n"
    "\n"
    "Runs API-server audit log files (JSON lines, as written by --audit-log-path; '-' for\n"
    "stdin) through the same correlation window and policies as the server, and prints what\n"
    "would have fired, in time order, with the correlated audit trail of each pod.\n"
    "\n"
    "Flags:\n"
    "  --audit-log FILE   an audit log file; repeat for several\n"
    "  --policies DIR     folder of ForensicPolicy YAML files\n"
    "  --output FORMAT    text (default) or json\n"
    "  --help             this text\n"
    "\n"
    "Exit status: 0 the files were read (bad lines are reported and skipped), 1 a file could\n"
    "not be read, 2 usage error.\n";

using Clock = std::chrono::system_clock;

Clock::time_point timeOf(int64_t micros) { return Clock::time_point(std::chrono::microseconds(micros)); }

// The admission request an audited pod request would have made, if any: replay runs
// admission triggers over the audit log too, since a DELETE in the log was one at admission.
struct AdmissionEquivalent {
  std::string operation;
  bool valid = false;
};

AdmissionEquivalent admissionOf(const policy::AuditEvent& event) {
  // A dry run changed nothing, and the admission handler never captures one either.
  if (!event.isPodEvent() || event.dryRun) return {};
  const auto& sub = event.subResource;
  const auto& verb = event.verb;
  if (sub.empty()) {
    if (verb == "delete") return {"DELETE", true};
    if (verb == "create") return {"CREATE", true};
    if (verb == "update" || verb == "patch") return {"UPDATE", true};
    return {};
  }
  if (sub == "eviction" && verb == "create") return {"CREATE", true};
  if ((sub == "exec" || sub == "attach" || sub == "portforward") &&
      (verb == "create" || verb == "get")) {
    return {"CONNECT", true};
  }
  return {};
}

struct Firing {
  policy::AuditEvent event;
  std::string policy;
  std::string trigger;
  std::string source;
  std::string action;  // DELETE, CONNECT, ... or the audit verb
  policy::CorrelationQuery::Trail trail;
};

nlohmann::json trailJson(const policy::CorrelationQuery::Trail& trail) {
  nlohmann::json events = nlohmann::json::array();
  for (const auto& raw : trail.rawEvents) {
    policy::AuditEvent event;
    if (!webhooks::decodeAuditLine(raw, event).empty()) continue;
    std::string user = event.userName;
    if (!event.impersonatedUserName.empty()) user += " as " + event.impersonatedUserName;
    events.push_back({{"time", core::formatTimestamp(timeOf(event.timeMicros))},
                      {"auditID", event.auditId},
                      {"stage", event.stage},
                      {"verb", event.verb},
                      {"resource", policy::resourceString(event.resource, event.subResource)},
                      {"namespace", event.namespaceName},
                      {"name", event.name},
                      {"user", user},
                      {"code", event.responseCode}});
  }
  return events;
}

}  // namespace

int replayCommand(Arguments& args) {
  std::vector<std::string> logs;
  std::string policiesDir;
  std::string output = "text";
  while (!args.done()) {
    auto flag = args.nextFlag();
    if (!flag) return usageError(kReplayUsage, "unexpected argument " + args.nextPositional());
    if (*flag == "--help" || *flag == "-h") {
      std::fputs(kReplayUsage, stdout);
      return 0;
    }
    if (*flag == "--audit-log") {
      logs.push_back(args.flagValue(*flag));
    } else if (*flag == "--policies") {
      policiesDir = args.flagValue(*flag);
    } else if (*flag == "--output") {
      output = args.flagValue(*flag);
      if (output != "text" && output != "json") {
        return usageError(kReplayUsage, "--output must be text or json");
      }
    } else {
      return usageError(kReplayUsage, "unknown flag " + *flag);
    }
  }
  if (logs.empty()) return usageError(kReplayUsage, "no --audit-log given");
  if (policiesDir.empty()) return usageError(kReplayUsage, "no --policies given");
  std::error_code ec;
  if (!std::filesystem::is_directory(policiesDir, ec)) {
    return usageError(kReplayUsage, policiesDir + " is not a folder");
  }

  auto loaded = policy::loadPolicyDirectory(policiesDir);
  for (const auto& problem : loaded.problems) {
    std::fprintf(stderr, "policy problem: %s\n", problem.toString().c_str());
  }
  policy::PolicySet policies(loaded.policies);
  std::chrono::milliseconds window = policy::kDefaultCorrelationWindow;
  for (const auto& p : policies.policies()) {
    if (p->correlation) window = std::max(window, p->correlation->window);
  }

  // Read every line of every file; a bad line is reported and skipped.
  std::vector<policy::AuditEvent> events;
  bool unreadable = false;
  size_t badLines = 0;
  for (const auto& path : logs) {
    std::ifstream file;
    std::istream* in = &std::cin;
    if (path != "-") {
      file.open(path);
      if (!file) {
        std::fprintf(stderr, "podmortem: cannot read %s\n", path.c_str());
        unreadable = true;
        continue;
      }
      in = &file;
    }
    std::string line;
    size_t number = 0;
    while (std::getline(*in, line)) {
      ++number;
      if (number % 100'000 == 0) std::fprintf(stderr, "%s: %zu lines read\n", path.c_str(), number);
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      policy::AuditEvent event;
      std::string error = webhooks::decodeAuditLine(line, event);
      if (!error.empty()) {
        std::fprintf(stderr, "%s:%zu: skipped: %s\n", path.c_str(), number, error.c_str());
        ++badLines;
        continue;
      }
      events.push_back(std::move(event));
    }
  }
  std::stable_sort(events.begin(), events.end(),
                   [](const auto& a, const auto& b) { return a.timeMicros < b.timeMicros; });

  policy::CorrelationWindow::Options options;
  options.window = window;
  options.maxEvents = std::max<size_t>(events.size(), 1);
  policy::CorrelationWindow index(options);
  std::vector<Firing> firings;
  std::set<std::string> fired;  // auditID|policy: one request fires a policy once
  // Dry runs (kubectl --dry-run=server) changed nothing. Only the last stage of a request carries
  // its options, while a firing happens at the first: the whole log says which requests they were.
  std::set<std::string> dryRuns;
  for (const auto& event : events) {
    if (event.dryRun) dryRuns.insert(event.auditId);
  }
  for (const auto& event : events) {
    auto now = timeOf(event.timeMicros);
    if (index.add(event, now) == policy::CorrelationWindow::AddResult::kDuplicate) continue;
    if (!event.isPodEvent()) continue;
    auto consider = [&](const policy::TriggerMatch& match, const std::string& source,
                        const std::string& action) {
      const auto& p = *match.policy;
      if (!fired.insert(event.auditId + "|" + p.name).second) return;
      if (!controller::correlationHolds(p, index, event.namespaceName, event.name, now)) return;
      auto since = now - (p.correlation ? p.correlation->window : policy::kDefaultCorrelationWindow);
      firings.push_back({event, p.name, std::string(match.triggerName), source, action,
                         index.trailForPod(event.namespaceName, event.name, since)});
    };
    for (const auto& match : policies.matchAudit(policy::auditAttributesOf(event))) consider(match, "audit", event.verb);
    if (auto admission = admissionOf(event); admission.valid && !dryRuns.count(event.auditId)) {
      policy::AdmissionAttributes request;
      request.operation = admission.operation;
      request.resource = event.resource;
      request.subResource = event.subResource;
      request.namespaceName = event.namespaceName;
      request.userName = event.userName;
      request.groups = &event.groups;
      for (const auto& match : policies.matchAdmission(request)) {
        consider(match, "admission", admission.operation);
      }
    }
  }

  if (output == "json") {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& firing : firings) {
      const auto& e = firing.event;
      out.push_back({{"time", core::formatTimestamp(timeOf(e.timeMicros))},
                     {"policy", firing.policy},
                     {"trigger", firing.trigger},
                     {"source", firing.source},
                     {"action", firing.action},
                     {"resource", policy::resourceString(e.resource, e.subResource)},
                     {"namespace", e.namespaceName},
                     {"pod", e.name},
                     {"user", e.userName},
                     {"auditID", e.auditId},
                     {"trail", trailJson(firing.trail)}});
    }
    std::printf("%s\n", out.dump(2).c_str());
  } else {
    std::printf("%zu events read from %zu file(s), %zu bad lines skipped, %zu policies; "
                "%zu firings\n",
                events.size(), logs.size(), badLines, policies.size(), firings.size());
    for (const auto& firing : firings) {
      const auto& e = firing.event;
      std::printf("\n%s  %s/%s  (%s %s %s)  pod %s/%s  by %s  auditID %s\n",
                  core::formatTimestamp(timeOf(e.timeMicros)).c_str(),
                  firing.policy.c_str(), firing.trigger.c_str(), firing.source.c_str(),
                  firing.action.c_str(),
                  policy::resourceString(e.resource, e.subResource).c_str(),
                  e.namespaceName.c_str(), e.name.c_str(), e.userName.c_str(), e.auditId.c_str());
      std::printf("  trail: %zu events on the pod, %zu more by the users who acted on it\n",
                  firing.trail.podEvents, firing.trail.userEvents);
      for (const auto& item : trailJson(firing.trail)) {
        std::printf("    %s  %-16s %-6s %-24s %s/%s  %s  %d\n",
                    item["time"].get<std::string>().c_str(),
                    item["stage"].get<std::string>().c_str(),
                    item["verb"].get<std::string>().c_str(),
                    item["resource"].get<std::string>().c_str(),
                    item["namespace"].get<std::string>().c_str(),
                    item["name"].get<std::string>().c_str(),
                    item["user"].get<std::string>().c_str(), item["code"].get<int>());
      }
    }
  }
  return unreadable ? 1 : 0;
}

}  // namespace podmortem::cli
