#include "podmortem/policy/parser.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "podmortem/policy/policy.h"

namespace podmortem::policy {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

// The example of the policy format, with every field set.
constexpr const char* kFullPolicy = R"(
apiVersion: podmortem.io/v1alpha1
kind: ForensicPolicy
metadata:
  name: capture-on-delete
  generation: 7
  uid: 0b6c5f2e-6a0e-4a8e-9d0c-1f2e3d4c5b6a
  labels: {team: security}
spec:
  match:
    namespaces: ["default", "prod-*"]
    excludeNamespaces: ["kube-system"]
    podSelector:
      matchLabels: {app: web}
      matchExpressions:
        - {key: tier, operator: In, values: [frontend, backend]}
        - {key: canary, operator: DoesNotExist}
    namespaceSelector:
      matchLabels: {podmortem.io/protected: "true"}
  triggers:
    - name: on-delete
      source: admission
      operations: [DELETE]
      resources: [pods, pods/eviction]
      users: {include: ["*"], exclude: ["system:serviceaccount:kube-system:*"]}
      groups: {include: ["system:authenticated"], exclude: ["system:masters"]}
    - source: audit
      verbs: [get, create]
      resources: [pods/exec]
      namespaces: ["prod-*"]
      codes: [101, 200]
      users: {exclude: ["system:node:*"]}
  correlation:
    window: 45m
    requireAudit: [{verbs: [create, get], resources: [pods/exec]}]
  actions:
    snapshot:
      collectors: [pod, auditTrail, logs]
      holdDeletion: 20s
      onTimeout: deny
      logs: {limitBytes: 1048576, tailLines: 500}
    labels: {podmortem.io/suspect: "true"}
    annotations: {podmortem.io/note: "captured: see the evidence store"}
    quarantine: true
)";

std::string policyWithSpec(const std::string& spec) {
  return "apiVersion: podmortem.io/v1alpha1\nkind: ForensicPolicy\nmetadata: {name: p}\nspec:\n" +
         spec;
}

constexpr const char* kMinimalSpec = R"(
  triggers:
    - source: admission
      operations: [DELETE]
      resources: [pods]
  actions:
    snapshot: {}
)";

std::string describe(const LoadResult& result) {
  std::string text;
  for (const auto& problem : result.problems)
    text += "\n  " + problem.toString();
  return text;
}

const PolicyProblem* findProblem(const LoadResult& result, const std::string& fieldPath) {
  for (const auto& problem : result.problems) {
    if (problem.fieldPath == fieldPath)
      return &problem;
  }
  return nullptr;
}

