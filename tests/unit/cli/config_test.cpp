// podmortem's own keys: their defaults, their sections, the cross-section checks, and the
// README's reference of every key.
#include "podmortem/cli/config.h"

#include <gtest/gtest.h>

#include "test_support.h"

namespace podmortem::cli {
namespace {

using testing::TempDir;
using testing::writeFile;

Config loadText(const TempDir& dir, const std::string& text) {
  writeFile(dir.path() / "c.yaml", text);
  return loadConfig((dir.path() / "c.yaml").string(), {});
}

std::string errorOf(const TempDir& dir, const std::string& text) {
  try {
    loadText(dir, text);
  } catch (const core::ConfigError& error) {
    return error.what();
  }
  return "";
}

TEST(Config, DefaultsMatchTheDocumentedValues) {
  Config config;
  EXPECT_EQ(config.server.listen, "0.0.0.0:8443");
  EXPECT_EQ(config.server.metricsListen, "0.0.0.0:9090");
  EXPECT_EQ(config.limits.maxBodyBytes, 12u * 1024 * 1024);
  EXPECT_EQ(config.log.format, core::log::Format::kJson);
  EXPECT_EQ(config.log.level, core::log::Level::kInfo);
  EXPECT_EQ(config.audit.auth, webhooks::AuditAuth::kDisabled);
  EXPECT_EQ(config.correlation.window, std::chrono::minutes(30));
  EXPECT_EQ(config.capture.workers, 4u);
  EXPECT_NO_THROW(validateConfig(config));
}

TEST(Config, EachSectionReadsItsKeysFromTheFile) {
  TempDir dir;
  writeFile(dir.path() / "conf" / "podmortem.yaml",
            "listen: 127.0.0.1:18443\n"
            "stateDir: ../state\n"
            "policies: {dir: policies}\n"
            "evidence:\n  dir: /srv/evidence\n  workers: 8\n  perReplica: true\n"
            "tls:\n  dnsNames: [podmortem.example, podmortem.svc]\n"
            "limits: {maxBodyBytes: 2048, readTimeout: 3s}\n"
            "audit: {auth: none, window: 2h, queueBatches: 5}\n"
            "kubernetes: {mode: kubeconfig, kubeconfig: kube/config, context: dev, "
            "namespace: forensics, qps: 5, burst: 10, requestTimeout: 3s, evidenceRecords: false}\n"
            "leaderElection: {enabled: false, leaseName: pm, leaseDuration: 20s}\n"
            "log: {level: debug, format: text}\n");
  Config config = loadConfig((dir.path() / "conf" / "podmortem.yaml").string(), {});
  EXPECT_EQ(config.server.listen, "127.0.0.1:18443");
  EXPECT_EQ(config.runtime.stateDir, (dir.path() / "state").string());
  EXPECT_EQ(config.policies.dir, (dir.path() / "conf" / "policies").string());
  EXPECT_EQ(config.evidence.dir, "/srv/evidence");
  EXPECT_TRUE(config.evidence.perReplica);
  EXPECT_EQ(config.capture.workers, 8u) << "evidence.workers belongs to the capture section";
  EXPECT_EQ(config.tls.dnsNames, (std::vector<std::string>{"podmortem.example", "podmortem.svc"}));
  EXPECT_EQ(config.limits.maxBodyBytes, 2048u);
  EXPECT_EQ(config.limits.readTimeout, std::chrono::seconds(3));
  EXPECT_EQ(config.audit.auth, webhooks::AuditAuth::kNone);
  EXPECT_EQ(config.audit.queueBatches, 5u);
  EXPECT_EQ(config.correlation.window, std::chrono::hours(2)) << "audit.window is the window's";
  EXPECT_EQ(config.kubernetes.mode, kube::Mode::kKubeconfig);
  EXPECT_EQ(config.kubernetes.kubeconfig, (dir.path() / "conf" / "kube" / "config").string());
  EXPECT_EQ(config.kubernetes.context, "dev");
  EXPECT_EQ(config.kubernetes.namespaceName, "forensics");
  EXPECT_EQ(config.kubernetes.qps, 5);
  EXPECT_EQ(config.kubernetes.burst, 10u);
  EXPECT_FALSE(config.cluster.evidenceRecords);
  EXPECT_FALSE(config.leaderElection.enabled);
  EXPECT_EQ(config.leaderElection.leaseDuration, std::chrono::seconds(20));
  EXPECT_EQ(config.log.level, core::log::Level::kDebug);
  EXPECT_EQ(config.log.format, core::log::Format::kText);
}

TEST(Config, BadValuesAndUnknownKeysNameTheKey) {
  TempDir dir;
  EXPECT_NE(errorOf(dir, "limits:\n  maxBodyByte: 10\n").find("unknown key \"limits.maxBodyByte\""),
            std::string::npos);
  EXPECT_NE(errorOf(dir, "kubernetes: {mode: sometimes}\n").find("\"kubernetes.mode\""),
            std::string::npos);
  EXPECT_NE(errorOf(dir, "audit: {auth: maybe}\n").find("\"audit.auth\""), std::string::npos);
  EXPECT_NE(errorOf(dir, "log: {level: loud}\n").find("\"log.level\""), std::string::npos);
}

TEST(Config, ChecksAcrossKeysAreConfigErrors) {
  TempDir dir;
  EXPECT_NE(errorOf(dir, "tls: {certFile: a.crt}\n").find("tls.certFile and tls.keyFile"),
            std::string::npos);
  EXPECT_NE(errorOf(dir, "tls: {certFile: a.crt, keyFile: a.key, manageSecret: true}\n")
                .find("tls.manageSecret and tls.certFile"),
            std::string::npos);
  EXPECT_NE(errorOf(dir, "audit: {auth: token}\n").find("audit.tokenFile is not set"),
            std::string::npos);
  EXPECT_NE(errorOf(dir, "audit: {auth: mtls}\n").find("tls.clientCAFile is not set"),
            std::string::npos);
  EXPECT_NE(errorOf(dir, "leaderElection: {retryPeriod: 20s}\n").find("retryPeriod"),
            std::string::npos);
  EXPECT_NE(errorOf(dir, "tls: {manageSecret: true}\nkubernetes: {mode: none}\n")
                .find("tls.manageSecret needs a Kubernetes API"),
            std::string::npos);
}

TEST(Config, TheStreamSectionReadsNestedTlsKeysAndRefusesBadValuesByName) {
  TempDir dir;
  Config config = loadText(dir,
                           "stream:\n  url: nats://a:4222, tls://b:4222\n  replicas: 3\n"
                           "  tls: {caFile: ca.pem, certFile: c.pem, keyFile: c.key}\n"
                           "audit: {lateness: 2m}\n");
  EXPECT_EQ(config.stream.urls(), (std::vector<std::string>{"nats://a:4222", "tls://b:4222"}));
  EXPECT_EQ(config.stream.replicas, 3u);
  EXPECT_EQ(config.stream.caFile, (dir.path() / "ca.pem").string());
  EXPECT_EQ(config.correlation.lateness, std::chrono::minutes(2));
  EXPECT_FALSE(Config{}.stream.enabled()) << "no stream unless stream.url is set";
  EXPECT_NE(errorOf(dir, "stream: {url: \"http://nats:4222\"}\n").find("stream.url"),
            std::string::npos);
  EXPECT_NE(errorOf(dir, "stream: {url: \"nats://a\", name: \"audit.events\"}\n")
                .find("stream.name"),
            std::string::npos);
  EXPECT_NE(errorOf(dir, "stream: {replicas: 7}\n").find("\"stream.replicas\""),
            std::string::npos);
  EXPECT_NE(errorOf(dir, "stream: {url: \"nats://a\", tls: {certFile: c.pem}}\n")
                .find("stream.tls.certFile and stream.tls.keyFile"),
            std::string::npos);
}

TEST(Config, OverridesApplyAfterTheFile) {
  TempDir dir;
  writeFile(dir.path() / "c.yaml", "limits: {maxConnections: 5}\n");
  Config config = loadConfig((dir.path() / "c.yaml").string(),
                             {{"limits.maxConnections", "7"}, {"tls.dnsNames", "a.example"}});
  EXPECT_EQ(config.limits.maxConnections, 7u);
  EXPECT_EQ(config.tls.dnsNames, (std::vector<std::string>{"a.example"}));
  EXPECT_THROW(loadConfig("", {{"limits.nothing", "1"}}), core::ConfigError);
}

TEST(Config, EveryKeyHasADescriptionAndTheGeneratedDefaults) {
  std::map<std::string, std::string> keys;
  for (const auto& key : configSchema().keys()) keys[key.key] = key.description;
  EXPECT_EQ(keys.size(), 100u);
  for (const auto& [key, description] : keys) EXPECT_GT(description.size(), 5u) << key;
  EXPECT_NE(keys["limits.maxBodyBytes"].find("(default 12582912)"), std::string::npos);
  EXPECT_NE(keys["audit.window"].find("(default 30m)"), std::string::npos);
  EXPECT_NE(keys["kubernetes.qps"].find("(default 20)"), std::string::npos);
  EXPECT_NE(keys["kubernetes.kubeconfig"].find("(unset: $KUBECONFIG"), std::string::npos);
}

// The README is the reference users read: every key the binary takes must be in its table.
TEST(Config, ReadmeDocumentsEveryKey) {
  std::string readme = testing::readFile(testing::sourcePath("README.md"));
  for (const auto& key : configSchema().keys()) {
    EXPECT_NE(readme.find("`" + key.key + "`"), std::string::npos)
        << key.key << " is not in the README's configuration table";
  }
}

}  // namespace
}  // namespace podmortem::cli
