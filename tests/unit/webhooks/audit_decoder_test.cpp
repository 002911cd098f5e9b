#include "podmortem/webhooks/audit_decoder.h"

#include <gtest/gtest.h>

#include <map>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "test_support.h"

namespace podmortem::webhooks {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using podmortem::testing::ownFixture;
using podmortem::testing::readFile;
using podmortem::testing::sharedFixture;

constexpr size_t kNoLimit = 0;
constexpr size_t kHandlerLimit = 256 * 1024;  // AuditHandler's default maxEventBytes

// The recorded payloads are read in place; without them these tests have nothing to say.
class AuditDecoderRecorded : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!podmortem::testing::sharedFixturesPresent()) {
      GTEST_SKIP() << "recorded fixtures not found at " << PODMORTEM_FIXTURES_DIR;
    }
  }
};

std::vector<std::string> nonBlankLines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos)
      end = text.size();
    std::string line = text.substr(start, end - start);
    if (line.find_first_not_of(" \t\r") != std::string::npos)
      lines.push_back(line);
    start = end + 1;
  }
  return lines;
}

std::string trimmed(const std::string& text) {
  size_t first = text.find_first_not_of(" \t\r\n");
  size_t last = text.find_last_not_of(" \t\r\n");
  return first == std::string::npos ? "" : text.substr(first, last - first + 1);
}

// Checks the mapped fields of `event` against the item as nlohmann reads it.
void expectMatches(const policy::AuditEvent& event, const Json& item) {
  EXPECT_EQ(event.auditId, item.at("auditID").get<std::string>());
  EXPECT_EQ(event.stage, item.at("stage").get<std::string>());
  EXPECT_EQ(event.verb, item.at("verb").get<std::string>());
  EXPECT_EQ(event.userName, item.value(Json::json_pointer("/user/username"), std::string()));
  EXPECT_EQ(event.groups,
            item.value(Json::json_pointer("/user/groups"), std::vector<std::string>()));
  EXPECT_EQ(event.impersonatedUserName,
            item.value(Json::json_pointer("/impersonatedUser/username"), std::string()));
  EXPECT_EQ(event.sourceIp, item.value(Json::json_pointer("/sourceIPs/0"), std::string()));
  EXPECT_EQ(event.apiGroup, item.value(Json::json_pointer("/objectRef/apiGroup"), std::string()));
  EXPECT_EQ(event.resource, item.value(Json::json_pointer("/objectRef/resource"), std::string()));
  EXPECT_EQ(event.subResource,
            item.value(Json::json_pointer("/objectRef/subresource"), std::string()));
  EXPECT_EQ(event.namespaceName,
            item.value(Json::json_pointer("/objectRef/namespace"), std::string()));
  EXPECT_EQ(event.responseCode, item.value(Json::json_pointer("/responseStatus/code"), 0));
  if (item.contains("/objectRef/name"_json_pointer)) {
    EXPECT_EQ(event.name, item.at("/objectRef/name"_json_pointer).get<std::string>());
  }
  EXPECT_GT(event.timeMicros, 0);
  EXPECT_EQ(Json::parse(event.raw), item);
}

std::string eventJson(const std::string& auditId, const std::string& extra = "") {
  return R"({"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":")" +
         auditId +
         R"(","stage":"ResponseComplete","verb":"get","user":{"username":"eve"},)"
         R"("objectRef":{"resource":"pods","namespace":"shop","name":"web-1"},)"
         R"("stageTimestamp":"2026-11-28T10:00:00.000001Z")" +
         extra + "}";
}

TEST_F(AuditDecoderRecorded, EveryRecordedWebhookBatchDecodesWithNothingLost) {
  size_t files = 0;
  size_t events = 0;
  for (const auto& entry :
       fs::directory_iterator(sharedFixture("kube-apiserver-1.21/audit-webhook"))) {
    if (entry.path().extension() != ".json")
      continue;
    SCOPED_TRACE(entry.path().filename().string());
    std::string body = readFile(entry.path());
    Json items = Json::parse(body).at("items");
    DecodedAudit decoded = decodeAuditPayload(body, kHandlerLimit);
    EXPECT_EQ(decoded.error, "");
    EXPECT_EQ(decoded.malformed, 0u);
    EXPECT_EQ(decoded.oversized, 0u);
    ASSERT_EQ(decoded.events.size(), items.size());
    for (size_t i = 0; i < items.size(); ++i)
      expectMatches(decoded.events[i], items[i]);
    ++files;
    events += decoded.events.size();
  }
  EXPECT_EQ(files, 38u);
  EXPECT_GE(events, 800u);  // the first two batches alone carry 400 each
}