TEST(ParserTest, FullExampleParsesWithEveryField) {
  LoadResult result = parsePolicyDocuments(kFullPolicy, "policies/full.yaml");
  ASSERT_TRUE(result.problems.empty()) << describe(result);
  ASSERT_EQ(result.policies.size(), 1u);
  EXPECT_EQ(result.rejected, 0u);
  const Policy& policy = *result.policies[0];

  EXPECT_EQ(policy.name, "capture-on-delete");
  EXPECT_EQ(policy.generation, 7);
  EXPECT_EQ(policy.uid, "0b6c5f2e-6a0e-4a8e-9d0c-1f2e3d4c5b6a");
  EXPECT_EQ(policy.source, "policies/full.yaml");

  EXPECT_EQ(policy.match.namespaces, (std::vector<std::string>{"default", "prod-*"}));
  EXPECT_EQ(policy.match.excludeNamespaces, std::vector<std::string>{"kube-system"});
  EXPECT_EQ(policy.match.podSelector.matchLabels, (Labels{{"app", "web"}}));
  ASSERT_EQ(policy.match.podSelector.matchExpressions.size(), 2u);
  EXPECT_EQ(policy.match.podSelector.matchExpressions[0].key, "tier");
  EXPECT_EQ(policy.match.podSelector.matchExpressions[0].op, SelectorOperator::kIn);
  EXPECT_EQ(policy.match.podSelector.matchExpressions[0].values,
            (std::vector<std::string>{"frontend", "backend"}));
  EXPECT_EQ(policy.match.podSelector.matchExpressions[1].op, SelectorOperator::kDoesNotExist);
  EXPECT_EQ(policy.match.namespaceSelector.matchLabels,
            (Labels{{"podmortem.io/protected", "true"}}));

  ASSERT_EQ(policy.triggers.size(), 2u);
  const Trigger& admission = policy.triggers[0];
  EXPECT_EQ(admission.name, "on-delete");
  EXPECT_EQ(admission.source, TriggerSource::kAdmission);
  EXPECT_EQ(admission.operations, std::vector<std::string>{"DELETE"});
  EXPECT_EQ(admission.resources, (std::vector<std::string>{"pods", "pods/eviction"}));
  EXPECT_EQ(admission.users.include, std::vector<std::string>{"*"});
  EXPECT_EQ(admission.users.exclude,
            std::vector<std::string>{"system:serviceaccount:kube-system:*"});
  EXPECT_EQ(admission.groups.include, std::vector<std::string>{"system:authenticated"});
  EXPECT_EQ(admission.groups.exclude, std::vector<std::string>{"system:masters"});

  const Trigger& audit = policy.triggers[1];
  EXPECT_EQ(audit.name, "audit-1");
  EXPECT_EQ(audit.source, TriggerSource::kAudit);
  EXPECT_EQ(audit.verbs, (std::vector<std::string>{"get", "create"}));
  EXPECT_EQ(audit.resources, std::vector<std::string>{"pods/exec"});
  EXPECT_EQ(audit.namespaces, std::vector<std::string>{"prod-*"});
  EXPECT_EQ(audit.codes, (std::vector<int>{101, 200}));
  EXPECT_TRUE(audit.users.include.empty());
  EXPECT_EQ(audit.users.exclude, std::vector<std::string>{"system:node:*"});

  ASSERT_TRUE(policy.correlation.has_value());
  EXPECT_EQ(policy.correlation->window, minutes(45));
  ASSERT_EQ(policy.correlation->requireAudit.size(), 1u);
  EXPECT_EQ(policy.correlation->requireAudit[0].verbs, (std::vector<std::string>{"create", "get"}));
  EXPECT_EQ(policy.correlation->requireAudit[0].resources, std::vector<std::string>{"pods/exec"});

  ASSERT_TRUE(policy.actions.snapshot.has_value());
  EXPECT_EQ(policy.actions.snapshot->collectors,
            (std::vector<std::string>{"pod", "auditTrail", "logs"}));
  EXPECT_EQ(policy.actions.snapshot->holdDeletion, seconds(20));
  EXPECT_EQ(policy.actions.snapshot->onTimeout, OnTimeout::kDeny);
  EXPECT_EQ(policy.actions.snapshot->logLimitBytes, 1048576);
  EXPECT_EQ(policy.actions.snapshot->logTailLines, 500);
  EXPECT_EQ(policy.actions.labels, (Labels{{"podmortem.io/suspect", "true"}}));
  EXPECT_EQ(policy.actions.annotations,
            (Labels{{"podmortem.io/note", "captured: see the evidence store"}}));
  EXPECT_TRUE(policy.actions.quarantine);
}

TEST(ParserTest, AbsentOptionalFieldsTakeTheirDefaults) {
  LoadResult result = parsePolicyDocuments(policyWithSpec(kMinimalSpec), "t.yaml");
  ASSERT_TRUE(result.problems.empty()) << describe(result);
  const Policy& policy = *result.policies.at(0);
  EXPECT_EQ(policy.generation, 0);
  EXPECT_TRUE(policy.uid.empty());
  EXPECT_TRUE(policy.match.namespaces.empty());
  EXPECT_TRUE(policy.match.podSelector.empty());
  EXPECT_TRUE(policy.match.namespaceSelector.empty());
  EXPECT_EQ(policy.triggers.at(0).name, "admission-0");
  EXPECT_TRUE(policy.triggers.at(0).users.include.empty());
  EXPECT_TRUE(policy.triggers.at(0).groups.include.empty());
  EXPECT_FALSE(policy.correlation.has_value());
  ASSERT_TRUE(policy.actions.snapshot.has_value());
  EXPECT_EQ(policy.actions.snapshot->collectors, defaultCollectors());
  EXPECT_EQ(policy.actions.snapshot->holdDeletion, seconds(10));
  EXPECT_EQ(policy.actions.snapshot->onTimeout, OnTimeout::kAllow);
  EXPECT_FALSE(policy.actions.quarantine);
}

TEST(ParserTest, EmptyCollectorListMeansPodAndAuditTrail) {
  LoadResult result = parsePolicyDocuments(policyWithSpec(R"(
  triggers: [{source: admission, operations: [DELETE], resources: [pods]}]
  actions: {snapshot: {collectors: []}}
)"),
                                           "t.yaml");
  ASSERT_TRUE(result.problems.empty()) << describe(result);
  EXPECT_EQ(result.policies.at(0)->actions.snapshot->collectors,
            (std::vector<std::string>{"pod", "auditTrail"}));
}

