// Findings to the SOC end to end: the whole server captures on real admission requests, writes
// OCSF Detection Findings into its outbox, and delivers them over real TLS to a receiver that
// checks each against the OCSF schema (node + ajv) or to a real rsyslog. Each sink goes down and
// comes back: nothing is lost, nothing arrives twice.
#include <gtest/gtest.h>

#include <iostream>
#include <map>
#include <set>

#include "findings_receiver.h"
#include "rsyslog_server.h"
#include "server_helpers.h"

namespace podmortem::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kPolicy = R"(
apiVersion: podmortem.io/v1alpha1
kind: ForensicPolicy
metadata: {name: capture-on-delete}
spec:
  severity: High
  triggers:
    - name: on-delete
      source: admission
      operations: [DELETE]
      resources: [pods]
  actions:
    snapshot:
      collectors: [pod, auditTrail]
      holdDeletion: 10s
)";

// Deletes pods [first, first + count) and returns the snapshot ids the answers named.
std::vector<std::string> deletePods(RunningServer& server, int first, int count) {
  std::vector<std::string> ids;
  for (int i = first; i < first + count; ++i) {
    auto response = server.client().post("/validate?timeout=10s", deleteOfPod(i));
    EXPECT_EQ(response.status, 200u) << response.body;
    // "capture-on-delete=<id>": the full id (the warning shortens it).
    auto annotations = parseJson(response.body)["response"]["auditAnnotations"];
    std::string named = annotations.value("evidence-snapshots", "");
    EXPECT_FALSE(named.empty()) << response.body;
    if (named.empty()) continue;
    ids.push_back(named.substr(named.find('=') + 1));
  }
  return ids;
}

double exportMetric(RunningServer& server, const std::string& sample) {
  return metricValue(server.metricsClient().get("/metrics").body, sample);
}

std::set<std::string> snapshotKeys(const std::vector<std::string>& ids) {
  std::set<std::string> keys;
  for (const auto& id : ids) keys.insert("snapshot/" + id);
  return keys;
}

// The sink is down while `during` pods are deleted, then comes back: every finding arrives,
// once. Returns what the receiver got.
struct OutageCounts {
  size_t before = 0, during = 0, received = 0, duplicates = 0, lost = 0;
};

// A sink of `type` named `name` (the rest set by `more`), retried every 200 ms at most.
std::function<void(cli::Config&)> withSink(const std::string& name, controller::SinkType type,
                                           const std::function<void(controller::SinkSettings&)>& more,
                                           const std::function<void(cli::Config&)>& also = {}) {
  return [=](cli::Config& config) {
    controller::SinkSettings sink;
    sink.name = name;
    sink.type = type;
    more(sink);
    config.findings.sinks.push_back(sink);
    config.findings.maxBackoff = std::chrono::milliseconds(200);
    if (also) also(config);
  };
}

void expectSnapshotFinding(const json& finding, const std::string& id) {
  EXPECT_EQ(finding["class_uid"], 2004);
  EXPECT_EQ(finding["category_uid"], 2);
  EXPECT_EQ(finding["type_uid"], 200401);
  EXPECT_EQ(finding["severity_id"], 4) << "spec.severity: High";
  EXPECT_EQ(finding["metadata"]["version"], "1.8.0");
  EXPECT_EQ(finding["metadata"]["uid"], "snapshot/" + id);
  EXPECT_EQ(finding["finding_info"]["uid"], id);
  EXPECT_EQ(finding["finding_info"]["analytic"]["name"], "capture-on-delete");
  EXPECT_EQ(finding["resources"][0]["type"], "Pod");
  EXPECT_EQ(finding["resources"][0]["namespace"], "prod-shop");
  bool actor = false, manifest = false;
  for (const auto& evidence : finding["evidences"]) {
    if (evidence.contains("actor") && evidence["actor"]["user"]["name"] == "eve") {
      actor = evidence["api"]["operation"] == "DELETE";
    }
    if (evidence.contains("file")) {
      manifest = evidence["file"]["hashes"][0]["algorithm_id"] == 3 &&
                 evidence["file"]["hashes"][0]["value"].get<std::string>().size() == 64;
    }
  }
  EXPECT_TRUE(actor) << "the user who deleted the pod, with the operation: " << finding.dump();
  EXPECT_TRUE(manifest) << "the bundle's manifest with its SHA-256: " << finding.dump();
  EXPECT_EQ(finding["finding_info"]["src_url"].get<std::string>().rfind("file://", 0), 0u);
}

