#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "commands.h"
#include "podmortem/core/timestamp.h"
#include "podmortem/policy/admission_request.h"
#include "podmortem/policy/correlation_window.h"
#include "podmortem/policy/directory_loader.h"
#include "podmortem/policy/firing.h"
#include "podmortem/policy/policy_set.h"
#include "podmortem/webhooks/audit_decoder.h"

namespace podmortem::cli {

namespace {

constexpr const char* kReplayUsage =
    "Usage: podmortem replay --audit-log FILE [--audit-log FILE ...] --policies DIR\n"
    "                        [--output text|json]\n"
    "\n"
    "Runs API-server audit log files (JSON lines, as written by --audit-log-path; '-' for\n"
    "stdin) through the same correlation window, policies and decisions as the server, and\n"
    "prints what would have fired, in time order, with the correlated audit trail of each pod.\n"
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
using Effect = policy::Firing::Effect;

Clock::time_point timeOf(int64_t micros) { return Clock::time_point(std::chrono::microseconds(micros)); }

struct ReplayOptions {
  std::vector<std::string> logs;
  std::string policiesDir;
  std::string output = "text";
};

struct AuditLog {
  std::vector<policy::AuditEvent> events;  // every readable line, in time order
  size_t badLines = 0;
  bool unreadable = false;  // a file could not be opened
};

struct ReplayFiring {
  policy::AuditEvent event;
  std::string policy;
  std::string trigger;
  std::string source;  // admission or audit
  std::string action;  // DELETE, CONNECT, ... or the audit verb
  Effect effect;
  policy::CorrelationQuery::Trail trail;
};

std::string_view effectName(Effect effect) {
  switch (effect) {
    case Effect::kCapture:
      return "capture";
    case Effect::kActionsOnly:
      return "actions";
    case Effect::kDryRunCapture:
      return "dry-run";
    case Effect::kMatchOnly:
      return "match";
  }
  return "match";
}

// Returns an exit code when the command should stop (help, usage error), else nullopt.
std::optional<int> parseReplayArguments(Arguments& args, ReplayOptions& options) {
  while (!args.done()) {
    auto flag = args.nextFlag();
    if (!flag) return usageError(kReplayUsage, "unexpected argument " + args.nextPositional());
    if (*flag == "--help" || *flag == "-h") {
      std::fputs(kReplayUsage, stdout);
      return 0;
    }
    if (*flag == "--audit-log") {
      options.logs.push_back(args.flagValue(*flag));
    } else if (*flag == "--policies") {
      options.policiesDir = args.flagValue(*flag);
    } else if (*flag == "--output") {
      options.output = args.flagValue(*flag);
      if (options.output != "text" && options.output != "json") {
        return usageError(kReplayUsage, "--output must be text or json");
      }
    } else {
      return usageError(kReplayUsage, "unknown flag " + *flag);
    }
  }
  if (options.logs.empty()) return usageError(kReplayUsage, "no --audit-log given");
  if (options.policiesDir.empty()) return usageError(kReplayUsage, "no --policies given");
  std::error_code ec;
  if (!std::filesystem::is_directory(options.policiesDir, ec)) {
    return usageError(kReplayUsage, options.policiesDir + " is not a folder");
  }
  return std::nullopt;
}

void readLines(std::istream& in, const std::string& path, AuditLog& log) {
  std::string line;
  size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (number % 100'000 == 0) std::fprintf(stderr, "%s: %zu lines read\n", path.c_str(), number);
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    policy::AuditEvent event;
    std::string error = webhooks::decodeAuditLine(line, event);
    if (!error.empty()) {
      std::fprintf(stderr, "%s:%zu: skipped: %s\n", path.c_str(), number, error.c_str());
      ++log.badLines;
      continue;
    }
    log.events.push_back(std::move(event));
  }
}

// Every line of every file; a bad line is reported and skipped.
AuditLog readAuditLogs(const std::vector<std::string>& paths) {
  AuditLog log;
  for (const auto& path : paths) {
    if (path == "-") {
      readLines(std::cin, path, log);
      continue;
    }
    std::ifstream file(path);
    if (!file) {
      std::fprintf(stderr, "podmortem: cannot read %s\n", path.c_str());
      log.unreadable = true;
      continue;
    }
    readLines(file, path, log);
  }
  std::stable_sort(log.events.begin(), log.events.end(),
                   [](const auto& a, const auto& b) { return a.timeMicros < b.timeMicros; });
  return log;
}

// The pod an audited request carried or answered with (RequestResponse level): what the server's
// pod cache learns from admission requests, so selectors match in replay as they do there.
std::optional<policy::PodRecord> podOf(const policy::AuditEvent& event) {
  if (!event.isPodEvent() || !event.subResource.empty()) return std::nullopt;
  auto json = nlohmann::json::parse(event.raw, nullptr, false);
  if (!json.is_object()) return std::nullopt;
  for (const char* key : {"responseObject", "requestObject"}) {
    auto object = json.find(key);
    if (object == json.end() || !object->is_object() || object->value("kind", "") != "Pod") continue;
    auto pod = policy::parsePod(object->dump());
    if (!pod.ok()) continue;
    if (pod->identity.namespaceName.empty()) pod->identity.namespaceName = event.namespaceName;
    if (pod->identity.name.empty()) pod->identity.name = event.name;
    return std::move(pod).value();
  }
  return std::nullopt;
}

// Runs every event through the window and the policies, as the server's audit and admission
// paths would, and returns what fired; each request fires a policy once.
class Replayer {
 public:
  Replayer(const policy::PolicySet& policies, const std::vector<policy::AuditEvent>& events)
      : policies_(policies), window_(windowOptions(policies, events.size())) {
    // Dry runs (kubectl --dry-run=server) changed nothing. Only the last stage of a request
    // carries its options, while a firing happens at the first: the whole log says which they were.
    for (const auto& event : events) {
      if (event.dryRun) dryRuns_.insert(event.auditId);
    }
  }

