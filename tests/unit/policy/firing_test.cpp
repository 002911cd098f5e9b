#include "podmortem/policy/firing.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "podmortem/policy/parser.h"

namespace podmortem::policy {
namespace {

using Effect = Firing::Effect;
using Clock = std::chrono::system_clock;

PolicySet parseSet(const std::string& text) {
  LoadResult result = parsePolicyDocuments(text, "test.yaml");
  for (const auto& problem : result.problems) ADD_FAILURE() << problem.toString();
  return PolicySet(std::move(result.policies));
}

constexpr const char* kPolicies = R"(
apiVersion: podmortem.io/v1alpha1
kind: ForensicPolicy
metadata: {name: snapshot-web}
spec:
  match: {podSelector: {matchLabels: {app: web}}}
  triggers:
    - {name: deletes, source: admission, operations: [DELETE, CREATE], resources: [pods, pods/eviction]}
  actions:
    snapshot: {collectors: [pod, logs], holdDeletion: 7s, onTimeout: deny, logs: {tailLines: 50}}
---
apiVersion: podmortem.io/v1alpha1
kind: ForensicPolicy
metadata: {name: label-only}
spec:
  triggers:
    - {source: admission, operations: [DELETE], resources: [pods]}
  actions: {labels: {podmortem.io/suspect: "true"}}
---
apiVersion: podmortem.io/v1alpha1
kind: ForensicPolicy
metadata: {name: exec-then-delete}
spec:
  triggers:
    - {source: admission, operations: [DELETE], resources: [pods]}
  correlation:
    window: 10m
    requireAudit: [{verbs: [create], resources: [pods/exec]}]
  actions: {snapshot: {}}
---
apiVersion: podmortem.io/v1alpha1
kind: ForensicPolicy
metadata: {name: audit-exec}
spec:
  triggers:
    - {source: audit, verbs: [create], resources: [pods/exec]}
  actions: {snapshot: {collectors: [pod]}}
)";

AdmissionRequest deleteOf(std::string ns, std::string name) {
  AdmissionRequest request;
  request.uid = "req-1";
  request.operation = "DELETE";
  request.resource = "pods";
  request.namespaceName = std::move(ns);
  request.name = std::move(name);
  request.userName = "mallory";
  request.groups = {"contractors"};
  return request;
}

PodRecord webPod() {
  PodRecord pod;
  pod.identity = {"shop", "web-1", "uid-1", "node-a"};
  pod.labels = {{"app", "web"}};
  pod.json = R"({"kind":"Pod"})";
  pod.source = "admission";
  return pod;
}

AuditEvent execEvent() {
  AuditEvent event;
  event.auditId = "audit-1";
  event.stage = "ResponseStarted";
  event.verb = "create";
  event.userName = "mallory";
  event.resource = "pods";
  event.subResource = "exec";
  event.namespaceName = "shop";
  event.name = "web-1";
  event.timeMicros = std::chrono::duration_cast<std::chrono::microseconds>(
                         Clock::now().time_since_epoch()).count();
  return event;
}

std::vector<std::string> summary(const std::vector<Firing>& firings) {
  std::vector<std::string> out;
  for (const auto& f : firings) {
    const char* effect = f.effect == Effect::kCapture          ? "capture"
                         : f.effect == Effect::kActionsOnly    ? "actions"
                         : f.effect == Effect::kDryRunCapture  ? "dry-run"
                                                               : "match";
    out.push_back(f.policy->name + ":" + effect);
  }
  return out;
}

TEST(AdmissionFirings, DeleteOfALabelledPodCapturesAndLabelsButRequireAuditWaitsForAnExec) {
  auto set = parseSet(kPolicies);
  auto request = deleteOf("shop", "web-1");
  auto pod = webPod();
  CorrelationWindow window({});
  auto attributes = admissionAttributesOf(request, &pod, nullptr);
  EXPECT_EQ(summary(admissionFirings(set, request, attributes, &window, Clock::now())),
            (std::vector<std::string>{"snapshot-web:capture", "label-only:actions"}));

  window.add(execEvent(), Clock::now());
  EXPECT_EQ(summary(admissionFirings(set, request, attributes, &window, Clock::now())),
            (std::vector<std::string>{"snapshot-web:capture", "label-only:actions",
                                      "exec-then-delete:capture"}));
  // Without any audit history nothing required can hold.
  EXPECT_EQ(summary(admissionFirings(set, request, attributes, nullptr, Clock::now())).size(), 2u);
}

TEST(AdmissionFirings, DryRunIsToldNotDoneAndUnknownLabelsDoNotMatch) {
  auto set = parseSet(kPolicies);
  auto request = deleteOf("shop", "web-1");
  request.dryRun = true;
  auto pod = webPod();
  auto attributes = admissionAttributesOf(request, &pod, nullptr);
  EXPECT_EQ(summary(admissionFirings(set, request, attributes, nullptr, Clock::now())),
            (std::vector<std::string>{"snapshot-web:dry-run", "label-only:match"}));

  request.dryRun = false;
  auto unknown = admissionAttributesOf(request, nullptr, nullptr);
  EXPECT_EQ(summary(admissionFirings(set, request, unknown, nullptr, Clock::now())),
            (std::vector<std::string>{"label-only:actions"}));
  unknown.unknownPodLabelsMayMatch = true;
  EXPECT_EQ(set.matchAdmission(unknown).size(), 3u) << "could match once the pod is read";
}

TEST(AdmissionFirings, APodCreateMatchesButCannotCapture) {
  auto set = parseSet(kPolicies);
  auto request = deleteOf("shop", "web-1");
  request.operation = "CREATE";
  auto pod = webPod();
  EXPECT_FALSE(request.canCapture());
  EXPECT_EQ(summary(admissionFirings(set, request, admissionAttributesOf(request, &pod, nullptr),
                                     nullptr, Clock::now())),
            (std::vector<std::string>{"snapshot-web:match"}));
}

TEST(CaptureRequestFor, CarriesThePodTheTriggerAndWhatThePolicyAsks) {
  auto set = parseSet(kPolicies);
  auto request = deleteOf("shop", "web-1");
  auto pod = webPod();
  auto firings = admissionFirings(set, request, admissionAttributesOf(request, &pod, nullptr),
                                  nullptr, Clock::now());
  ASSERT_FALSE(firings.empty());
  auto capture = captureRequestFor(firings[0], request, &pod, Clock::time_point{});
  EXPECT_EQ(capture.pod.uid, "uid-1");
  EXPECT_EQ(capture.pod.node, "node-a");
  EXPECT_EQ(capture.podJson, pod.json);
  EXPECT_EQ(capture.podSource, "admission");
  EXPECT_EQ(capture.trigger.source, "admission");
  EXPECT_EQ(capture.trigger.name, "deletes");
  EXPECT_EQ(capture.trigger.operation, "DELETE");
  EXPECT_EQ(capture.trigger.resource, "pods");
  EXPECT_EQ(capture.trigger.user, "mallory");
  EXPECT_EQ(capture.trigger.requestUid, "req-1");
  EXPECT_EQ(capture.collectors, (std::vector<std::string>{"pod", "logs"}));
  EXPECT_EQ(capture.logTailLines, 50);
  EXPECT_EQ(capture.holdDeletion, std::chrono::seconds(7));
  EXPECT_EQ(capture.onTimeout, OnTimeout::kDeny);
  EXPECT_EQ(capture.key(), "uid-1|snapshot-web|deletes");

  // An eviction names the pod only; without one known, the key falls back to namespace/name.
  request.operation = "CREATE";
  request.subResource = "eviction";
  request.objectJson = R"({"kind":"Eviction"})";
  auto eviction = captureRequestFor(firings[0], request, nullptr, Clock::time_point{});
  EXPECT_EQ(eviction.pod.key(), "shop/web-1");
  EXPECT_EQ(eviction.triggerObjectJson, R"({"kind":"Eviction"})");
  EXPECT_EQ(eviction.trigger.resource, "pods/eviction");
  EXPECT_EQ(eviction.key(), "shop/web-1|snapshot-web|deletes");
}

TEST(AuditFirings, AnExecOnAPodCapturesWithTheAuditedUserAndTime) {
  auto set = parseSet(kPolicies);
  CorrelationWindow window({});
  auto event = execEvent();
  event.impersonatedUserName = "deployer";
  auto firings = auditFirings(set.matchAudit(auditAttributesOf(event)), event, window, Clock::now());
  ASSERT_EQ(summary(firings), (std::vector<std::string>{"audit-exec:capture"}));
  auto capture = captureRequestFor(firings[0], event, nullptr);
  EXPECT_EQ(capture.trigger.source, "audit");
  EXPECT_EQ(capture.trigger.operation, "create");
  EXPECT_EQ(capture.trigger.resource, "pods/exec");
  EXPECT_EQ(capture.trigger.user, "mallory as deployer");
  EXPECT_EQ(capture.trigger.requestUid, "audit-1");
  EXPECT_EQ(capture.trigger.time,
            Clock::time_point(std::chrono::microseconds(event.timeMicros)));
  EXPECT_EQ(capture.key(), "shop/web-1|audit-exec|audit-0");
}

TEST(AuditFirings, AnEventThatNamesNoPodOnlyMatches) {
  auto set = parseSet(kPolicies);
  CorrelationWindow window({});
  auto event = execEvent();
  event.name.clear();
  auto firings = auditFirings(set.matchAudit(auditAttributesOf(event)), event, window, Clock::now());
  EXPECT_EQ(summary(firings), (std::vector<std::string>{"audit-exec:match"}));
}

TEST(AdmissionRequestOf, MapsAuditedPodRequestsToWhatTheWebhookSaw) {
  auto event = execEvent();
  auto exec = admissionRequestOf(event);
  ASSERT_TRUE(exec);
  EXPECT_EQ(exec->operation, "CONNECT");
  EXPECT_TRUE(exec->canCapture());
  event.verb = "get";  // kubectl >= 1.30 tries WebSockets first
  EXPECT_EQ(admissionRequestOf(event)->operation, "CONNECT");

  event.subResource = "";
  event.verb = "delete";
  event.impersonatedUserName = "deployer";
  auto deletion = admissionRequestOf(event);
  ASSERT_TRUE(deletion);
  EXPECT_EQ(deletion->operation, "DELETE");
  EXPECT_EQ(deletion->userName, "deployer") << "admission sees the impersonated user";

  event.verb = "list";
  EXPECT_FALSE(admissionRequestOf(event));
  event.verb = "patch";
  event.subResource = "status";
  EXPECT_FALSE(admissionRequestOf(event)) << "the webhook is not registered for pods/status";
  event.subResource = "eviction";
  event.verb = "create";
  EXPECT_EQ(admissionRequestOf(event)->operation, "CREATE");
}

}  // namespace
}  // namespace podmortem::policy