TEST(ExportTest, HttpSinkGetsValidOcsfFindingsAndAnOutageLosesNothing) {
  FindingsReceiver receiver(FindingsReceiver::Options{.bearer = "soc-secret"});
  TempDir secrets;
  writeFile(secrets.path() / "headers", "# mounted from a Secret\nAuthorization: Bearer soc-secret\n");
  RunningServer server(kPolicy, {}, withSink("soc", controller::SinkType::kHttp, [&](auto& sink) {
                         sink.url = receiver.url("/findings");
                         sink.caFile = receiver.caFile();
                         sink.headersFile = (secrets.path() / "headers").string();
                       }));

  auto before = deletePods(server, 0, 3);
  ASSERT_TRUE(eventually([&] { return validFindings(receiver.records()).findings.size() == 3; }))
      << receiver.records().size() << " records";

  receiver.stop();
  auto during = deletePods(server, 3, 4);
  // A dry run fires the policy and captures nothing: a finding of its own.
  auto dryRun = server.client().post("/validate", deleteOfPod(99, true));
  ASSERT_EQ(dryRun.status, 200u);
  ASSERT_TRUE(eventually([&] {
    return exportMetric(server, "podmortem_export_pending{sink=\"soc\"}") == 5 &&
           exportMetric(server, "podmortem_export_failures_total{reason=\"unreachable\",sink=\"soc\"}") > 0;
  })) << server.metricsClient().get("/metrics").body;
  auto ready = parseJson(server.metricsClient().get("/readyz").body);
  EXPECT_EQ(ready["export"]["sinks"]["soc"]["pending"], 5) << ready.dump();
  EXPECT_NE(ready["warnings"].dump().find("findings sink soc is failing, 5 findings wait"),
            std::string::npos)
      << ready.dump();

  receiver.start();
  ASSERT_TRUE(eventually([&] { return validFindings(receiver.records()).findings.size() == 8; },
                         std::chrono::seconds(20)));
  auto received = validFindings(receiver.records());
  EXPECT_EQ(received.invalid, 0u);
  EXPECT_EQ(received.duplicates, 0u);
  std::set<std::string> expected = snapshotKeys(before);
  for (const auto& key : snapshotKeys(during)) expected.insert(key);
  std::set<std::string> got(received.keys.begin(), received.keys.end());
  size_t lost = 0;
  for (const auto& key : expected) lost += got.count(key) == 0;
  EXPECT_EQ(lost, 0u);
  // The findings come in the order they were made: the outage's after the first three.
  for (size_t i = 0; i < before.size(); ++i) EXPECT_EQ(received.keys[i], "snapshot/" + before[i]);
  for (size_t i = 0; i < during.size(); ++i) {
    EXPECT_EQ(received.keys[before.size() + i], "snapshot/" + during[i]);
  }
  expectSnapshotFinding(received.findings[0], before[0]);
  const json& firing = received.findings.back();
  EXPECT_EQ(firing["finding_info"]["types"][0], "podmortem/policy-firing");
  EXPECT_EQ(firing["unmapped"]["podmortem"]["outcome"], "dry run: nothing captured");
  EXPECT_EQ(exportMetric(server, "podmortem_export_pending{sink=\"soc\"}"), 0);
  EXPECT_EQ(exportMetric(server, "podmortem_export_sent_total{sink=\"soc\"}"), 8);
  std::cout << "http sink: sent " << received.findings.size() << " (" << before.size()
            << " before the outage, " << during.size() + 1
            << " held in the outbox and redelivered after it), lost " << lost << ", duplicates "
            << received.duplicates << ", invalid " << received.invalid << "\n";
}