  void add(const policy::AuditEvent& event) {
    auto now = timeOf(event.timeMicros);
    if (window_.add(event, now) == policy::CorrelationWindow::AddResult::kDuplicate) return;
    if (!event.isPodEvent()) return;
    if (auto pod = podOf(event)) pods_[pod->identity.key()] = std::move(*pod);
    auto known = pods_.find(event.namespaceName + "/" + event.name);
    const policy::PodRecord* pod = known == pods_.end() ? nullptr : &known->second;

    auto audit = policy::auditAttributesOf(event);
    audit.podLabels = pod != nullptr ? &pod->labels : nullptr;
    for (const auto& firing :
         policy::auditFirings(policies_.matchAudit(audit), event, window_, now)) {
      record(event, firing, "audit", event.verb, now);
    }
    auto request = policy::admissionRequestOf(event);
    if (!request || dryRuns_.count(event.auditId) != 0) return;
    auto attributes = policy::admissionAttributesOf(*request, pod, nullptr);
    for (const auto& firing :
         policy::admissionFirings(policies_, *request, attributes, &window_, now)) {
      record(event, firing, "admission", request->operation, now);
    }
  }

  std::vector<ReplayFiring> take() { return std::move(firings_); }

 private:
  static policy::CorrelationWindow::Options windowOptions(const policy::PolicySet& policies,
                                                          size_t events) {
    policy::CorrelationWindow::Options options;
    options.window = policy::kDefaultCorrelationWindow;
    for (const auto& p : policies.policies()) {
      if (p->correlation) options.window = std::max(options.window, p->correlation->window);
    }
    options.maxEvents = std::max<size_t>(events, 1);
    return options;
  }

  void record(const policy::AuditEvent& event, const policy::Firing& firing,
              const std::string& source, const std::string& action, Clock::time_point now) {
    const auto& p = *firing.policy;
    if (!fired_.insert(event.auditId + "|" + p.name).second) return;
    auto since = now - (p.correlation ? p.correlation->window : policy::kDefaultCorrelationWindow);
    firings_.push_back({event, p.name, firing.triggerName, source, action, firing.effect,
                        window_.trailForPod(event.namespaceName, event.name, since)});
  }

  const policy::PolicySet& policies_;
  policy::CorrelationWindow window_;
  std::set<std::string> dryRuns_;
  std::map<std::string, policy::PodRecord> pods_;  // namespace/name
  std::set<std::string> fired_;                    // auditID|policy
  std::vector<ReplayFiring> firings_;
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

void printJson(const std::vector<ReplayFiring>& firings) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& firing : firings) {
    const auto& e = firing.event;
    out.push_back({{"time", core::formatTimestamp(timeOf(e.timeMicros))},
                   {"policy", firing.policy},
                   {"trigger", firing.trigger},
                   {"source", firing.source},
                   {"action", firing.action},
                   {"effect", std::string(effectName(firing.effect))},
                   {"resource", policy::resourceString(e.resource, e.subResource)},
                   {"namespace", e.namespaceName},
                   {"pod", e.name},
                   {"user", e.userName},
                   {"auditID", e.auditId},
                   {"trail", trailJson(firing.trail)}});
  }
  std::printf("%s\n", out.dump(2).c_str());
}

void printText(const std::vector<ReplayFiring>& firings) {
  for (const auto& firing : firings) {
    const auto& e = firing.event;
    std::printf("\n%s  %s/%s  (%s %s %s)  pod %s/%s  by %s  auditID %s\n",
                core::formatTimestamp(timeOf(e.timeMicros)).c_str(), firing.policy.c_str(),
                firing.trigger.c_str(), firing.source.c_str(), firing.action.c_str(),
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

}  // namespace

int replayCommand(Arguments& args) {
  ReplayOptions options;
  if (auto exit = parseReplayArguments(args, options)) return *exit;

  auto loaded = policy::loadPolicyDirectory(options.policiesDir);
  for (const auto& problem : loaded.problems) {
    std::fprintf(stderr, "policy problem: %s\n", problem.toString().c_str());
  }
  policy::PolicySet policies(loaded.policies);
  AuditLog log = readAuditLogs(options.logs);

  Replayer replayer(policies, log.events);
  for (const auto& event : log.events) replayer.add(event);
  auto firings = replayer.take();

  if (options.output == "json") {
    printJson(firings);
  } else {
    std::printf("%zu events read from %zu file(s), %zu bad lines skipped, %zu policies; "
                "%zu firings\n",
                log.events.size(), options.logs.size(), log.badLines, policies.size(),
                firings.size());
    printText(firings);
  }
  return log.unreadable ? 1 : 0;
}

}  // namespace podmortem::cli