TEST(ParserTest, CorrelationWithoutWindowDefaultsToThirtyMinutes) {
  LoadResult result = parsePolicyDocuments(policyWithSpec(R"(
  triggers: [{source: admission, operations: [DELETE], resources: [pods]}]
  correlation: {requireAudit: [{verbs: [create], resources: [pods/exec]}]}
  actions: {labels: {suspect: "yes"}}
)"),
                                           "t.yaml");
  ASSERT_TRUE(result.problems.empty()) << describe(result);
  EXPECT_EQ(result.policies.at(0)->correlation->window, minutes(30));
  EXPECT_FALSE(result.policies.at(0)->actions.snapshot.has_value());
}

TEST(ParserTest, NullFieldsCountAsAbsent) {
  LoadResult result = parsePolicyDocuments(policyWithSpec(R"(
  match:
    namespaces:
    podSelector: ~
  triggers: [{source: admission, operations: [DELETE], resources: [pods], users: null}]
  correlation:
  actions: {snapshot: {holdDeletion: null}, labels: null}
)"),
                                           "t.yaml");
  ASSERT_TRUE(result.problems.empty()) << describe(result);
  EXPECT_FALSE(result.policies.at(0)->correlation.has_value());
}

TEST(ParserTest, EachActionAloneIsEnough) {
  for (const char* actions :
       {"{snapshot: {}}", "{labels: {a: b}}", "{annotations: {a: b}}", "{quarantine: true}"}) {
    LoadResult result = parsePolicyDocuments(
        policyWithSpec("  triggers: [{source: admission, operations: [DELETE], resources: "
                       "[pods]}]\n  actions: " +
                       std::string(actions) + "\n"),
        "t.yaml");
    EXPECT_TRUE(result.problems.empty()) << actions << describe(result);
  }
}

TEST(ParserTest, MetadataMayCarryAnyKubernetesField) {
  LoadResult result = parsePolicyDocuments(R"(
apiVersion: podmortem.io/v1alpha1
kind: ForensicPolicy
metadata:
  name: p
  resourceVersion: "123"
  creationTimestamp: "2024-05-01T10:00:00Z"
  annotations: {kubectl.kubernetes.io/last-applied-configuration: "{}"}
  managedFields: [{manager: kubectl, operation: Update}]
  finalizers: []
spec:
)" + std::string(kMinimalSpec),
                                           "t.yaml");
  EXPECT_TRUE(result.problems.empty()) << describe(result);
}

TEST(ParserTest, AllProblemsOfADocumentAreReportedWithSourceNameAndLine) {
  LoadResult result = parsePolicyDocuments(R"(apiVersion: podmortem.io/v1alpha1
kind: ForensicPolicy
metadata: {name: broken}
spec:
  triggers:
    - source: admission
      operations: [DELETE, REMOVE]
      resources: [pods]
  actions:
    snapshot:
      collectors: [pod, memory]
      holdDeletion: 2m
)",
                                           "policies/broken.yaml");
  EXPECT_TRUE(result.policies.empty());
  EXPECT_EQ(result.rejected, 1u);
  ASSERT_EQ(result.problems.size(), 3u) << describe(result);
  for (const auto& problem : result.problems) {
    EXPECT_EQ(problem.source, "policies/broken.yaml");
    EXPECT_EQ(problem.policyName, "broken");
  }
  const PolicyProblem* operation = findProblem(result, "spec.triggers[0].operations[1]");
  ASSERT_NE(operation, nullptr) << describe(result);
  EXPECT_EQ(operation->reason, "must be one of CREATE, UPDATE, DELETE, CONNECT, *");
  EXPECT_EQ(operation->line, 7);
  EXPECT_EQ(operation->toString(),
            "policies/broken.yaml:7: policy broken: spec.triggers[0].operations[1]: must be one "
            "of CREATE, UPDATE, DELETE, CONNECT, *");
  EXPECT_NE(findProblem(result, "spec.actions.snapshot.collectors[1]"), nullptr);
  EXPECT_NE(findProblem(result, "spec.actions.snapshot.holdDeletion"), nullptr);
}

// One broken rule per case: the problem must point at the field, so that a user can find it.
struct ValidationCase {
  const char* name;
  std::string document;
  std::string fieldPath;
  std::string reasonContains;
};

std::ostream& operator<<(std::ostream& out, const ValidationCase& c) {
  return out << c.name;
}