TEST_F(AuditDecoderRecorded, RawBytesReassembleTheRecordedBatchByteForByte) {
  for (const char* name : {"batch-01.json", "batch-02.json", "batch-20.json"}) {
    SCOPED_TRACE(name);
    std::string body =
        readFile(sharedFixture(std::string("kube-apiserver-1.21/audit-webhook/") + name));
    std::string original = body;
    DecodedAudit decoded = decodeAuditPayload(body, kHandlerLimit);
    ASSERT_FALSE(decoded.events.empty());
    std::string rebuilt =
        R"({"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{},"items":[)";
    for (size_t i = 0; i < decoded.events.size(); ++i) {
      if (i > 0)
        rebuilt += ',';
      rebuilt += decoded.events[i].raw;
    }
    rebuilt += "]}\n";
    EXPECT_TRUE(rebuilt == original) << "the items' raw bytes differ from the body";
  }
}

// RawBytes::kView (what the audit handler asks for): the same events, their bytes as views into
// the body instead of copies, also for JSON lines and for a batch with a malformed item.
TEST_F(AuditDecoderRecorded, ViewsPointAtTheSameBytesTheCopiesHold) {
  std::vector<std::string> bodies = {
      readFile(sharedFixture("kube-apiserver-1.21/audit-webhook/batch-02.json")),
      readFile(sharedFixture("falco_k8s_audit/create_configmap_sensitive_values.json")),
      R"({"kind":"EventList","items":[{"kind":0},)" +
          readFile(sharedFixture("falco_k8s_audit/exec_pod.json")) + "]}"};
  for (auto& body : bodies) {
    std::string copyBody = body;
    DecodedAudit copied = decodeAuditPayload(copyBody, kHandlerLimit);
    DecodedAudit viewed = decodeAuditPayload(body, kHandlerLimit, RawBytes::kView);
    ASSERT_EQ(viewed.events.size(), copied.events.size());
    ASSERT_EQ(viewed.rawViews.size(), viewed.events.size());
    EXPECT_EQ(viewed.malformed, copied.malformed);
    for (size_t i = 0; i < viewed.events.size(); ++i) {
      EXPECT_TRUE(viewed.events[i].raw.empty());
      EXPECT_EQ(viewed.rawViews[i], copied.events[i].raw);
      EXPECT_GE(viewed.rawViews[i].data(), body.data());
      EXPECT_LE(viewed.rawViews[i].data() + viewed.rawViews[i].size(), body.data() + body.size());
    }
  }
}

// kubectl delete --dry-run=server: the DeleteOptions in requestObject carry dryRun [All]; the
// real graceful and force deletes that followed do not.
TEST_F(AuditDecoderRecorded, DryRunDeleteIsFlaggedAndTheRealOnesAreNot) {
  std::map<std::string, bool> deletes;  // auditID -> dryRun, at ResponseComplete
  for (const auto& entry :
       fs::directory_iterator(sharedFixture("kube-apiserver-1.21/audit-webhook"))) {
    if (entry.path().extension() != ".json")
      continue;
    std::string body = readFile(entry.path());
    for (auto& event : decodeAuditPayload(body, kHandlerLimit).events) {
      if (event.verb == "delete" && event.resource == "pods" && event.stage == "ResponseComplete")
        deletes[event.auditId] = event.dryRun;
    }
  }
  ASSERT_EQ(deletes.size(), 3u);
  EXPECT_TRUE(deletes.at("e5896494-0c55-4915-b0ae-183db4babf3b")) << "mallory's dry run";
  EXPECT_FALSE(deletes.at("b338f4cd-4b5f-46d1-9508-4e9a618bf261")) << "mallory's graceful delete";
  EXPECT_FALSE(deletes.at("3614ea8b-f539-4ab2-b843-2c90dada89d6")) << "admin's force delete";
}

TEST_F(AuditDecoderRecorded, ExecIntoCheckoutPodMapsToPodsExecInShop) {
  std::vector<policy::AuditEvent> execs;
  for (const auto& entry :
       fs::directory_iterator(sharedFixture("kube-apiserver-1.21/audit-webhook"))) {
    if (entry.path().extension() != ".json")
      continue;
    std::string body = readFile(entry.path());
    for (auto& event : decodeAuditPayload(body, kHandlerLimit).events) {
      if (event.subResource == "exec" && event.name == "checkout-7d9f8c6b5-x2x9q") {
        execs.push_back(std::move(event));
      }
    }
  }
  ASSERT_FALSE(execs.empty());
  bool sawGet = false;
  bool sawCreate = false;
  for (const auto& event : execs) {
    EXPECT_EQ(event.resource, "pods");
    EXPECT_EQ(event.apiGroup, "");
    EXPECT_EQ(event.namespaceName, "shop");
    EXPECT_EQ(event.userName, "mallory");
    EXPECT_NE(std::find(event.groups.begin(), event.groups.end(), "contractors"),
              event.groups.end());
    EXPECT_TRUE(event.isPodEvent());
    sawGet = sawGet || event.verb == "get";
    sawCreate = sawCreate || event.verb == "create";
  }
  // kubectl 1.32 tries WebSockets (get) before SPDY (create): both must be seen.
  EXPECT_TRUE(sawGet);
  EXPECT_TRUE(sawCreate);
}