TEST(ExportTest, SplunkHecSinkHoldsFindingsWhileItsTokenIsWrongAndDeliversThemOnceFixed) {
  FindingsReceiver receiver;
  TempDir secrets;
  writeFile(secrets.path() / "hec-token", "a-wrong-token\n");
  RunningServer server(kPolicy, {}, withSink("splunk", controller::SinkType::kSplunkHec, [&](auto& sink) {
                         sink.url = receiver.url("");
                         sink.caFile = receiver.caFile();
                         sink.tokenFile = (secrets.path() / "hec-token").string();
                         sink.sourcetype = "ocsf:podmortem";
                       }));

  auto refused = deletePods(server, 0, 2);
  ASSERT_TRUE(eventually([&] {
    return exportMetric(server, "podmortem_export_failures_total{reason=\"unauthorized\",sink=\"splunk\"}") > 0;
  }));
  EXPECT_EQ(exportMetric(server, "podmortem_export_pending{sink=\"splunk\"}"), 2);
  EXPECT_NE(server.metricsClient().get("/readyz").body.find("HTTP 401"), std::string::npos);

  // The operator fixes the Secret; the sink reads the token file at each attempt.
  writeFile(secrets.path() / "hec-token", "hec-token-for-tests\n");
  ASSERT_TRUE(eventually([&] { return validFindings(receiver.records()).findings.size() == 2; }));

  receiver.stop();
  auto during = deletePods(server, 2, 3);
  ASSERT_TRUE(eventually([&] { return exportMetric(server, "podmortem_export_pending{sink=\"splunk\"}") == 3; }));
  receiver.start();
  ASSERT_TRUE(eventually([&] { return validFindings(receiver.records()).findings.size() == 5; },
                         std::chrono::seconds(20)));

  auto records = receiver.records();
  auto received = validFindings(records);
  EXPECT_EQ(received.duplicates, 0u);
  EXPECT_EQ(received.invalid, 0u);
  std::set<std::string> expected = snapshotKeys(refused);
  for (const auto& key : snapshotKeys(during)) expected.insert(key);
  EXPECT_EQ(std::set<std::string>(received.keys.begin(), received.keys.end()), expected);
  size_t hecEvents = 0;
  for (const auto& record : records) {
    if (!record.value("valid", false)) continue;
    ++hecEvents;
    EXPECT_EQ(record["path"], "/services/collector/event");
    EXPECT_EQ(record["sourcetype"], "ocsf:podmortem");
    EXPECT_EQ(record["source"], "podmortem");
    EXPECT_TRUE(record["time"].is_number());
  }
  EXPECT_EQ(hecEvents, 5u);
  expectSnapshotFinding(received.findings.front(), refused.front());
  std::cout << "splunk-hec sink: sent " << received.findings.size() << " (" << refused.size()
            << " held while the token was wrong, " << during.size()
            << " held through an outage), lost 0, duplicates " << received.duplicates << "\n";
}

// The key from a message's structured data: [podmortem@32473 key="..." pod="..."].
std::string syslogKey(const json& message) {
  std::string data = message.value("structured_data", "");
  auto start = data.find("key=\"");
  if (start == std::string::npos) return "";
  start += 5;
  return data.substr(start, data.find('"', start) - start);
}

TEST(ExportTest, SyslogSinkSendsRfc5424OverTlsToARealRsyslogAndAnOutageLosesNothing) {
  if (RsyslogServer::binary().empty()) GTEST_SKIP() << "rsyslogd is not installed (scripts/install-deps.sh)";
  RsyslogServer rsyslog;
  RunningServer server(kPolicy, {}, withSink("syslog", controller::SinkType::kSyslog, [&](auto& sink) {
                         sink.address = rsyslog.address();
                         sink.caFile = rsyslog.caFile();
                       }));

  auto before = deletePods(server, 0, 3);
  ASSERT_TRUE(eventually([&] { return rsyslog.messages().size() == 3; })) << rsyslog.messages().size();
  const json first = rsyslog.messages()[0];
  EXPECT_EQ(first["app_name"], "podmortem");
  EXPECT_EQ(first["msgid"], "finding");
  EXPECT_EQ(first["facility"], "16") << "local0";
  EXPECT_EQ(first["severity"], "3") << "OCSF High is syslog err";
  EXPECT_EQ(first["version"], "1");
  EXPECT_EQ(syslogKey(first), "snapshot/" + before[0]);
  std::string msg = first["msg"];
  ASSERT_EQ(msg.rfind("\xEF\xBB\xBF", 0), 0u) << "the UTF-8 BOM of RFC 5424";
  expectSnapshotFinding(json::parse(msg.substr(3)), before[0]);

  rsyslog.stop();
  auto during = deletePods(server, 3, 4);
  ASSERT_TRUE(eventually([&] {
    return exportMetric(server, "podmortem_export_pending{sink=\"syslog\"}") == 4 &&
           exportMetric(server, "podmortem_export_failures_total{reason=\"unreachable\",sink=\"syslog\"}") > 0;
  }));
  rsyslog.start();
  ASSERT_TRUE(eventually([&] { return rsyslog.messages().size() >= 7; }, std::chrono::seconds(20)));
  EXPECT_TRUE(eventually([&] { return exportMetric(server, "podmortem_export_pending{sink=\"syslog\"}") == 0; }));

  std::vector<std::string> keys;
  for (const auto& message : rsyslog.messages()) keys.push_back(syslogKey(message));
  std::vector<std::string> expected;
  for (const auto& id : before) expected.push_back("snapshot/" + id);
  for (const auto& id : during) expected.push_back("snapshot/" + id);
  EXPECT_EQ(keys, expected) << "every finding once, in the order they were made";
  size_t duplicates = keys.size() - std::set<std::string>(keys.begin(), keys.end()).size();
  size_t lost = 0;
  for (const auto& key : expected) lost += std::find(keys.begin(), keys.end(), key) == keys.end();
  std::cout << "syslog sink (rsyslog over TLS): sent " << keys.size() << " (" << before.size()
            << " before the outage, " << during.size() << " held and redelivered after it), lost "
            << lost << ", duplicates " << duplicates << "\n";
}