std::string header(const std::string& apiVersion, const std::string& kind,
                   const std::string& metadata) {
  return "apiVersion: " + apiVersion + "\nkind: " + kind + "\nmetadata: " + metadata + "\nspec:\n" +
         kMinimalSpec;
}

std::string withTrigger(const std::string& trigger) {
  return policyWithSpec("  triggers:\n    - " + trigger + "\n  actions: {snapshot: {}}\n");
}

std::string withActions(const std::string& actions) {
  return policyWithSpec(
      "  triggers: [{source: admission, operations: [DELETE], resources: [pods]}]\n"
      "  actions: " +
      actions + "\n");
}

std::string withMatch(const std::string& match) {
  return policyWithSpec("  match: " + match + "\n" + kMinimalSpec);
}

const std::string kAdmission = "{source: admission, operations: [DELETE], resources: [pods]";
const std::string kAudit = "{source: audit, verbs: [create], resources: [pods/exec]";

class ValidationRuleTest : public ::testing::TestWithParam<ValidationCase> {};

TEST_P(ValidationRuleTest, ReportsTheFieldPathAndReason) {
  const ValidationCase& c = GetParam();
  LoadResult result = parsePolicyDocuments(c.document, "t.yaml");
  EXPECT_TRUE(result.policies.empty());
  EXPECT_EQ(result.rejected, 1u);
  const PolicyProblem* problem = findProblem(result, c.fieldPath);
  ASSERT_NE(problem, nullptr) << "no problem at " << c.fieldPath << ";" << describe(result);
  EXPECT_NE(problem->reason.find(c.reasonContains), std::string::npos) << problem->reason;
}

