#include "podmortem/policy/parser.h"

#include <algorithm>
#include <exception>
#include <map>
#include <optional>
#include <utility>

#include "field_reader.h"
#include "podmortem/core/kubernetes_names.h"
#include "podmortem/core/yaml.h"
#include "podmortem/policy/policy.h"

namespace podmortem::policy {

namespace {

using namespace internal;

constexpr std::string_view kOperationsReason = "must be one of CREATE, UPDATE, DELETE, CONNECT, *";
const std::vector<std::string_view> kOperations = {"CREATE", "UPDATE", "DELETE", "CONNECT", "*"};
// Request verbs as the API server records them in audit events. An exec, attach or
// port-forward is "get" or "create" there, never "exec": listing it here turns that common
// mistake into a problem instead of a trigger that never fires.
constexpr std::string_view kVerbsReason =
    "must be one of get, list, watch, create, update, patch, delete, deletecollection, proxy, *";
const std::vector<std::string_view> kVerbs = {"get",    "list",  "watch",  "create",
                                              "update", "patch", "delete", "deletecollection",
                                              "proxy",  "*"};

bool contains(const std::vector<std::string_view>& values, std::string_view value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

std::string joined(const std::vector<std::string>& values) {
  std::string text;
  for (const auto& value : values) {
    if (!text.empty())
      text += ", ";
    text += value;
  }
  return text;
}

std::optional<std::string> checkNamespaceGlob(std::string_view text) {
  bool valid = !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '*' || c == '?';
  });
  if (valid)
    return std::nullopt;
  return "must be a namespace name or glob (lowercase letters, digits, '-', '*', '?')";
}

std::optional<std::string> checkResourceGlob(std::string_view text) {
  bool valid = !text.empty() && std::count(text.begin(), text.end(), '/') <= 1 &&
               text.front() != '/' && text.back() != '/' &&
               std::all_of(text.begin(), text.end(), [](char c) {
                 return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
                        c == '/' || c == '*' || c == '?';
               });
  if (valid)
    return std::nullopt;
  return "must be resource or resource/subresource in lowercase, globs allowed "
         "(pods, pods/exec, pods/*)";
}

std::optional<std::string> checkNotEmpty(std::string_view text) {
  if (!text.empty())
    return std::nullopt;
  return "must not be empty";
}

ItemCheck oneOf(const std::vector<std::string_view>& allowed, std::string_view reason) {
  return [&allowed, reason](std::string_view text) -> std::optional<std::string> {
    if (contains(allowed, text))
      return std::nullopt;
    return std::string(reason);
  };
}

// Reads one YAML document into a Policy, collecting every problem on the way instead of
// stopping at the first: a user fixing a policy wants the whole list at once.
class DocumentReader : private FieldReader {
 public:
  using FieldReader::FieldReader;
  using FieldReader::takeProblems;

  std::shared_ptr<const Policy> read(const Node& document);

