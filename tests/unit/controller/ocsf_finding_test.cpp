// The OCSF Detection Finding of a snapshot: what the SOC's tools read from it. Whether it meets
// the OCSF schema is checked by the export tests (ajv on tests/schema/ocsf/); this checks what
// each attribute says.
#include "ocsf_finding.h"

#include <gtest/gtest.h>

#include "test_support.h"

namespace podmortem::controller {
namespace {

using nlohmann::json;

FindingFacts snapshotFacts() {
  FindingFacts facts;
  facts.kind = FindingFacts::Kind::kSnapshot;
  facts.findingUid = "0123456789abcdef0123456789abcdef";
  facts.eventUid = "snapshot/0123456789abcdef0123456789abcdef";
  facts.policy = "capture-on-delete";
  facts.severity = policy::Severity::kCritical;
  facts.pod = {"billing", "invoicer-6f8b9c7d5-q7w4z", "0f6a2b1c-5d4e-4f3a-9b8c-7d6e5f4a3b2c", "worker-2"};
  facts.trigger.source = "admission";
  facts.trigger.name = "on-delete";
  facts.trigger.operation = "DELETE";
  facts.trigger.resource = "pods";
  facts.trigger.user = "trent";
  facts.trigger.groups = {"contractors"};
  facts.trigger.requestUid = "5d3b1f9e-7c5a-4e3c-9b1d-8f6e4c2a0b9d";
  facts.trigger.time = std::chrono::system_clock::time_point(std::chrono::milliseconds(1'700'000'000'000));
  facts.outcome = "Complete";
  facts.bundleLocation = "file:///evidence/billing/invoicer-6f8b9c7d5-q7w4z/0123";
  facts.manifestSha256 = std::string(64, 'a');
  facts.artifacts = 2;
  facts.timeMillis = 1'700'000'000'500;
  facts.trail = trailRequests(testing::readFile(testing::ownFixture("audit/apiserver-audit.log.jsonl")));
  // The trigger is the trail's delete.
  facts.trigger.time = std::chrono::system_clock::time_point(std::chrono::milliseconds(facts.trail.front().timeMillis));
  return facts;
}

TEST(TrailRequests, OneRequestPerAuditIdWithItsLastStageInTimeOrder) {
  auto trail = trailRequests(testing::readFile(testing::ownFixture("audit/apiserver-audit.log.jsonl")));
  ASSERT_EQ(trail.size(), 3u) << "four events, two of them stages of one delete";
  EXPECT_EQ(trail[0].auditId, "5d3b1f9e-7c5a-4e3c-9b1d-8f6e4c2a0b9d");
  EXPECT_EQ(trail[0].verb, "delete");
  EXPECT_EQ(trail[0].responseCode, 200) << "ResponseComplete replaced RequestReceived";
  EXPECT_EQ(trail[0].user, "trent");
  EXPECT_EQ(trail[0].sourceIp, "198.51.100.23");
  EXPECT_EQ(trail[0].resource, "pods");
  EXPECT_EQ(trail[1].verb, "list");
  EXPECT_EQ(trail[1].responseCode, 403);
  EXPECT_EQ(trail[2].user, "admin");
  EXPECT_LT(trail[0].timeMillis, trail[1].timeMillis);
  EXPECT_LT(trail[1].timeMillis, trail[2].timeMillis);
}

TEST(TrailRequests, LinesThatAreNotAuditEventsAreSkipped) {
  auto trail = trailRequests("not json\n{\"kind\":\"Event\"}\n\n{\"auditID\":\"a\",\"verb\":\"get\"}\n");
  ASSERT_EQ(trail.size(), 1u);
  EXPECT_EQ(trail[0].auditId, "a");
}

TEST(TrailRequests, TheRecordedExecShowsWhoOpenedAShellAndFromWhere) {
  if (!testing::sharedFixturesPresent()) GTEST_SKIP() << "recorded fixtures not found";
  std::string lines;
  for (int i = 1; i <= 39; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "batch-%02d.json", i);
    auto path = testing::sharedFixture(std::string("kube-apiserver-1.21/audit-webhook/") + name);
    if (!std::filesystem::exists(path)) continue;
    json batch = json::parse(testing::readFile(path));
    for (const auto& item : batch["items"]) lines += item.dump() + "\n";
  }
  auto trail = trailRequests(lines);
  bool exec = false;
  for (const auto& request : trail) {
    if (request.resource == "pods/exec") {
      exec = true;
      EXPECT_FALSE(request.user.empty());
      EXPECT_FALSE(request.sourceIp.empty());
      EXPECT_GT(request.timeMillis, 0);
    }
  }
  EXPECT_TRUE(exec) << "the recorded session's exec, among " << trail.size() << " requests";
}

TEST(DetectionFinding, ClassActivityTypeAndSeverityFollowOcsf) {
  json finding = detectionFinding(snapshotFacts());
  EXPECT_EQ(finding["class_uid"], 2004);
  EXPECT_EQ(finding["category_uid"], 2);
  EXPECT_EQ(finding["activity_id"], 1);
  EXPECT_EQ(finding["type_uid"], 200401);
  EXPECT_EQ(finding["severity_id"], 5);
  EXPECT_EQ(finding["severity"], "Critical");
  EXPECT_EQ(finding["time"], 1'700'000'000'500);
  EXPECT_EQ(finding["metadata"]["version"], "1.8.0");
  EXPECT_EQ(finding["metadata"]["uid"], "snapshot/0123456789abcdef0123456789abcdef");
  EXPECT_EQ(finding["metadata"]["product"]["name"], "podmortem");
  EXPECT_EQ(finding["finding_info"]["uid"], "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(finding["finding_info"]["src_url"], "file:///evidence/billing/invoicer-6f8b9c7d5-q7w4z/0123");
}

TEST(DetectionFinding, EvidencesNameTheActorsTheirRequestsAndTheBundlesHash) {
  json finding = detectionFinding(snapshotFacts());
  const json& evidences = finding["evidences"];
  ASSERT_EQ(evidences.size(), 4u) << "three trail requests and the bundle: " << evidences.dump(1);
  EXPECT_EQ(evidences[0]["actor"]["user"]["name"], "trent");
  EXPECT_EQ(evidences[0]["actor"]["user"]["groups"][0]["name"], "contractors");
  EXPECT_EQ(evidences[0]["api"]["operation"], "delete");
  EXPECT_EQ(evidences[0]["api"]["request"]["uid"], "5d3b1f9e-7c5a-4e3c-9b1d-8f6e4c2a0b9d");
  EXPECT_EQ(evidences[0]["api"]["response"]["code"], 200);
  EXPECT_EQ(evidences[0]["src_endpoint"]["ip"], "198.51.100.23");
  EXPECT_EQ(evidences[2]["actor"]["user"]["name"], "admin");
  const json& bundle = evidences[3];
  EXPECT_EQ(bundle["file"]["name"], "manifest.json");
  EXPECT_EQ(bundle["file"]["hashes"][0]["algorithm_id"], 3);
  EXPECT_EQ(bundle["file"]["hashes"][0]["value"], std::string(64, 'a'));
  EXPECT_EQ(bundle["data"]["outcome"], "Complete");
  // The trail spans the finding's first and last seen.
  EXPECT_EQ(finding["finding_info"]["first_seen_time"], evidences[0]["data"]["time"]);
  EXPECT_EQ(finding["finding_info"]["last_seen_time"], evidences[2]["data"]["time"]);
}

TEST(DetectionFinding, TheTriggerIsAnEvidenceWhenTheTrailDoesNotHoldIt) {
  FindingFacts facts = snapshotFacts();
  facts.trail.clear();
  facts.sourceIp = "203.0.113.9";
  json finding = detectionFinding(facts);
  ASSERT_EQ(finding["evidences"].size(), 2u);
  EXPECT_EQ(finding["evidences"][0]["api"]["operation"], "DELETE");
  EXPECT_EQ(finding["evidences"][0]["actor"]["user"]["name"], "trent");
  EXPECT_EQ(finding["evidences"][0]["src_endpoint"]["ip"], "203.0.113.9");
}

TEST(DetectionFinding, AnAddendumUpdatesTheSnapshotsFinding) {
  FindingFacts facts = snapshotFacts();
  facts.kind = FindingFacts::Kind::kAddendum;
  facts.eventUid = facts.eventUid + "/addendum/1";
  facts.addendum = 1;
  json finding = detectionFinding(facts);
  EXPECT_EQ(finding["activity_id"], 2);
  EXPECT_EQ(finding["type_uid"], 200402);
  EXPECT_EQ(finding["finding_info"]["uid"], facts.findingUid) << "the same finding, updated";
  EXPECT_EQ(finding["unmapped"]["podmortem"]["addendum"], 1);
}

TEST(DetectionFinding, ContainersCarryTheirImageDigestsFromThePodStatus) {
  FindingFacts facts = snapshotFacts();
  facts.containers = containerImages(R"({"spec":{"containers":[{"name":"app","image":"nginx:1.27"}]},
      "status":{"containerStatuses":[{"name":"app","containerID":"containerd://abc",
      "imageID":"docker.io/library/nginx@sha256:0123"}]}})");
  ASSERT_EQ(facts.containers.size(), 1u);
  json finding = detectionFinding(facts);
  json container;
  for (const auto& evidence : finding["evidences"]) {
    if (evidence.contains("container")) container = evidence["container"];
  }
  EXPECT_EQ(container["name"], "app");
  EXPECT_EQ(container["uid"], "containerd://abc");
  EXPECT_EQ(container["image"]["uid"], "docker.io/library/nginx@sha256:0123");
  EXPECT_EQ(container["image"]["name"], "nginx");
  EXPECT_EQ(container["image"]["tag"], "1.27");
  EXPECT_EQ(container["pod_uuid"], "0f6a2b1c-5d4e-4f3a-9b8c-7d6e5f4a3b2c");
}

TEST(DetectionFinding, AFiringOnAnotherResourceNamesThatObjectNotAPod) {
  FindingFacts facts = snapshotFacts();
  facts.kind = FindingFacts::Kind::kFiring;
  facts.trail.clear();
  facts.pod = {"shop", "db-password", "", ""};
  facts.trigger.resource = "secrets";
  facts.trigger.operation = "get";
  json finding = detectionFinding(facts);
  EXPECT_EQ(finding["resources"][0]["type"], "secrets");
  EXPECT_EQ(finding["resources"][0]["name"], "db-password");
  EXPECT_NE(finding["finding_info"]["title"].get<std::string>().find("fired on secrets shop/db-password"),
            std::string::npos)
      << finding["finding_info"]["title"];
  facts.pod = {"shop", "", "", ""};
  facts.trigger.resource = "pods";
  facts.trigger.operation = "list";
  finding = detectionFinding(facts);
  EXPECT_EQ(finding["resources"][0]["name"], "*") << "a collection: OCSF needs a name or a uid";
  EXPECT_NE(finding["finding_info"]["title"].get<std::string>().find("fired on pods in shop"),
            std::string::npos);
}

TEST(DetectionFinding, ALongTrailIsCappedAndSaysHowManyAreLeftOut) {
  FindingFacts facts = snapshotFacts();
  facts.trail.assign(kMaxTrailEvidences + 7, facts.trail.front());
  json finding = detectionFinding(facts);
  EXPECT_EQ(finding["evidences"].size(), kMaxTrailEvidences + 1);
  EXPECT_EQ(finding["unmapped"]["podmortem"]["trailRequestsNotListed"], 7);
}

}  // namespace
}  // namespace podmortem::controller