INSTANTIATE_TEST_SUITE_P(
    Rules, ValidationRuleTest,
    ::testing::Values(
        ValidationCase{"WrongApiVersion", header("podmortem.io/v1", "ForensicPolicy", "{name: p}"),
                       "apiVersion", "must be podmortem.io/v1alpha1"},
        ValidationCase{"WrongKind", header("podmortem.io/v1alpha1", "Policy", "{name: p}"), "kind",
                       "must be ForensicPolicy"},
        ValidationCase{
            "MissingApiVersion",
            "kind: ForensicPolicy\nmetadata: {name: p}\nspec:\n" + std::string(kMinimalSpec),
            "apiVersion", "is required"},
        ValidationCase{"MissingName",
                       header("podmortem.io/v1alpha1", "ForensicPolicy", "{labels: {a: b}}"),
                       "metadata.name", "is required"},
        ValidationCase{"NameNotDns1123",
                       header("podmortem.io/v1alpha1", "ForensicPolicy", "{name: Capture_All}"),
                       "metadata.name", "DNS-1123 subdomain"},
        ValidationCase{"NameTooLong",
                       header("podmortem.io/v1alpha1", "ForensicPolicy",
                              "{name: " + std::string(254, 'a') + "}"),
                       "metadata.name", "at most 253"},
        ValidationCase{
            "NegativeGeneration",
            header("podmortem.io/v1alpha1", "ForensicPolicy", "{name: p, generation: -1}"),
            "metadata.generation", "negative"},
        ValidationCase{"UnknownTopLevelField", policyWithSpec(kMinimalSpec) + "extra: 1\n", "extra",
                       "unknown field"},
        ValidationCase{"MissingSpec",
                       "apiVersion: podmortem.io/v1alpha1\nkind: ForensicPolicy\nmetadata: "
                       "{name: p}\n",
                       "spec", "is required"},
        ValidationCase{"SpecNotAMapping", policyWithSpec("  - a\n"), "spec", "must be a mapping"},
        ValidationCase{"UnknownSpecFieldCatchesTypo",
                       policyWithSpec(std::string(kMinimalSpec) + "  tirggers: []\n"),
                       "spec.tirggers", "unknown field"},
        ValidationCase{
            "DuplicateSpecField",
            policyWithSpec(std::string(kMinimalSpec) + "  actions: {quarantine: true}\n"),
            "spec.actions", "duplicate field"},
        ValidationCase{"NoTriggers", policyWithSpec("  actions: {snapshot: {}}\n"), "spec.triggers",
                       "at least one trigger"},
        ValidationCase{"EmptyTriggerList",
                       policyWithSpec("  triggers: []\n  actions: {snapshot: {}}\n"),
                       "spec.triggers", "at least one trigger"},
        ValidationCase{"OperationOutsideTheEnum",
                       withTrigger("{source: admission, operations: [DELETE, delete], resources: "
                                   "[pods]}"),
                       "spec.triggers[0].operations[1]",
                       "must be one of CREATE, UPDATE, DELETE, CONNECT, *"},
        ValidationCase{"AdmissionTriggerWithoutOperations",
                       withTrigger("{source: admission, resources: [pods]}"),
                       "spec.triggers[0].operations", "at least one operation"},
        ValidationCase{"MissingSource", withTrigger("{operations: [DELETE], resources: [pods]}"),
                       "spec.triggers[0].source", "is required"},
        ValidationCase{"UnknownSource",
                       withTrigger("{source: webhook, operations: [DELETE], resources: [pods]}"),
                       "spec.triggers[0].source", "must be one of admission, audit"},
        ValidationCase{"UnknownTriggerField", withTrigger(kAdmission + ", operation: DELETE}"),
                       "spec.triggers[0].operation", "unknown field"},
        ValidationCase{"VerbsOnAdmissionTrigger", withTrigger(kAdmission + ", verbs: [get]}"),
                       "spec.triggers[0].verbs", "only valid for audit triggers"},
        ValidationCase{"CodesOnAdmissionTrigger", withTrigger(kAdmission + ", codes: [200]}"),
                       "spec.triggers[0].codes", "only valid for audit triggers"},
        ValidationCase{"OperationsOnAuditTrigger", withTrigger(kAudit + ", operations: [CONNECT]}"),
                       "spec.triggers[0].operations", "only valid for admission triggers"},
        ValidationCase{"AuditTriggerWithoutVerbs",
                       withTrigger("{source: audit, resources: [pods/exec]}"),
                       "spec.triggers[0].verbs", "at least one verb"},
        ValidationCase{"ExecIsNotAnAuditVerb",
                       withTrigger("{source: audit, verbs: [exec], resources: [pods/exec]}"),
                       "spec.triggers[0].verbs[0]", "must be one of get, list"},
        ValidationCase{"TriggerWithoutResources",
                       withTrigger("{source: admission, operations: [DELETE]}"),
                       "spec.triggers[0].resources", "at least one resource"},
        ValidationCase{"ResourceNotLowercase",
                       withTrigger("{source: admission, operations: [DELETE], resources: [Pods]}"),
                       "spec.triggers[0].resources[0]", "resource/subresource"},
        ValidationCase{"ResourcesNotAList",
                       withTrigger("{source: admission, operations: [DELETE], resources: pods}"),
                       "spec.triggers[0].resources", "must be a list"},
        ValidationCase{"CodeOutOfRange", withTrigger(kAudit + ", codes: [101, 42]}"),
                       "spec.triggers[0].codes[1]", "HTTP status code"},
        ValidationCase{"CodeNotANumber", withTrigger(kAudit + ", codes: [ok]}"),
                       "spec.triggers[0].codes[0]", "must be an integer"},
        ValidationCase{"TriggerNamespaceGlobUppercase",
                       withTrigger(kAudit + ", namespaces: [Prod-*]}"),
                       "spec.triggers[0].namespaces[0]", "namespace name or glob"},
        ValidationCase{"UnknownUsersField", withTrigger(kAdmission + ", users: {inculde: ['*']}}"),
                       "spec.triggers[0].users.inculde", "unknown field"},
        ValidationCase{"EmptyUserGlob", withTrigger(kAdmission + ", users: {exclude: ['']}}"),
                       "spec.triggers[0].users.exclude[0]", "must not be empty"},
        ValidationCase{"TriggerNameNotDns1123Label", withTrigger(kAdmission + ", name: On Delete}"),
                       "spec.triggers[0].name", "DNS-1123 label"},
        ValidationCase{"DuplicateTriggerName",
                       policyWithSpec("  triggers:\n    - " + kAdmission + ", name: x}\n    - " +
                                      kAudit + ", name: x}\n  actions: {snapshot: {}}\n"),
                       "spec.triggers[1].name", "first used by spec.triggers[0]"},
        ValidationCase{"NamespaceGlobWithSlash", withMatch("{namespaces: [prod/a]}"),
                       "spec.match.namespaces[0]", "namespace name or glob"},
        ValidationCase{"UnknownMatchField", withMatch("{namespace: [default]}"),
                       "spec.match.namespace", "unknown field"},
        ValidationCase{"SelectorOperatorOutsideTheEnum",
                       withMatch("{podSelector: {matchExpressions: [{key: app, operator: Equals, "
                                 "values: [web]}]}}"),
                       "spec.match.podSelector.matchExpressions[0].operator",
                       "must be one of In, NotIn, Exists, DoesNotExist"},
        ValidationCase{"InWithoutValues",
                       withMatch("{podSelector: {matchExpressions: [{key: app, operator: In}]}}"),
                       "spec.match.podSelector.matchExpressions[0].values", "must not be empty"},
        ValidationCase{"ExistsWithValues",
                       withMatch("{namespaceSelector: {matchExpressions: [{key: app, operator: "
                                 "Exists, values: [x]}]}}"),
                       "spec.match.namespaceSelector.matchExpressions[0].values", "must be empty"},
        ValidationCase{"SelectorLabelValueInvalid",
                       withMatch("{podSelector: {matchLabels: {app: 'web server'}}}"),
                       "spec.match.podSelector.matchLabels[app]", "label value"},
        ValidationCase{"NoAction", policyWithSpec("  triggers: [" + kAdmission + "}]\n"),
                       "spec.actions", "at least one action"},
        ValidationCase{"QuarantineFalseIsNoAction", withActions("{quarantine: false}"),
                       "spec.actions", "at least one action"},
        ValidationCase{"QuarantineNotABoolean", withActions("{quarantine: 'true'}"),
                       "spec.actions.quarantine", "must be true or false"},
        ValidationCase{"UnknownActionField", withActions("{snapshot: {}, label: {a: b}}"),
                       "spec.actions.label", "unknown field"},
        ValidationCase{"UnknownCollector",
                       withActions("{snapshot: {collectors: [pod, memoryDump]}}"),
                       "spec.actions.snapshot.collectors[1]", "unknown collector (known: pod,"},
        ValidationCase{"CollectorListedTwice",
                       withActions("{snapshot: {collectors: [pod, logs, pod]}}"),
                       "spec.actions.snapshot.collectors", "more than once"},
        ValidationCase{"HoldDeletionOverThirtySeconds",
                       withActions("{snapshot: {holdDeletion: 31s}}"),
                       "spec.actions.snapshot.holdDeletion", "at most 30s"},
        ValidationCase{"HoldDeletionZero", withActions("{snapshot: {holdDeletion: 0s}}"),
                       "spec.actions.snapshot.holdDeletion", "greater than 0"},
        ValidationCase{"HoldDeletionNotADuration", withActions("{snapshot: {holdDeletion: 10}}"),
                       "spec.actions.snapshot.holdDeletion", "must be a duration"},
        ValidationCase{"OnTimeoutOutsideTheEnum", withActions("{snapshot: {onTimeout: block}}"),
                       "spec.actions.snapshot.onTimeout", "must be one of allow, deny"},
        ValidationCase{"UnknownSnapshotField", withActions("{snapshot: {hold: 10s}}"),
                       "spec.actions.snapshot.hold", "unknown field"},
        ValidationCase{"LogLimitBytesZero", withActions("{snapshot: {logs: {limitBytes: 0}}}"),
                       "spec.actions.snapshot.logs.limitBytes", "must be from 1 to"},
        ValidationCase{"LogTailLinesNotANumber",
                       withActions("{snapshot: {logs: {tailLines: many}}}"),
                       "spec.actions.snapshot.logs.tailLines", "integer"},
        ValidationCase{"UnknownLogsField", withActions("{snapshot: {logs: {since: 1h}}}"),
                       "spec.actions.snapshot.logs.since", "unknown field"},
        ValidationCase{"LabelValueInvalid", withActions("{labels: {podmortem.io/suspect: 'yes!'}}"),
                       "spec.actions.labels[podmortem.io/suspect]", "label value"},
        ValidationCase{"LabelKeyInvalid", withActions("{labels: {'bad key': x}}"),
                       "spec.actions.labels[bad key]", "qualified name"},
        ValidationCase{"AnnotationKeyInvalid", withActions("{annotations: {'/x': y}}"),
                       "spec.actions.annotations[/x]", "qualified name"},
        ValidationCase{
            "CorrelationWindowNotADuration",
            policyWithSpec(std::string(kMinimalSpec) + "  correlation: {window: soon}\n"),
            "spec.correlation.window", "must be a duration"},
        ValidationCase{"CorrelationRequirementWithoutResources",
                       policyWithSpec(std::string(kMinimalSpec) +
                                      "  correlation: {requireAudit: [{verbs: [get]}]}\n"),
                       "spec.correlation.requireAudit[0].resources", "at least one resource"},
        ValidationCase{"CorrelationRequirementUnknownField",
                       policyWithSpec(std::string(kMinimalSpec) +
                                      "  correlation: {requireAudit: [{verbs: [get], resources: "
                                      "[pods/exec], users: [x]}]}\n"),
                       "spec.correlation.requireAudit[0].users", "unknown field"},
        ValidationCase{"DocumentNotAMapping", "- a\n- b\n", "", "must be a mapping"}),
    [](const ::testing::TestParamInfo<ValidationCase>& info) { return info.param.name; });