TEST(ExportTest, FindingsWaitingInTheOutboxSurviveARestart) {
  FindingsReceiver receiver;
  receiver.stop();
  TempDir volume;
  auto configure = withSink(
      "soc", controller::SinkType::kHttp,
      [&](auto& sink) {
        sink.url = receiver.url("/findings");
        sink.caFile = receiver.caFile();
      },
      [&](cli::Config& config) { config.evidence.dir = (volume.path() / "evidence").string(); });
  std::vector<std::string> ids;
  {
    RunningServer server(kPolicy, {}, configure);
    ids = deletePods(server, 0, 3);
    ASSERT_TRUE(eventually([&] { return exportMetric(server, "podmortem_export_pending{sink=\"soc\"}") == 3; }));
  }  // stopped with three findings undelivered
  EXPECT_TRUE(fs::exists(volume.path() / "evidence" / ".outbox" / "findings"));
  auto verify = runCommand(std::string(PODMORTEM_BINARY) + " verify " + (volume.path() / "evidence").string() + " 2>&1");
  EXPECT_EQ(verify.exitCode, 0) << "the outbox beside the bundles is not evidence: " << verify.output;
  receiver.start();
  RunningServer restarted(kPolicy, {}, configure);
  ASSERT_TRUE(eventually([&] { return validFindings(receiver.records()).findings.size() == 3; }));
  auto received = validFindings(receiver.records());
  EXPECT_EQ(std::vector<std::string>(received.keys.begin(), received.keys.end()),
            (std::vector<std::string>{"snapshot/" + ids[0], "snapshot/" + ids[1], "snapshot/" + ids[2]}));
  EXPECT_EQ(received.duplicates, 0u);
}

// Replicas share one evidence volume (evidence.perReplica), each with its own outbox; a rollout
// replaces a replica by one with another name. The findings the old one left are delivered by
// a live one, and its outbox is removed.
TEST(ExportTest, AReplacedReplicasOutboxIsTakenOverByALiveOne) {
  FindingsReceiver receiver;
  receiver.stop();
  TempDir volume;
  auto replica = [&](const std::string& name) {
    return withSink(
        "soc", controller::SinkType::kHttp,
        [&](auto& sink) {
          sink.url = receiver.url("/findings");
          sink.caFile = receiver.caFile();
        },
        [&, name](cli::Config& config) {
          config.evidence.dir = (volume.path() / "evidence").string();
          config.evidence.perReplica = true;
          config.kubernetes.podName = name;
        });
  };
  std::vector<std::string> ids;
  {
    RunningServer old(kPolicy, {}, replica("podmortem-old"));
    ids = deletePods(old, 0, 2);
    ASSERT_TRUE(eventually([&] { return exportMetric(old, "podmortem_export_pending{sink=\"soc\"}") == 2; }));
  }
  const auto orphan = volume.path() / "evidence" / "podmortem-old" / ".outbox";
  ASSERT_TRUE(fs::exists(orphan / "findings"));
  receiver.start();
  RunningServer live(kPolicy, {}, replica("podmortem-new"));
  ASSERT_TRUE(eventually([&] { return validFindings(receiver.records()).findings.size() == 2; }));
  auto received = validFindings(receiver.records());
  EXPECT_EQ(received.keys, (std::vector<std::string>{"snapshot/" + ids[0], "snapshot/" + ids[1]}));
  EXPECT_EQ(received.duplicates, 0u);
  EXPECT_TRUE(eventually([&] { return !fs::exists(orphan); })) << "removed once delivered";
  EXPECT_TRUE(fs::exists(volume.path() / "evidence" / "podmortem-new" / ".outbox"));
}

}  // namespace
}  // namespace podmortem::testing
