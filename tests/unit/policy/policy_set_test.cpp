#include "podmortem/policy/policy_set.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "podmortem/policy/parser.h"

namespace podmortem::policy {
namespace {

std::shared_ptr<const PolicySet> parseSet(const std::string& text) {
  LoadResult result = parsePolicyDocuments(text, "test.yaml");
  for (const auto& problem : result.problems)
    ADD_FAILURE() << problem.toString();
  return std::make_shared<const PolicySet>(std::move(result.policies));
}

std::vector<std::string> names(const std::vector<TriggerMatch>& matches) {
  std::vector<std::string> result;
  for (const auto& match : matches) {
    result.push_back(match.policy->name + "/" + std::string(match.triggerName));
  }
  return result;
}

// Shaped like examples/policies/capture-on-delete.yaml, plus a selector-bound policy and an
// exec policy, so that one request can be checked against all three at once.
constexpr const char* kPolicies = R"(
apiVersion: podmortem.io/v1alpha1
kind: ForensicPolicy
metadata: {name: capture-on-delete}
spec:
  match: {excludeNamespaces: [kube-system]}
  triggers:
    - name: on-delete
      source: admission
      operations: [DELETE]
      resources: [pods]
      users: {include: ["*"], exclude: ["system:serviceaccount:kube-system:*"]}
    - name: on-eviction
      source: admission
      operations: [CREATE]
      resources: [pods/eviction]
      users: {exclude: ["system:serviceaccount:kube-system:*"]}
  actions: {snapshot: {}}
---
apiVersion: podmortem.io/v1alpha1
kind: ForensicPolicy
metadata: {name: web-only}
spec:
  match:
    namespaces: [default, prod-*]
    podSelector: {matchLabels: {app: web}}
  triggers:
    - {source: admission, operations: ["*"], resources: ["pods", "pods/*"]}
  actions: {labels: {podmortem.io/suspect: "true"}}
---
apiVersion: podmortem.io/v1alpha1
kind: ForensicPolicy
metadata: {name: exec-watch}
spec:
  match:
    namespaceSelector: {matchLabels: {env: prod}}
  triggers:
    - name: connect
      source: admission
      operations: [CONNECT]
      resources: [pods/exec, pods/attach]
      groups: {include: ["developers", "contractors:*"], exclude: ["system:masters"]}
    - name: audit-exec
      source: audit
      verbs: [get, create]
      resources: [pods/exec]
      namespaces: [prod-*]
      codes: [101, 200]
      users: {exclude: ["system:node:*"]}
  actions: {snapshot: {collectors: [pod, logs]}}
)";

const Labels kWebLabels = {{"app", "web"}};
const Labels kProdNamespace = {{"env", "prod"}};
const std::vector<std::string> kDeveloperGroups = {"system:authenticated", "developers"};

AdmissionAttributes admission(std::string_view operation, std::string_view subResource,
                              std::string_view ns, std::string_view user) {
  AdmissionAttributes request;
  request.operation = operation;
  request.resource = "pods";
  request.subResource = subResource;
  request.namespaceName = ns;
  request.userName = user;
  return request;
}

TEST(PolicySetTest, DeleteOfPodMatchesProtectingPoliciesInOrder) {
  auto set = parseSet(kPolicies);
  ASSERT_EQ(set->size(), 3u);
  AdmissionAttributes request = admission("DELETE", "", "default", "alice");
  request.podLabels = &kWebLabels;
  EXPECT_EQ(names(set->matchAdmission(request)),
            (std::vector<std::string>{"capture-on-delete/on-delete", "web-only/admission-0"}));
}

TEST(PolicySetTest, MatchCarriesTriggerIndexAndKeepsPolicyAlive) {
  std::vector<TriggerMatch> matches;
  {
    auto set = parseSet(kPolicies);
    matches = set->matchAdmission(admission("CREATE", "eviction", "shop", "bob"));
  }
  ASSERT_EQ(matches.size(), 1u);
  EXPECT_EQ(matches[0].triggerIndex, 1u);
  EXPECT_EQ(matches[0].triggerName, "on-eviction");
  EXPECT_EQ(matches[0].policy->triggers[1].name, matches[0].triggerName);
}

TEST(PolicySetTest, EvictionWithoutKnownPodSkipsPoliciesWithPodSelector) {
  auto set = parseSet(kPolicies);
  // Eviction of a pod the cache does not know: podLabels stays nullptr.
  AdmissionAttributes request = admission("CREATE", "eviction", "prod-eu", "bob");
  EXPECT_EQ(names(set->matchAdmission(request)),
            std::vector<std::string>{"capture-on-delete/on-eviction"});
  // Once the pod is known, the selector-bound policy matches too.
  request.podLabels = &kWebLabels;
  EXPECT_EQ(names(set->matchAdmission(request)),
            (std::vector<std::string>{"capture-on-delete/on-eviction", "web-only/admission-0"}));
}

TEST(PolicySetTest, PodSelectorMismatchRejectsPolicy) {
  auto set = parseSet(kPolicies);
  Labels api = {{"app", "api"}};
  AdmissionAttributes request = admission("DELETE", "", "default", "alice");
  request.podLabels = &api;
  EXPECT_EQ(names(set->matchAdmission(request)),
            std::vector<std::string>{"capture-on-delete/on-delete"});
}

TEST(PolicySetTest, ConnectExecNeedsNamespaceLabelsAndIncludedGroup) {
  auto set = parseSet(kPolicies);
  AdmissionAttributes request = admission("CONNECT", "exec", "payments", "carol");
  request.groups = &kDeveloperGroups;
  EXPECT_TRUE(set->matchAdmission(request).empty()) << "namespace labels unknown";

  request.namespaceLabels = &kProdNamespace;
  EXPECT_EQ(names(set->matchAdmission(request)), std::vector<std::string>{"exec-watch/connect"});

  std::vector<std::string> contractor = {"contractors:acme"};
  request.groups = &contractor;
  EXPECT_EQ(names(set->matchAdmission(request)), std::vector<std::string>{"exec-watch/connect"});

  std::vector<std::string> others = {"system:authenticated"};
  request.groups = &others;
  EXPECT_TRUE(set->matchAdmission(request).empty()) << "no included group";
  request.groups = nullptr;
  EXPECT_TRUE(set->matchAdmission(request).empty()) << "groups unknown";

  Labels dev = {{"env", "dev"}};
  request.groups = &kDeveloperGroups;
  request.namespaceLabels = &dev;
  EXPECT_TRUE(set->matchAdmission(request).empty()) << "namespace selector mismatch";
}

TEST(PolicySetTest, GroupExcludeWinsOverInclude) {
  auto set = parseSet(kPolicies);
  std::vector<std::string> groups = {"developers", "system:masters"};
  AdmissionAttributes request = admission("CONNECT", "exec", "payments", "root");
  request.groups = &groups;
  request.namespaceLabels = &kProdNamespace;
  EXPECT_TRUE(set->matchAdmission(request).empty());
}

TEST(PolicySetTest, UserExcludeWinsOverInclude) {
  auto set = parseSet(kPolicies);
  AdmissionAttributes request =
      admission("DELETE", "", "default", "system:serviceaccount:kube-system:replicaset-controller");
  EXPECT_TRUE(set->matchAdmission(request).empty());
  request.userName = "system:serviceaccount:default:deployer";
  EXPECT_EQ(names(set->matchAdmission(request)),
            std::vector<std::string>{"capture-on-delete/on-delete"});
}

TEST(PolicySetTest, ExcludedNamespaceWinsOverEverything) {
  auto set = parseSet(R"(
apiVersion: podmortem.io/v1alpha1
kind: ForensicPolicy
metadata: {name: p}
spec:
  match: {namespaces: ["*"], excludeNamespaces: ["kube-*"]}
  triggers: [{source: admission, operations: ["*"], resources: ["*"]}]
  actions: {quarantine: true}
)");
  EXPECT_TRUE(set->matchAdmission(admission("DELETE", "", "kube-system", "alice")).empty());
  EXPECT_TRUE(set->matchAdmission(admission("DELETE", "", "kube-public", "alice")).empty());
  EXPECT_EQ(set->matchAdmission(admission("DELETE", "", "kubeflow", "alice")).size(), 1u);
}

TEST(PolicySetTest, OperationAndResourceMustBothMatch) {
  auto set = parseSet(kPolicies);
  EXPECT_TRUE(set->matchAdmission(admission("UPDATE", "", "kube-system", "alice")).empty());
  // DELETE on a subresource is not a DELETE of the pod.
  EXPECT_TRUE(set->matchAdmission(admission("DELETE", "status", "shop", "alice")).empty());
  // CREATE of the pod itself is not an eviction.
  EXPECT_TRUE(set->matchAdmission(admission("CREATE", "", "shop", "alice")).empty());
  AdmissionAttributes other = admission("DELETE", "", "shop", "alice");
  other.resource = "deployments";
  EXPECT_TRUE(set->matchAdmission(other).empty());
}

TEST(PolicySetTest, AtMostOneMatchPerPolicyTakingTheFirstTrigger) {
  auto set = parseSet(R"(
apiVersion: podmortem.io/v1alpha1
kind: ForensicPolicy
metadata: {name: p}
spec:
  triggers:
    - {name: specific, source: admission, operations: [DELETE], resources: [pods]}
    - {name: broad, source: admission, operations: ["*"], resources: ["*"]}
  actions: {quarantine: true}
)");
  EXPECT_EQ(names(set->matchAdmission(admission("DELETE", "", "a", "u"))),
            std::vector<std::string>{"p/specific"});
  EXPECT_EQ(names(set->matchAdmission(admission("CONNECT", "exec", "a", "u"))),
            std::vector<std::string>{"p/broad"});
}

AuditAttributes auditEvent(std::string_view verb, std::string_view subResource, std::string_view ns,
                           int code) {
  AuditAttributes event;
  event.verb = verb;
  event.resource = "pods";
  event.subResource = subResource;
  event.namespaceName = ns;
  event.userName = "mallory";
  event.responseCode = code;
  event.namespaceLabels = &kProdNamespace;
  return event;
}

TEST(PolicySetTest, AuditExecMatchesBothVerbsAndListedCodes) {
  auto set = parseSet(kPolicies);
  EXPECT_EQ(names(set->matchAudit(auditEvent("create", "exec", "prod-eu", 101))),
            std::vector<std::string>{"exec-watch/audit-exec"});
  EXPECT_EQ(names(set->matchAudit(auditEvent("get", "exec", "prod-eu", 200))),
            std::vector<std::string>{"exec-watch/audit-exec"});
  EXPECT_TRUE(set->matchAudit(auditEvent("get", "exec", "prod-eu", 403)).empty());
  EXPECT_TRUE(set->matchAudit(auditEvent("get", "exec", "prod-eu", 0)).empty())
      << "unknown code cannot satisfy a codes list";
}

TEST(PolicySetTest, AuditTriggerChecksVerbResourceNamespacesAndUsers) {
  auto set = parseSet(kPolicies);
  EXPECT_TRUE(set->matchAudit(auditEvent("delete", "exec", "prod-eu", 200)).empty());
  EXPECT_TRUE(set->matchAudit(auditEvent("create", "attach", "prod-eu", 200)).empty());
  EXPECT_TRUE(set->matchAudit(auditEvent("create", "exec", "staging", 200)).empty())
      << "trigger namespaces";
  AuditAttributes kubelet = auditEvent("create", "exec", "prod-eu", 200);
  kubelet.userName = "system:node:worker-1";
  EXPECT_TRUE(set->matchAudit(kubelet).empty());
  AuditAttributes unlabelled = auditEvent("create", "exec", "prod-eu", 200);
  unlabelled.namespaceLabels = nullptr;
  EXPECT_TRUE(set->matchAudit(unlabelled).empty()) << "policy namespaceSelector";
}

TEST(PolicySetTest, AdmissionAndAuditTriggersNeverCrossMatch) {
  auto set = parseSet(kPolicies);
  // An audit event of a pod deletion does not fire the admission triggers.
  AuditAttributes deletion = auditEvent("delete", "", "default", 200);
  EXPECT_TRUE(set->matchAudit(deletion).empty());
}

TEST(PolicySetTest, EmptySetMatchesNothing) {
  PolicySet set;
  EXPECT_EQ(set.size(), 0u);
  EXPECT_TRUE(set.matchAdmission(admission("DELETE", "", "default", "alice")).empty());
  EXPECT_TRUE(set.matchAudit(auditEvent("get", "exec", "prod", 101)).empty());
}

TEST(PolicySetTest, FindReturnsPolicyByName) {
  auto set = parseSet(kPolicies);
  ASSERT_NE(set->find("web-only"), nullptr);
  EXPECT_EQ(set->find("web-only")->name, "web-only");
  EXPECT_EQ(set->find("missing"), nullptr);
}

TEST(AuditRequirementTest, MatchesListedVerbAndResourceGlob) {
  AuditRequirement requirement{{"get", "create"}, {"pods/exec", "pods/attach"}};
  EXPECT_TRUE(requirement.matches("create", "pods", "exec"));
  EXPECT_TRUE(requirement.matches("get", "pods", "attach"));
  EXPECT_FALSE(requirement.matches("list", "pods", "exec"));
  EXPECT_FALSE(requirement.matches("get", "pods", ""));
  AuditRequirement any{{"*"}, {"pods/*"}};
  EXPECT_TRUE(any.matches("patch", "pods", "status"));
}

}  // namespace
}  // namespace podmortem::policy