TEST(ParserTest, MultiDocumentTextKeepsValidDocumentsAndNumbersSources) {
  std::string text = policyWithSpec(kMinimalSpec) + "---\n" +
                     header("podmortem.io/v1alpha1", "ForensicPolicy", "{name: bad}")
                         .replace(0, 0, "# the second document is broken\n") +
                     "  extra: 1\n---\n" +
                     header("podmortem.io/v1alpha1", "ForensicPolicy", "{name: third}");
  LoadResult result = parsePolicyDocuments(text, "multi.yaml");
  ASSERT_EQ(result.policies.size(), 2u) << describe(result);
  EXPECT_EQ(result.policies[0]->name, "p");
  EXPECT_EQ(result.policies[0]->source, "multi.yaml#1");
  EXPECT_EQ(result.policies[1]->name, "third");
  EXPECT_EQ(result.policies[1]->source, "multi.yaml#3");
  EXPECT_EQ(result.rejected, 1u);
  ASSERT_EQ(result.problems.size(), 1u) << describe(result);
  EXPECT_EQ(result.problems[0].source, "multi.yaml#2");
  EXPECT_EQ(result.problems[0].policyName, "bad");
  EXPECT_EQ(result.problems[0].fieldPath, "spec.extra");
}

TEST(ParserTest, EmptyDocumentsAndCommentsDeclareNothing) {
  EXPECT_TRUE(parsePolicyDocuments("", "empty.yaml").problems.empty());
  EXPECT_TRUE(parsePolicyDocuments("# nothing here yet\n", "c.yaml").problems.empty());
  LoadResult result =
      parsePolicyDocuments("---\n" + policyWithSpec(kMinimalSpec) + "---\n", "t.yaml");
  EXPECT_TRUE(result.problems.empty()) << describe(result);
  EXPECT_EQ(result.policies.size(), 1u);
  EXPECT_EQ(result.rejected, 0u);
}