TEST_F(AuditDecoderRecorded, PodCreatedByNameGetsItsNameFromObjectRef) {
  size_t created = 0;
  for (const auto& entry :
       fs::directory_iterator(sharedFixture("kube-apiserver-1.21/audit-webhook"))) {
    if (entry.path().extension() != ".json")
      continue;
    std::string batch = readFile(entry.path());
    for (const auto& event : decodeAuditPayload(batch, kHandlerLimit).events) {
      if (event.resource != "pods" || event.verb != "create" || !event.subResource.empty())
        continue;
      if (event.stage != "ResponseComplete")
        continue;
      EXPECT_TRUE(event.name == "checkout-7d9f8c6b5-x2x9q" ||
                  event.name == "payments-5c8d7f9b4-k8s2m")
          << event.name;
      if (event.responseCode == 201)
        ++created;
    }
  }
  EXPECT_EQ(created, 2u);  // plus one refused (403) attempt before the first
}

TEST_F(AuditDecoderRecorded, DerivedFalcoEventListWithMixedApiVersionsDecodesAll51) {
  std::string body =
      readFile(sharedFixture("falco_k8s_audit/all_falco_events.EventList.derived.json"));
  Json items = Json::parse(body).at("items");
  ASSERT_EQ(items.size(), 51u);
  DecodedAudit decoded = decodeAuditPayload(body, kHandlerLimit);
  EXPECT_EQ(decoded.error, "");
  EXPECT_EQ(decoded.malformed, 0u);
  EXPECT_EQ(decoded.oversized, 0u);
  ASSERT_EQ(decoded.events.size(), 51u);
  size_t generated = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    SCOPED_TRACE(i);
    expectMatches(decoded.events[i], items[i]);
    // Pretty-printed: raw is the item's exact text, indentation and all.
    EXPECT_NE(body.find(decoded.events[i].raw), std::string::npos);
    if (!items[i].contains("/objectRef/name"_json_pointer) &&
        items[i].value(Json::json_pointer("/objectRef/resource"), "") == "pods") {
      // generateName pods: named only in the response.
      EXPECT_EQ(decoded.events[i].name,
                items[i].at("/responseObject/metadata/name"_json_pointer).get<std::string>());
      EXPECT_TRUE(decoded.events[i].isPodEvent());
      ++generated;
    }
  }
  EXPECT_EQ(generated, 10u);
}

TEST_F(AuditDecoderRecorded, EachSingleFalcoEventFileDecodesToOneEvent) {
  size_t files = 0;
  for (const auto& entry : fs::directory_iterator(sharedFixture("falco_k8s_audit"))) {
    std::string name = entry.path().filename().string();
    if (entry.path().extension() != ".json" || name.find(".derived.") != std::string::npos ||
        name == "fal_01_003.json" || name == "create_configmap_sensitive_values.json") {
      continue;
    }
    SCOPED_TRACE(name);
    std::string body = readFile(entry.path());
    Json item = Json::parse(body);
    DecodedAudit decoded = decodeAuditPayload(body, kHandlerLimit);
    EXPECT_EQ(decoded.error, "");
    EXPECT_EQ(decoded.malformed, 0u);
    ASSERT_EQ(decoded.events.size(), 1u);
    expectMatches(decoded.events[0], item);
    EXPECT_EQ(decoded.events[0].raw, trimmed(body));
    ++files;
  }
  EXPECT_EQ(files, 45u);
}

TEST_F(AuditDecoderRecorded, SensitiveConfigmapFileIsSixJsonLines) {
  std::string body =
      readFile(sharedFixture("falco_k8s_audit/create_configmap_sensitive_values.json"));
  std::vector<std::string> lines = nonBlankLines(body);
  ASSERT_EQ(lines.size(), 6u);
  DecodedAudit decoded = decodeAuditPayload(body, kHandlerLimit);
  EXPECT_EQ(decoded.error, "");
  EXPECT_EQ(decoded.malformed, 0u);
  ASSERT_EQ(decoded.events.size(), 6u);
  for (size_t i = 0; i < lines.size(); ++i) {
    SCOPED_TRACE(i);
    expectMatches(decoded.events[i], Json::parse(lines[i]));
    EXPECT_EQ(decoded.events[i].raw, lines[i]);
    EXPECT_EQ(decoded.events[i].resource, "configmaps");
  }
}