 private:
  void readMetadata(const Node& node, Policy& policy);
  void readSpec(const Node& node, Policy& policy);
  void readMatch(const Node& node, const std::string& path, PodMatch& match);
  LabelSelector readSelector(const Node& node, const std::string& path);
  void readTriggers(const Node& node, const std::string& path, std::vector<Trigger>& triggers);
  Trigger readTrigger(const Node& node, const std::string& path, size_t index);
  std::optional<TriggerSource> readTriggerSource(const Node& node, const FieldMap& fields,
                                                 const std::string& path);
  std::string readTriggerName(const FieldMap& fields, const std::string& path,
                              TriggerSource source, size_t index);
  void readTriggerRequests(const Node& node, const FieldMap& fields, const std::string& path,
                           std::optional<TriggerSource> source, Trigger& trigger);
  std::vector<int> readCodes(const Node& codes, const std::string& path);
  NameFilter readNameFilter(const Node& node, const std::string& path);
  Correlation readCorrelation(const Node& node, const std::string& path);
  void readActions(const Node& node, const std::string& path, Actions& actions);
  SnapshotAction readSnapshot(const Node& node, const std::string& path);
  std::vector<std::string> readCollectors(const Node& node, const std::string& path);
  void readHold(const FieldMap& fields, const std::string& path, SnapshotAction& snapshot);
  void readLogLimits(const Node& logs, const std::string& path, SnapshotAction& snapshot);
};

std::shared_ptr<const Policy> DocumentReader::read(const Node& document) {
  auto policy = std::make_shared<Policy>();
  policy->source = source();
  if (!document.IsMap()) {
    problem(document, "",
            "a policy document must be a mapping with apiVersion, kind, metadata and spec");
    return nullptr;
  }
  // status is what the API server sends back with a custom resource; it is not ours to read.
  auto fields = readMap(document, "", {"apiVersion", "kind", "metadata", "spec", "status"}, true);
  if (!fields)
    return nullptr;

  Node apiVersion = field(*fields, "apiVersion");
  if (isAbsent(apiVersion)) {
    problem(document, "apiVersion", "is required");
  } else if (!apiVersion.IsScalar() || apiVersion.Scalar() != kApiVersion) {
    problem(apiVersion, "apiVersion", "must be " + std::string(kApiVersion));
  }
  Node kind = field(*fields, "kind");
  if (isAbsent(kind)) {
    problem(document, "kind", "is required");
  } else if (!kind.IsScalar() || kind.Scalar() != kKind) {
    problem(kind, "kind", "must be " + std::string(kKind));
  }

  Node metadata = field(*fields, "metadata");
  if (isAbsent(metadata)) {
    problem(document, "metadata.name", "is required");
  } else {
    readMetadata(metadata, *policy);
  }
  Node spec = field(*fields, "spec");
  if (isAbsent(spec)) {
    problem(document, "spec", "is required");
  } else {
    readSpec(spec, *policy);
  }

  stampPolicyName(policy->name);
  if (hasProblems())
    return nullptr;
  return policy;
}

void DocumentReader::readMetadata(const Node& node, Policy& policy) {
  // metadata is Kubernetes' (labels, annotations, managedFields, ...): keep what we use and
  // accept the rest without complaint.
  auto fields = readMap(node, "metadata", {}, false);
  if (!fields)
    return;
  Node name = field(*fields, "name");
  if (isAbsent(name)) {
    problem(node, "metadata.name", "is required");
  } else if (auto text = readString(name, "metadata.name")) {
    policy.name = *text;
    if (!core::names::isDns1123Subdomain(*text)) {
      problem(name, "metadata.name",
              "must be a DNS-1123 subdomain (lowercase letters, digits, '-' and '.', starting "
              "and ending with a letter or digit, at most 253 characters)");
    }
  }
  Node uid = field(*fields, "uid");
  if (!isAbsent(uid)) {
    if (auto text = readString(uid, "metadata.uid"))
      policy.uid = *text;
  }
  Node generation = field(*fields, "generation");
  if (!isAbsent(generation)) {
    if (auto value = readInt(generation, "metadata.generation")) {
      if (*value < 0) {
        problem(generation, "metadata.generation", "must not be negative");
      } else {
        policy.generation = *value;
      }
    }
  }
}

void DocumentReader::readSpec(const Node& node, Policy& policy) {
  auto fields =
      readMap(node, "spec", {"match", "triggers", "correlation", "actions", "severity"}, true);
  if (!fields)
    return;
  Node severity = field(*fields, "severity");
  if (!isAbsent(severity)) {
    if (auto text = readString(severity, "spec.severity")) {
      if (auto parsed = parseSeverity(*text)) {
        policy.severity = *parsed;
      } else {
        problem(severity, "spec.severity",
                "must be one of Informational, Low, Medium, High, Critical");
      }
    }
  }
  Node match = field(*fields, "match");
  if (!isAbsent(match))
    readMatch(match, "spec.match", policy.match);

  Node triggers = field(*fields, "triggers");
  if (isAbsent(triggers)) {
    problem(node, "spec.triggers", "at least one trigger is required");
  } else {
    readTriggers(triggers, "spec.triggers", policy.triggers);
  }

  Node correlation = field(*fields, "correlation");
  if (!isAbsent(correlation))
    policy.correlation = readCorrelation(correlation, "spec.correlation");

  Node actions = field(*fields, "actions");
  if (!isAbsent(actions))
    readActions(actions, "spec.actions", policy.actions);
  const Actions& a = policy.actions;
  if (!a.snapshot && a.labels.empty() && a.annotations.empty() && !a.quarantine) {
    problem(isAbsent(actions) ? node : actions, "spec.actions",
            "at least one action is required: snapshot, labels, annotations or quarantine: true");
  }
}

void DocumentReader::readMatch(const Node& node, const std::string& path, PodMatch& match) {
  auto fields = readMap(
      node, path, {"namespaces", "excludeNamespaces", "podSelector", "namespaceSelector"}, true);
  if (!fields)
    return;
  match.namespaces = readStringList(field(*fields, "namespaces"), fieldPath(path, "namespaces"),
                                    checkNamespaceGlob);
  match.excludeNamespaces =
      readStringList(field(*fields, "excludeNamespaces"), fieldPath(path, "excludeNamespaces"),
                     checkNamespaceGlob);
  match.podSelector = readSelector(field(*fields, "podSelector"), fieldPath(path, "podSelector"));
  match.namespaceSelector =
      readSelector(field(*fields, "namespaceSelector"), fieldPath(path, "namespaceSelector"));
}

LabelSelector DocumentReader::readSelector(const Node& node, const std::string& path) {
  LabelSelector selector;
  if (isAbsent(node))
    return selector;
  auto fields = readMap(node, path, {"matchLabels", "matchExpressions"}, true);
  if (!fields)
    return selector;
  selector.matchLabels =
      readStringMap(field(*fields, "matchLabels"), fieldPath(path, "matchLabels"), true);

  Node expressions = field(*fields, "matchExpressions");
  std::string expressionsPath = fieldPath(path, "matchExpressions");
  if (isAbsent(expressions))
    return selector;
  if (!expressions.IsSequence()) {
    problem(expressions, expressionsPath, "must be a list");
    return selector;
  }
  for (size_t i = 0; i < expressions.size(); ++i) {
    const Node item = expressions[i];
    std::string itemPath = indexPath(expressionsPath, i);
    auto itemFields = readMap(item, itemPath, {"key", "operator", "values"}, true);
    if (!itemFields)
      continue;
    LabelSelectorRequirement requirement;
    Node key = field(*itemFields, "key");
    if (isAbsent(key)) {
      problem(item, fieldPath(itemPath, "key"), "is required");
    } else if (auto text = readString(key, fieldPath(itemPath, "key"))) {
      requirement.key = *text;
      if (!core::names::isQualifiedName(*text)) {
        problem(key, fieldPath(itemPath, "key"),
                "must be a label key such as app or example.com/tier");
      }
    }
    std::optional<SelectorOperator> parsedOp;
    Node op = field(*itemFields, "operator");
    std::string opPath = fieldPath(itemPath, "operator");
    if (isAbsent(op)) {
      problem(item, opPath, "is required");
    } else if (auto text = readString(op, opPath)) {
      if (*text == "In") {
        parsedOp = SelectorOperator::kIn;
      } else if (*text == "NotIn") {
        parsedOp = SelectorOperator::kNotIn;
      } else if (*text == "Exists") {
        parsedOp = SelectorOperator::kExists;
      } else if (*text == "DoesNotExist") {
        parsedOp = SelectorOperator::kDoesNotExist;
      } else {
        problem(op, opPath, "must be one of In, NotIn, Exists, DoesNotExist");
      }
    }
    Node values = field(*itemFields, "values");
    std::string valuesPath = fieldPath(itemPath, "values");
    requirement.values = readStringList(values, valuesPath, [](std::string_view text) {
      return core::names::isLabelValue(text) ? std::nullopt
                                       : std::optional<std::string>("must be a label value");
    });
    if (parsedOp) {
      requirement.op = *parsedOp;
      bool needsValues =
          *parsedOp == SelectorOperator::kIn || *parsedOp == SelectorOperator::kNotIn;
      bool hasValues = values.IsSequence() && values.size() > 0;
      if (needsValues && !hasValues) {
        problem(isAbsent(values) ? item : values, valuesPath, "must not be empty for In and NotIn");
      } else if (!needsValues && hasValues) {
        problem(values, valuesPath, "must be empty for Exists and DoesNotExist");
      }
    }
    selector.matchExpressions.push_back(std::move(requirement));
  }
  return selector;
}

void DocumentReader::readTriggers(const Node& node, const std::string& path,
                                  std::vector<Trigger>& triggers) {
  if (!node.IsSequence()) {
    problem(node, path, "must be a list");
    return;
  }
  if (node.size() == 0) {
    problem(node, path, "at least one trigger is required");
    return;
  }
  std::map<std::string, size_t, std::less<>> namesSeen;
  for (size_t i = 0; i < node.size(); ++i) {
    std::string itemPath = indexPath(path, i);
    Trigger trigger = readTrigger(node[i], itemPath, i);
    auto [it, inserted] = namesSeen.emplace(trigger.name, i);
    if (!inserted && !trigger.name.empty()) {
      problem(node[i], fieldPath(itemPath, "name"),
              "duplicate trigger name " + trigger.name + ", first used by " +
                  indexPath(path, it->second));
    }
    triggers.push_back(std::move(trigger));
  }
}

Trigger DocumentReader::readTrigger(const Node& node, const std::string& path, size_t index) {
  Trigger trigger;
  auto fields = readMap(node, path,
                        {"name", "source", "operations", "verbs", "resources", "namespaces",
                         "codes", "users", "groups"},
                        true);
  if (!fields)
    return trigger;
  std::optional<TriggerSource> source = readTriggerSource(node, *fields, path);
  if (source)
    trigger.source = *source;
  trigger.name = readTriggerName(*fields, path, trigger.source, index);
  readTriggerRequests(node, *fields, path, source, trigger);
  trigger.codes = readCodes(field(*fields, "codes"), fieldPath(path, "codes"));
  trigger.users = readNameFilter(field(*fields, "users"), fieldPath(path, "users"));
  trigger.groups = readNameFilter(field(*fields, "groups"), fieldPath(path, "groups"));
  return trigger;
}

std::optional<TriggerSource> DocumentReader::readTriggerSource(const Node& node,
                                                               const FieldMap& fields,
                                                               const std::string& path) {
  Node sourceNode = field(fields, "source");
  std::string sourcePath = fieldPath(path, "source");
  if (isAbsent(sourceNode)) {
    problem(node, sourcePath, "is required (admission or audit)");
    return std::nullopt;
  }
  auto text = readString(sourceNode, sourcePath);
  if (!text)
    return std::nullopt;
  if (*text == "admission")
    return TriggerSource::kAdmission;
  if (*text == "audit")
    return TriggerSource::kAudit;
  problem(sourceNode, sourcePath, "must be one of admission, audit");
  return std::nullopt;
}

std::string DocumentReader::readTriggerName(const FieldMap& fields, const std::string& path,
                                            TriggerSource source, size_t index) {
  Node name = field(fields, "name");
  if (isAbsent(name))
    return std::string(toString(source)) + "-" + std::to_string(index);
  auto text = readString(name, fieldPath(path, "name"));
  if (!text)
    return {};
  // The name becomes a metrics label value and part of warnings shown to users.
  if (!core::names::isDns1123Label(*text)) {
    problem(name, fieldPath(path, "name"),
            "must be a DNS-1123 label (lowercase letters, digits and '-', at most 63 "
            "characters)");
  }
  return *text;
}

// operations (admission) or verbs (audit), resources and namespaces: which requests it is about.
void DocumentReader::readTriggerRequests(const Node& node, const FieldMap& fields,
                                         const std::string& path,
                                         std::optional<TriggerSource> source, Trigger& trigger) {
  // Fields that belong to the other source are mistakes, not options to ignore.
  auto rejectFor = [&](TriggerSource wrong, std::string_view fieldName) {
    Node value = field(fields, fieldName);
    if (source == wrong && !isAbsent(value)) {
      problem(value, fieldPath(path, fieldName),
              wrong == TriggerSource::kAdmission ? "only valid for audit triggers"
                                                 : "only valid for admission triggers");
    }
  };
  rejectFor(TriggerSource::kAudit, "operations");
  rejectFor(TriggerSource::kAdmission, "verbs");
  rejectFor(TriggerSource::kAdmission, "namespaces");
  rejectFor(TriggerSource::kAdmission, "codes");
  // A required list that is missing is reported at its trigger; an empty one at itself.
  auto requireList = [&](const Node& list, const char* name, const char* reason) {
    if (isAbsent(list) || (list.IsSequence() && list.size() == 0)) {
      problem(isAbsent(list) ? node : list, fieldPath(path, name), reason);
    }
  };

  Node operations = field(fields, "operations");
  trigger.operations = readStringList(operations, fieldPath(path, "operations"),
                                      oneOf(kOperations, kOperationsReason));
  if (source == TriggerSource::kAdmission) {
    requireList(operations, "operations",
                "at least one operation is required for an admission trigger");
  }
  Node verbs = field(fields, "verbs");
  trigger.verbs = readStringList(verbs, fieldPath(path, "verbs"), oneOf(kVerbs, kVerbsReason));
  if (source == TriggerSource::kAudit) {
    requireList(verbs, "verbs", "at least one verb is required for an audit trigger");
  }
  Node resources = field(fields, "resources");
  trigger.resources = readStringList(resources, fieldPath(path, "resources"), checkResourceGlob);
  requireList(resources, "resources", "at least one resource is required");
  trigger.namespaces = readStringList(field(fields, "namespaces"), fieldPath(path, "namespaces"),
                                      checkNamespaceGlob);
}

std::vector<int> DocumentReader::readCodes(const Node& codes, const std::string& path) {
  std::vector<int> result;
  if (isAbsent(codes))
    return result;
  if (!codes.IsSequence()) {
    problem(codes, path, "must be a list");
    return result;
  }
  for (size_t i = 0; i < codes.size(); ++i) {
    std::string itemPath = indexPath(path, i);
    auto code = readInt(codes[i], itemPath);
    if (!code)
      continue;
    if (*code < 100 || *code > 599) {
      problem(codes[i], itemPath, "must be an HTTP status code (100-599)");
      continue;
    }
    result.push_back(static_cast<int>(*code));
  }
  return result;
}

NameFilter DocumentReader::readNameFilter(const Node& node, const std::string& path) {
  NameFilter filter;
  if (isAbsent(node))
    return filter;
  auto fields = readMap(node, path, {"include", "exclude"}, true);
  if (!fields)
    return filter;
  filter.include =
      readStringList(field(*fields, "include"), fieldPath(path, "include"), checkNotEmpty);
  filter.exclude =
      readStringList(field(*fields, "exclude"), fieldPath(path, "exclude"), checkNotEmpty);
  return filter;
}

Correlation DocumentReader::readCorrelation(const Node& node, const std::string& path) {
  Correlation correlation;
  auto fields = readMap(node, path, {"window", "requireAudit"}, true);
  if (!fields)
    return correlation;
  Node window = field(*fields, "window");
  if (!isAbsent(window)) {
    if (auto duration = readDuration(window, fieldPath(path, "window"))) {
      if (duration->count() <= 0) {
        problem(window, fieldPath(path, "window"), "must be greater than 0");
      } else {
        correlation.window = *duration;
      }
    }
  }
  Node requirements = field(*fields, "requireAudit");
  std::string requirementsPath = fieldPath(path, "requireAudit");
  if (isAbsent(requirements))
    return correlation;
  if (!requirements.IsSequence()) {
    problem(requirements, requirementsPath, "must be a list");
    return correlation;
  }
  for (size_t i = 0; i < requirements.size(); ++i) {
    const Node item = requirements[i];
    std::string itemPath = indexPath(requirementsPath, i);
    auto itemFields = readMap(item, itemPath, {"verbs", "resources"}, true);
    if (!itemFields)
      continue;
    AuditRequirement requirement;
    Node verbs = field(*itemFields, "verbs");
    requirement.verbs =
        readStringList(verbs, fieldPath(itemPath, "verbs"), oneOf(kVerbs, kVerbsReason));
    if (isAbsent(verbs) || (verbs.IsSequence() && verbs.size() == 0)) {
      problem(isAbsent(verbs) ? item : verbs, fieldPath(itemPath, "verbs"),
              "at least one verb is required");
    }
    Node resources = field(*itemFields, "resources");
    requirement.resources =
        readStringList(resources, fieldPath(itemPath, "resources"), checkResourceGlob);
    if (isAbsent(resources) || (resources.IsSequence() && resources.size() == 0)) {
      problem(isAbsent(resources) ? item : resources, fieldPath(itemPath, "resources"),
              "at least one resource is required");
    }
    correlation.requireAudit.push_back(std::move(requirement));
  }
  return correlation;
}

void DocumentReader::readActions(const Node& node, const std::string& path, Actions& actions) {
  auto fields = readMap(node, path, {"snapshot", "labels", "annotations", "quarantine"}, true);
  if (!fields)
    return;
  Node snapshot = field(*fields, "snapshot");
  if (!isAbsent(snapshot))
    actions.snapshot = readSnapshot(snapshot, fieldPath(path, "snapshot"));
  actions.labels = readStringMap(field(*fields, "labels"), fieldPath(path, "labels"), true);
  actions.annotations =
      readStringMap(field(*fields, "annotations"), fieldPath(path, "annotations"), false);
  Node quarantine = field(*fields, "quarantine");
  if (!isAbsent(quarantine)) {
    if (auto value = readBool(quarantine, fieldPath(path, "quarantine"))) {
      actions.quarantine = *value;
    }
  }
}

SnapshotAction DocumentReader::readSnapshot(const Node& node, const std::string& path) {
  SnapshotAction snapshot;
  auto fields = readMap(node, path, {"collectors", "holdDeletion", "onTimeout", "logs"}, true);
  if (!fields)
    return snapshot;
  snapshot.collectors = readCollectors(field(*fields, "collectors"), fieldPath(path, "collectors"));
  if (snapshot.collectors.empty())
    snapshot.collectors = defaultCollectors();
  readHold(*fields, path, snapshot);
  readLogLimits(field(*fields, "logs"), fieldPath(path, "logs"), snapshot);
  return snapshot;
}

std::vector<std::string> DocumentReader::readCollectors(const Node& node, const std::string& path) {
  static const std::string kUnknownCollector =
      "unknown collector (known: " + joined(knownCollectors()) + ")";
  auto collectors = readStringList(node, path, [](std::string_view text) -> std::optional<std::string> {
    const auto& known = knownCollectors();
    if (std::find(known.begin(), known.end(), text) != known.end())
      return std::nullopt;
    return kUnknownCollector;
  });
  for (size_t i = 1; i < collectors.size(); ++i) {
    if (std::find(collectors.begin(), collectors.begin() + i, collectors[i]) !=
        collectors.begin() + i) {
      // Report at the list: indexes into the filtered list would not match the document.
      problem(node, path, "lists collector " + collectors[i] + " more than once");
    }
  }
  return collectors;
}

// holdDeletion and onTimeout: how long a deletion waits for the capture, and what then.
void DocumentReader::readHold(const FieldMap& fields, const std::string& path,
                              SnapshotAction& snapshot) {
  Node hold = field(fields, "holdDeletion");
  std::string holdPath = fieldPath(path, "holdDeletion");
  if (!isAbsent(hold)) {
    if (auto duration = readDuration(hold, holdPath)) {
      if (duration->count() <= 0) {
        problem(hold, holdPath, "must be greater than 0");
      } else if (*duration > kMaxHoldDeletion) {
        problem(hold, holdPath,
                "must be at most 30s (the API server waits no longer for a webhook)");
      } else {
        snapshot.holdDeletion = *duration;
      }
    }
  }
  Node onTimeout = field(fields, "onTimeout");
  std::string onTimeoutPath = fieldPath(path, "onTimeout");
  if (isAbsent(onTimeout))
    return;
  if (auto text = readString(onTimeout, onTimeoutPath)) {
    if (*text == "allow") {
      snapshot.onTimeout = OnTimeout::kAllow;
    } else if (*text == "deny") {
      snapshot.onTimeout = OnTimeout::kDeny;
    } else {
      problem(onTimeout, onTimeoutPath, "must be one of allow, deny");
    }
  }
}

void DocumentReader::readLogLimits(const Node& logs, const std::string& path,
                                   SnapshotAction& snapshot) {
  if (isAbsent(logs))
    return;
  auto fields = readMap(logs, path, {"limitBytes", "tailLines"}, true);
  if (!fields)
    return;
  auto positive = [&](const char* name, int64_t max, int64_t& into) {
    Node value = field(*fields, name);
    std::string valuePath = fieldPath(path, name);
    if (isAbsent(value))
      return;
    if (auto number = readInt(value, valuePath)) {
      if (*number < 1 || *number > max)
        problem(value, valuePath, "must be from 1 to " + std::to_string(max));
      else
        into = *number;
    }
  };
  positive("limitBytes", kMaxLogLimitBytes, snapshot.logLimitBytes);
  positive("tailLines", 10'000'000, snapshot.logTailLines);
}

std::string documentSource(const std::string& source, size_t index, size_t count) {
  // A single-document text keeps its plain name ("kubernetes", "a.yaml"); documents of a
  // multi-document file are numbered from 1, as an editor would count them.
  if (count <= 1)
    return source;
  return source + "#" + std::to_string(index + 1);
}

}  // namespace