TEST(ParserTest, DuplicatePolicyNameIsAProblemAndFirstWins) {
  std::string first = policyWithSpec(kMinimalSpec);
  std::string second = policyWithSpec(
      "  triggers: [{source: audit, verbs: [get], resources: [pods/exec]}]\n"
      "  actions: {quarantine: true}\n");
  LoadResult result = parsePolicyDocuments(first + "---\n" + second, "dup.yaml");
  ASSERT_EQ(result.policies.size(), 1u);
  EXPECT_EQ(result.policies[0]->source, "dup.yaml#1");
  EXPECT_EQ(result.policies[0]->triggers[0].source, TriggerSource::kAdmission);
  EXPECT_EQ(result.rejected, 1u);
  ASSERT_EQ(result.problems.size(), 1u);
  EXPECT_EQ(result.problems[0].source, "dup.yaml#2");
  EXPECT_EQ(result.problems[0].policyName, "p");
  EXPECT_EQ(result.problems[0].reason, "duplicate policy name, first defined in dup.yaml#1");
}

TEST(ParserTest, AppendLoadResultRejectsNamesAlreadyLoadedFromAnotherSource) {
  LoadResult all = parsePolicyDocuments(policyWithSpec(kMinimalSpec), "a.yaml");
  appendLoadResult(all, parsePolicyDocuments(policyWithSpec(kMinimalSpec), "b.yaml"));
  ASSERT_EQ(all.policies.size(), 1u);
  EXPECT_EQ(all.policies[0]->source, "a.yaml");
  ASSERT_EQ(all.problems.size(), 1u);
  EXPECT_EQ(all.problems[0].source, "b.yaml");
  EXPECT_EQ(all.problems[0].reason, "duplicate policy name, first defined in a.yaml");
}