TEST_F(AuditDecoderRecorded, Fal01003KindZeroIsCountedMalformed) {
  std::string body = readFile(sharedFixture("falco_k8s_audit/fal_01_003.json"));
  DecodedAudit decoded = decodeAuditPayload(body, kHandlerLimit);
  EXPECT_EQ(decoded.error, "");
  EXPECT_TRUE(decoded.events.empty());
  EXPECT_EQ(decoded.malformed, 1u);
  policy::AuditEvent event;
  EXPECT_EQ(decodeAuditLine(body, event), "kind is not a string");
  EXPECT_TRUE(event.auditId.empty());
}

TEST_F(AuditDecoderRecorded, Audit2rbacLogsDecodeLineByLine) {
  for (const char* name : {"audit2rbac/demo.v1.log", "audit2rbac/demo.v1beta1.log"}) {
    SCOPED_TRACE(name);
    std::vector<std::string> lines = nonBlankLines(readFile(sharedFixture(name)));
    ASSERT_EQ(lines.size(), 37u);
    size_t impersonated = 0;
    for (const auto& line : lines) {
      policy::AuditEvent event;
      ASSERT_EQ(decodeAuditLine(line, event), "") << line;
      Json item = Json::parse(line);
      expectMatches(event, item);
      EXPECT_EQ(event.raw, line);
      // These events predate stageTimestamp: the time is `timestamp`, to the second.
      EXPECT_EQ(event.timeMicros, *parseAuditTimestamp(item.at("timestamp").get<std::string>()));
      EXPECT_EQ(event.timeMicros % 1'000'000, 0);
      if (!event.impersonatedUserName.empty())
        ++impersonated;
    }
    EXPECT_EQ(impersonated, 37u);
    policy::AuditEvent first;
    ASSERT_EQ(decodeAuditLine(lines[0], first), "");
    EXPECT_EQ(first.userName, "system:admin");
    EXPECT_EQ(first.impersonatedUserName, "bob");
    EXPECT_EQ(first.sourceIp, "::1");
    EXPECT_EQ(first.timeMicros, 1'505'159'705'000'000);  // 2017-09-11T19:55:05Z
  }
}

TEST(AuditDecoder, OwnEventListHasTheExecAtEachStage) {
  std::string body = readFile(ownFixture("audit/exec-three-stages.eventlist.json"));
  Json items = Json::parse(body).at("items");
  DecodedAudit decoded = decodeAuditPayload(body, kHandlerLimit);
  EXPECT_EQ(decoded.error, "");
  EXPECT_EQ(decoded.malformed, 0u);
  ASSERT_EQ(decoded.events.size(), items.size());
  for (size_t i = 0; i < items.size(); ++i)
    expectMatches(decoded.events[i], items[i]);

  const auto& events = decoded.events;
  std::vector<std::string> stages;
  for (size_t i = 2; i < 5; ++i) {
    EXPECT_EQ(events[i].resource, "pods");
    EXPECT_EQ(events[i].subResource, "exec");
    EXPECT_EQ(events[i].namespaceName, "billing");
    EXPECT_EQ(events[i].name, "invoicer-6f8b9c7d5-q7w4z");
    EXPECT_EQ(events[i].userName, "trent");
    EXPECT_EQ(events[i].sourceIp, "198.51.100.23");
    stages.push_back(events[i].stage);
  }
  EXPECT_EQ(stages,
            (std::vector<std::string>{"RequestReceived", "ResponseStarted", "ResponseComplete"}));
  EXPECT_EQ(events[2].responseCode, 0);  // not answered yet at RequestReceived
  EXPECT_EQ(events[3].responseCode, 101);
  EXPECT_EQ(events[4].timeMicros, 1'795'857'644'316'205);  // 2026-11-28T09:20:44.316205Z
  // The generateName create: unnamed when received, named by the response once complete.
  EXPECT_EQ(events[0].name, "");
  EXPECT_EQ(events[1].name, "invoicer-6f8b9c7d5-q7w4z");
  EXPECT_EQ(events[1].timeMicros, 1'795'857'247'530'871);
}

TEST(AuditDecoder, OwnV1beta1SingleEventUsesTimestamp) {
  std::string body = readFile(ownFixture("audit/secret-get.v1beta1.json"));
  DecodedAudit decoded = decodeAuditPayload(body, kHandlerLimit);
  EXPECT_EQ(decoded.error, "");
  ASSERT_EQ(decoded.events.size(), 1u);
  const auto& event = decoded.events[0];
  expectMatches(event, Json::parse(body));
  EXPECT_EQ(event.raw, trimmed(body));
  EXPECT_EQ(event.userName, "system:admin");
  EXPECT_EQ(event.impersonatedUserName, "system:serviceaccount:billing:invoicer");
  EXPECT_EQ(event.resource, "secrets");
  EXPECT_EQ(event.name, "stripe-api-key");
  EXPECT_EQ(event.timeMicros, 1'520'356'929'000'000);  // 2018-03-06T17:22:09Z
}

TEST(AuditDecoder, OwnJsonLinesLogDecodesAsPayloadAndLineByLine) {
  std::string body = readFile(ownFixture("audit/apiserver-audit.log.jsonl"));
  std::vector<std::string> lines = nonBlankLines(body);
  ASSERT_EQ(lines.size(), 4u);
  DecodedAudit decoded = decodeAuditPayload(body, kHandlerLimit);
  EXPECT_EQ(decoded.error, "");
  EXPECT_EQ(decoded.malformed, 0u);
  ASSERT_EQ(decoded.events.size(), 4u);
  for (size_t i = 0; i < lines.size(); ++i) {
    policy::AuditEvent event;
    ASSERT_EQ(decodeAuditLine(lines[i], event), "");
    expectMatches(event, Json::parse(lines[i]));
    EXPECT_EQ(event.raw, lines[i]);
    EXPECT_EQ(decoded.events[i].raw, lines[i]);
  }
  EXPECT_EQ(decoded.events[2].responseCode, 403);
  EXPECT_EQ(decoded.events[3].apiGroup, "rbac.authorization.k8s.io");
  EXPECT_EQ(decoded.events[3].name, "trent-admin");
}

TEST(AuditDecoder, JsonLinesBodyWithABadLineKeepsTheOthers) {
  std::string body = eventJson("a") + "\n{\"kind\":0}\n{\"auditID\":\n" + eventJson("b") + "\r\n\n";
  DecodedAudit decoded = decodeAuditPayload(body, kHandlerLimit);
  EXPECT_EQ(decoded.error, "");
  EXPECT_EQ(decoded.malformed, 2u);
  ASSERT_EQ(decoded.events.size(), 2u);
  EXPECT_EQ(decoded.events[0].auditId, "a");
  EXPECT_EQ(decoded.events[1].auditId, "b");
  EXPECT_EQ(decoded.events[1].raw, eventJson("b"));
}

TEST(AuditDecoder, PlainJsonArrayOfEventsIsAccepted) {
  std::string body = "[" + eventJson("a") + ",\n  " + eventJson("b") + "\n]";
  DecodedAudit decoded = decodeAuditPayload(body, kHandlerLimit);
  EXPECT_EQ(decoded.error, "");
  ASSERT_EQ(decoded.events.size(), 2u);
  EXPECT_EQ(decoded.events[0].raw, eventJson("a"));
  EXPECT_EQ(decoded.events[1].raw, eventJson("b"));
}

TEST(AuditDecoder, EventListItemsMayComeBeforeKind) {
  std::string body = R"({"items":[)" + eventJson("a") +
                     R"(],"kind":"EventList","apiVersion":"audit.k8s.io/v1beta1"})";
  DecodedAudit decoded = decodeAuditPayload(body, kHandlerLimit);
  EXPECT_EQ(decoded.error, "");
  ASSERT_EQ(decoded.events.size(), 1u);
  EXPECT_EQ(decoded.events[0].auditId, "a");
}

TEST(AuditDecoder, OversizedItemIsSkippedAndCountedWhileTheRestIsKept) {
  std::string big =
      eventJson("big", R"(,"annotations":{"note":")" + std::string(8000, 'x') + "\"}");
  std::string body = R"({"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[)" +
                     eventJson("a") + "," + big + "," + eventJson("b") + "]}";
  DecodedAudit decoded = decodeAuditPayload(body, 4096);
  EXPECT_EQ(decoded.error, "");
  EXPECT_EQ(decoded.oversized, 1u);
  EXPECT_EQ(decoded.malformed, 0u);
  ASSERT_EQ(decoded.events.size(), 2u);
  EXPECT_EQ(decoded.events[0].auditId, "a");
  EXPECT_EQ(decoded.events[1].auditId, "b");

  DecodedAudit unlimited = decodeAuditPayload(body, kNoLimit);
  EXPECT_EQ(unlimited.oversized, 0u);
  EXPECT_EQ(unlimited.events.size(), 3u);

  std::string single = big;
  EXPECT_EQ(decodeAuditPayload(single, 4096).oversized, 1u);
}

TEST(AuditDecoder, MalformedItemsAmongGoodOnesAreCountedAndSkipped) {
  std::vector<std::string> bad = {
      R"({"kind":0})",
      "42",
      "null",
      R"(["not","an","object"])",
      "{}",
      R"({"auditID":5,"stage":"ResponseComplete","verb":"get",)"
      R"("stageTimestamp":"2026-11-28T10:00:00Z"})",
      R"({"auditID":"x","verb":"get","stageTimestamp":"2026-11-28T10:00:00Z"})",
      R"({"auditID":"x","stage":"ResponseComplete","stageTimestamp":"2026-11-28T10:00:00Z"})",
      R"({"auditID":"x","stage":"ResponseComplete","verb":"get"})",
      eventJson("x", R"(,"timestamp":"yesterday")"),
      eventJson("x", R"(,"user":"eve")"),
      eventJson("x", R"(,"responseStatus":{"code":"200"})"),
      eventJson("x", R"(,"responseStatus":{"code":2.5})"),
      eventJson("x", R"(,"sourceIPs":[7])"),
      eventJson("x", R"(,"objectRef":{"name":["a"]})"),
      R"({"kind":"Pod","apiVersion":"v1","metadata":{"name":"web"}})",
      eventJson("x", R"(,"apiVersion":"audit.k8s.io/v2")"),
      eventJson("x", R"(,"user":{"groups":"system:masters"})"),
  };
  std::string body =
      R"({"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[)" + eventJson("first");
  for (const auto& item : bad)
    body += "," + item;
  body += "," + eventJson("last") + "]}";
  DecodedAudit decoded = decodeAuditPayload(body, kHandlerLimit);
  EXPECT_EQ(decoded.error, "");
  EXPECT_EQ(decoded.malformed, bad.size());
  ASSERT_EQ(decoded.events.size(), 2u);
  EXPECT_EQ(decoded.events[0].auditId, "first");
  EXPECT_EQ(decoded.events[1].auditId, "last");
  EXPECT_EQ(decoded.events[1].raw, eventJson("last"));
}

TEST(AuditDecoder, NullFieldsAreAbsentNotMalformed) {
  policy::AuditEvent event;
  ASSERT_EQ(decodeAuditLine(eventJson("a", R"(,"impersonatedUser":null,"responseStatus":null,)"
                                           R"("requestObject":null,"timestamp":null,"kind":null)"),
                            event),
            "");
  EXPECT_EQ(event.impersonatedUserName, "");
  EXPECT_EQ(event.responseCode, 0);
}

TEST(AuditDecoder, GarbageBodiesGiveAnErrorWithoutCrashing) {
  std::vector<std::string> bodies = {"",
                                     "   ",
                                     "{",
                                     "[1,2",
                                     "null",
                                     "42",
                                     "\"event\"",
                                     "true",
                                     "{]",
                                     "[{]",
                                     "{\"items\":5}",
                                     "{\"kind\":\"EventList\",\"items\":{}}",
                                     "{\"kind\":\"PodList\",\"items\":[]}",
                                     "{1:2}",
                                     "[{\"a\" 1}]",
                                     "[{\"auditID\":\"a\" \"stage\":\"b\"}]",
                                     "{} {}",
                                     "[] x",
                                     "[\"\xff\xfe\"]",
                                     std::string(5000, '['),
                                     "[" + eventJson("a") + ",]"};
  for (std::string body : bodies) {
    SCOPED_TRACE(body.substr(0, 40));
    DecodedAudit decoded = decodeAuditPayload(body, kHandlerLimit);
    EXPECT_NE(decoded.error, "");
    EXPECT_TRUE(decoded.events.empty());
    EXPECT_EQ(decoded.malformed, 0u);
  }
}

TEST(AuditDecoder, StructuralErrorInsideAnEventNeverYieldsAPartialEvent) {
  // The missing comma sits in requestObject, after every required field. On-demand meets it
  // there and stops; the user that follows must not silently vanish from an accepted event.
  const std::string broken =
      R"({"auditID":"a","stage":"ResponseComplete","verb":"create",)"
      R"("timestamp":"2020-01-01T00:00:00Z","objectRef":{"resource":"pods","namespace":"shop"},)"
      R"("requestObject":{"metadata":{"uid":"y" "name":"x"}},"user":{"username":"late"}})";
  policy::AuditEvent event;
  EXPECT_NE(decodeAuditLine(broken, event), "");
  EXPECT_EQ(event.userName, "");
  std::vector<std::string> bodies = {broken, "[" + broken + "]",
                                     "[" + eventJson("a") + "," + broken + "]"};
  for (std::string body : bodies) {
    DecodedAudit decoded = decodeAuditPayload(body, kHandlerLimit);
    EXPECT_NE(decoded.error, "");
    EXPECT_TRUE(decoded.events.empty());
  }
  // As one line of a JSON-lines body it costs only itself.
  std::string lines = eventJson("a") + "\n" + broken + "\n" + eventJson("b") + "\n";
  DecodedAudit decoded = decodeAuditPayload(lines, kHandlerLimit);
  EXPECT_EQ(decoded.error, "");
  EXPECT_EQ(decoded.malformed, 1u);
  EXPECT_EQ(decoded.events.size(), 2u);
}

TEST(AuditDecoder, NonEventBodiesThatAreJsonCountAsMalformed) {
  for (std::string body :
       {"[1,2]", "{\"kind\":0}", "{}", "[null]", "{\"apiVersion\":\"v1\"}", "{\"a\":\"\\u12\"}"}) {
    SCOPED_TRACE(body);
    DecodedAudit decoded = decodeAuditPayload(body, kHandlerLimit);
    EXPECT_EQ(decoded.error, "");
    EXPECT_TRUE(decoded.events.empty());
    EXPECT_GE(decoded.malformed, 1u);
  }
  std::string empty = R"({"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":null})";
  DecodedAudit decoded = decodeAuditPayload(empty, kHandlerLimit);
  EXPECT_EQ(decoded.error, "");
  EXPECT_EQ(decoded.malformed, 0u);
}

TEST_F(AuditDecoderRecorded, TruncatedBatchIsAnErrorNotAPartialBatch) {
  std::string full = readFile(sharedFixture("kube-apiserver-1.21/audit-webhook/batch-01.json"));
  for (size_t cut : {full.size() / 2, full.size() - 3, size_t{100}}) {
    std::string body = full.substr(0, cut);
    DecodedAudit decoded = decodeAuditPayload(body, kHandlerLimit);
    EXPECT_NE(decoded.error, "") << cut;
    EXPECT_TRUE(decoded.events.empty());
  }
}

TEST(AuditDecoder, BodyWithoutSpareCapacityIsStillDecoded) {
  std::string body = eventJson("a");
  body.shrink_to_fit();
  DecodedAudit decoded = decodeAuditPayload(body, kHandlerLimit);
  ASSERT_EQ(decoded.events.size(), 1u);
  EXPECT_EQ(decoded.events[0].raw, eventJson("a"));
}

TEST(AuditDecoder, EscapedStringsAreUnescaped) {
  policy::AuditEvent event;
  ASSERT_EQ(
      decodeAuditLine(eventJson("a", R"(,"impersonatedUser":{"username":"b\u00f6b\"x"})"), event),
      "");
  EXPECT_EQ(event.impersonatedUserName,
            "b\xc3\xb6"
            "b\"x");
}

TEST(AuditDecoder, PodCreateWithoutObjectRefNamePrefersTheRequestObjectName) {
  const std::string base =
      R"({"auditID":"a","stage":"ResponseComplete","verb":"create",)"
      R"("stageTimestamp":"2026-11-28T10:00:00Z",)"
      R"("objectRef":{"resource":"pods","namespace":"shop","apiVersion":"v1"})";
  policy::AuditEvent event;
  ASSERT_EQ(
      decodeAuditLine(base + R"(,"requestObject":{"kind":"Pod","metadata":{"name":"asked"}},)"
                             R"("responseObject":{"kind":"Pod","metadata":{"name":"given"}}})",
                      event),
      "");
  EXPECT_EQ(event.name, "asked");
  ASSERT_EQ(decodeAuditLine(base + R"(,"requestObject":{"metadata":{"generateName":"web-"}},)"
                                   R"("responseObject":{"metadata":{"name":"web-x1"}}})",
                            event),
            "");
  EXPECT_EQ(event.name, "web-x1");
  // Fields in any order: the embedded objects before objectRef and verb.
  ASSERT_EQ(
      decodeAuditLine(R"({"responseObject":{"metadata":{"name":"early"}},"auditID":"a",)"
                      R"("stage":"ResponseComplete","stageTimestamp":"2026-11-28T10:00:00Z",)"
                      R"("objectRef":{"resource":"pods","namespace":"shop"},"verb":"create"})",
                      event),
      "");
  EXPECT_EQ(event.name, "early");
  // Only pod creates borrow a name; a requestObject of another shape is no reason to fail.
  ASSERT_EQ(
      decodeAuditLine(R"({"auditID":"a","stage":"ResponseComplete","verb":"list",)"
                      R"("stageTimestamp":"2026-11-28T10:00:00Z","objectRef":{"resource":"pods"},)"
                      R"("responseObject":{"metadata":{"name":"not-this"}},"requestObject":[1]})",
                      event),
      "");
  EXPECT_EQ(event.name, "");
}

TEST(AuditDecoder, TimePrefersStageTimestampThenTimestampThenRequestReceived) {
  const std::string base = R"({"auditID":"a","stage":"ResponseComplete","verb":"get")";
  policy::AuditEvent event;
  ASSERT_EQ(decodeAuditLine(base + R"(,"requestReceivedTimestamp":"2026-11-28T10:00:00.000001Z",)"
                                   R"("timestamp":"2026-11-28T10:00:00Z",)"
                                   R"("stageTimestamp":"2026-11-28T10:00:00.000003Z"})",
                            event),
            "");
  EXPECT_EQ(event.timeMicros % 1'000'000, 3);
  ASSERT_EQ(decodeAuditLine(base + R"(,"requestReceivedTimestamp":"2026-11-28T10:00:00.000001Z",)"
                                   R"("timestamp":"2026-11-28T10:00:00.000002Z"})",
                            event),
            "");
  EXPECT_EQ(event.timeMicros % 1'000'000, 2);
  ASSERT_EQ(decodeAuditLine(base + R"(,"requestReceivedTimestamp":"2026-11-28T10:00:00.000001Z"})",
                            event),
            "");
  EXPECT_EQ(event.timeMicros % 1'000'000, 1);
  EXPECT_NE(decodeAuditLine(base + "}", event), "");
}

TEST(AuditDecoder, DecodeAuditLineRejectsWhatIsNotOneEvent) {
  policy::AuditEvent event;
  EXPECT_NE(decodeAuditLine("", event), "");
  EXPECT_NE(decodeAuditLine("not json", event), "");
  EXPECT_NE(decodeAuditLine("[" + eventJson("a") + "]", event), "");
  EXPECT_NE(decodeAuditLine(eventJson("a") + eventJson("b"), event), "");
  EXPECT_NE(decodeAuditLine(R"({"kind":"EventList","items":[]})", event), "");
  EXPECT_EQ(decodeAuditLine(eventJson("a") + "\r\n", event), "");
  EXPECT_EQ(event.raw, eventJson("a"));
}

TEST(AuditDecoder, TimestampsParseToExactMicroseconds) {
  EXPECT_EQ(parseAuditTimestamp("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parseAuditTimestamp("2026-11-28T04:46:31.169620Z"), 1'795'841'191'169'620);
  EXPECT_EQ(parseAuditTimestamp("2018-10-25T13:58:49Z"), 1'540'475'929'000'000);
  EXPECT_EQ(parseAuditTimestamp("2026-11-28T04:46:31.1Z"), 1'795'841'191'100'000);
  EXPECT_EQ(parseAuditTimestamp("2026-11-28T04:46:31.169620999Z"), 1'795'841'191'169'620);
  EXPECT_EQ(parseAuditTimestamp("2026-11-28T05:46:31.169620+01:00"), 1'795'841'191'169'620);
  EXPECT_EQ(parseAuditTimestamp("2026-11-27T23:16:31.169620-05:30"), 1'795'841'191'169'620);
  EXPECT_EQ(parseAuditTimestamp("2024-02-29T00:00:00z"), 1'709'164'800'000'000);
  EXPECT_EQ(parseAuditTimestamp("2024-02-29t00:00:00Z"), 1'709'164'800'000'000);
  for (const char* garbage : {"",
                              "yesterday",
                              "2026-11-28",
                              "2026-11-28T04:46:31",
                              "2026-11-28 04:46:31Z",
                              "2026-11-28T04:46:31.Z",
                              "2026-11-28T04:46:31.1234567890Z",
                              "2026-13-01T00:00:00Z",
                              "2026-00-10T00:00:00Z",
                              "2026-02-29T00:00:00Z",
                              "2026-04-31T00:00:00Z",
                              "2026-11-28T24:00:00Z",
                              "2026-11-28T23:60:00Z",
                              "2026-11-28T23:59:60Z",
                              "2026-11-28T04:46:31Zjunk",
                              "2026-11-28T04:46:31+0100",
                              "2026-11-28T04:46:31+24:00",
                              "+2026-11-28T04:46:31Z",
                              "2026-1-28T04:46:31Z",
                              "２026-11-28T04:46:31Z"}) {
    EXPECT_EQ(parseAuditTimestamp(garbage), std::nullopt) << garbage;
  }
}

}  // namespace
}  // namespace podmortem::webhooks