void appendLoadResult(LoadResult& into, LoadResult from) {
  for (auto& policy : from.policies) {
    auto first = std::find_if(into.policies.begin(), into.policies.end(),
                              [&](const auto& existing) { return existing->name == policy->name; });
    if (first != into.policies.end()) {
      into.problems.push_back(
          PolicyProblem{policy->source, policy->name, "metadata.name",
                        "duplicate policy name, first defined in " + (*first)->source, 0});
      ++into.rejected;
      continue;
    }
    into.policies.push_back(std::move(policy));
  }
  for (auto& problem : from.problems)
    into.problems.push_back(std::move(problem));
  into.rejected += from.rejected;
}

LoadResult parsePolicyDocuments(std::string_view text, const std::string& source) {
  LoadResult result;
  int errorLine = 0;
  auto loaded = core::loadYamlDocuments(text, &errorLine);
  if (!loaded.ok()) {
    result.problems.push_back(
        PolicyProblem{source, "", "", "not valid YAML or JSON: " + loaded.error().message,
                      errorLine});
    result.rejected = 1;
    return result;
  }
  const std::vector<Node>& documents = *loaded;
  for (size_t i = 0; i < documents.size(); ++i) {
    const Node& document = documents[i];
    // An empty document (a trailing "---", a file of comments) declares nothing.
    if (document.IsNull())
      continue;
    DocumentReader reader(documentSource(source, i, documents.size()));
    LoadResult one;
    try {
      if (auto policy = reader.read(document))
        one.policies.push_back(std::move(policy));
      one.problems = reader.takeProblems();
    } catch (const std::exception& e) {
      // yaml-cpp should not throw on a well-formed tree; if it does, lose this document only.
      one.problems = reader.takeProblems();
      one.problems.push_back(PolicyProblem{documentSource(source, i, documents.size()), "", "",
                                           std::string("cannot be read: ") + e.what(), 0});
    }
    if (one.policies.empty())
      one.rejected = 1;
    appendLoadResult(result, std::move(one));
  }
  return result;
}

}  // namespace podmortem::policy