// The shape the API server returns for a custom resource: JSON, with status and server fields.
TEST(ParserTest, KubernetesJsonObjectParses) {
  constexpr const char* kJson = R"({
  "apiVersion": "podmortem.io/v1alpha1",
  "kind": "ForensicPolicy",
  "metadata": {
    "name": "capture-on-delete", "uid": "6f1d2a4c-1111-2222-3333-444455556666",
    "generation": 3, "resourceVersion": "98765",
    "creationTimestamp": "2024-05-01T10:00:00Z",
    "managedFields": [{"manager": "kubectl-client-side-apply", "operation": "Update"}]
  },
  "spec": {
    "match": {"excludeNamespaces": ["kube-system"], "podSelector": {"matchLabels": {"app": "web"}}},
    "triggers": [
      {"source": "admission", "operations": ["DELETE"], "resources": ["pods"]},
      {"source": "audit", "verbs": ["get", "create"], "resources": ["pods/exec"], "codes": [101]}
    ],
    "actions": {"snapshot": {"collectors": ["pod"], "holdDeletion": "15s", "onTimeout": "deny"},
                "quarantine": false, "labels": {"podmortem.io/suspect": "true"}}
  },
  "status": {"conditions": [{"type": "Ready", "status": "True"}], "observedGeneration": 2}
})";
  LoadResult result = parsePolicyDocuments(kJson, "kubernetes");
  ASSERT_TRUE(result.problems.empty()) << describe(result);
  const Policy& policy = *result.policies.at(0);
  EXPECT_EQ(policy.source, "kubernetes");
  EXPECT_EQ(policy.generation, 3);
  EXPECT_EQ(policy.uid, "6f1d2a4c-1111-2222-3333-444455556666");
  EXPECT_EQ(policy.triggers.at(1).codes, std::vector<int>{101});
  EXPECT_EQ(policy.actions.snapshot->holdDeletion, seconds(15));
  EXPECT_EQ(policy.actions.snapshot->onTimeout, OnTimeout::kDeny);
  EXPECT_FALSE(policy.actions.quarantine);
}

TEST(ParserTest, JsonProblemsUseTheSameFieldPaths) {
  LoadResult result = parsePolicyDocuments(
      R"({"apiVersion": "podmortem.io/v1alpha1", "kind": "ForensicPolicy",
          "metadata": {"name": "j"},
          "spec": {"triggers": [{"source": "admission", "operations": ["DELETE"],
                                 "resources": ["pods"]}],
                   "actions": {"snapshot": {"holdDeletion": 20}, "quarantine": "true"}}})",
      "kubernetes");
  EXPECT_TRUE(result.policies.empty());
  EXPECT_NE(findProblem(result, "spec.actions.snapshot.holdDeletion"), nullptr) << describe(result);
  EXPECT_NE(findProblem(result, "spec.actions.quarantine"), nullptr) << describe(result);
}

TEST(ParserTest, GarbageInputIsAProblemNotAThrow) {
  const std::vector<std::string> garbage = {
      "key: [unclosed\n",
      "{\"apiVersion\": ",
      "a: b\n  c: d\n",
      "key: @reserved\n",
      std::string("\x00\xff\xfe binary", 10),
      "just a scalar",
      "[1, 2, 3]",
      "apiVersion: podmortem.io/v1alpha1\nkind: ForensicPolicy\nmetadata: [name]\nspec: 3\n",
      std::string(5000, '[') + std::string(5000, ']'),
  };
  for (const auto& text : garbage) {
    LoadResult result;
    EXPECT_NO_THROW(result = parsePolicyDocuments(text, "garbage.yaml")) << text.substr(0, 40);
    EXPECT_TRUE(result.policies.empty()) << text.substr(0, 40);
    EXPECT_FALSE(result.problems.empty()) << text.substr(0, 40);
    EXPECT_GE(result.rejected, 1u);
  }
}

TEST(ParserTest, SyntaxErrorNamesTheLine) {
  LoadResult result = parsePolicyDocuments("apiVersion: x\nkind: [unclosed\nspec: {}\n", "s.yaml");
  ASSERT_EQ(result.problems.size(), 1u);
  EXPECT_EQ(result.problems[0].source, "s.yaml");
  EXPECT_GT(result.problems[0].line, 0);
  EXPECT_NE(result.problems[0].reason.find("not valid YAML or JSON"), std::string::npos);
}

TEST(ParserTest, ResourceStringJoinsSubresource) {
  EXPECT_EQ(resourceString("pods", ""), "pods");
  EXPECT_EQ(resourceString("pods", "eviction"), "pods/eviction");
}

TEST(ParserTest, KnownCollectorsListEveryCollectorOnce) {
  const auto& known = knownCollectors();
  EXPECT_EQ(known.size(), 10u);
  for (const auto& name : defaultCollectors()) {
    EXPECT_NE(std::find(known.begin(), known.end(), name), known.end()) << name;
  }
}

}  // namespace
}  // namespace podmortem::policy
