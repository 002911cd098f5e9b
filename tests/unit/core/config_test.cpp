#include "podmortem/core/config.h"

#include <gtest/gtest.h>

#include "podmortem/core/duration.h"
#include "test_support.h"

namespace podmortem::core {
namespace {

using podmortem::testing::TempDir;
using podmortem::testing::writeFile;

TEST(ConfigTest, DefaultsMatchTheDocumentedValues) {
  Config config;
  EXPECT_EQ(config.listen, "0.0.0.0:8443");
  EXPECT_EQ(config.metricsListen, "0.0.0.0:9090");
  EXPECT_EQ(config.limits.maxBodyBytes, 12u * 1024 * 1024);
  EXPECT_EQ(config.logFormat, log::Format::kJson);
  EXPECT_EQ(config.logLevel, log::Level::kInfo);
}

TEST(ConfigTest, FileOverridesDefaultsAndResolvesPathsAgainstItsFolder) {
  TempDir dir;
  writeFile(dir.path() / "conf" / "podmortem.yaml",
            "listen: 127.0.0.1:18443\n"
            "stateDir: ../state\n"
            "policies: {dir: policies}\n"
            "evidence:\n  dir: /srv/evidence\n"
            "tls:\n  dnsNames: [podmortem.example, podmortem.svc]\n"
            "limits: {maxBodyBytes: 2048, readTimeout: 3s}\n"
            "log: {level: debug, format: text}\n");
  Config config = loadConfigFile((dir.path() / "conf" / "podmortem.yaml").string());
  EXPECT_EQ(config.listen, "127.0.0.1:18443");
  EXPECT_EQ(config.stateDir, (dir.path() / "state").string());
  EXPECT_EQ(config.policiesDir, (dir.path() / "conf" / "policies").string());
  EXPECT_EQ(config.evidenceDir, "/srv/evidence");
  EXPECT_EQ(config.tls.dnsNames, (std::vector<std::string>{"podmortem.example", "podmortem.svc"}));
  EXPECT_EQ(config.limits.maxBodyBytes, 2048u);
  EXPECT_EQ(config.limits.readTimeout, std::chrono::seconds(3));
  EXPECT_EQ(config.logLevel, log::Level::kDebug);
  EXPECT_EQ(config.logFormat, log::Format::kText);
}

TEST(ConfigTest, UnknownKeyIsAnErrorNamingTheKeyAndTheFile) {
  TempDir dir;
  auto file = (dir.path() / "bad.yaml").string();
  writeFile(file, "listen: 127.0.0.1:1\nlimits:\n  maxBodyByte: 10\n");
  try {
    loadConfigFile(file);
    FAIL() << "an unknown key must be refused";
  } catch (const ConfigError& error) {
    std::string message = error.what();
    EXPECT_NE(message.find("limits.maxBodyByte"), std::string::npos) << message;
    EXPECT_NE(message.find(file), std::string::npos) << message;
  }
}

TEST(ConfigTest, BadValuesNameTheKey) {
  TempDir dir;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"listen: nowhere\n", "listen"},
      {"listen: 127.0.0.1:99999\n", "listen"},
      {"log: {level: loud}\n", "log.level"},
      {"log: {format: xml}\n", "log.format"},
      {"limits: {maxBodyBytes: -1}\n", "limits.maxBodyBytes"},
      {"limits: {readTimeout: soon}\n", "limits.readTimeout"},
      {"tls: {dnsNames: one}\n", "tls.dnsNames"},
      {"tls: plain\n", "tls"},
  };
  for (const auto& [text, key] : cases) {
    auto file = (dir.path() / "c.yaml").string();
    writeFile(file, text);
    try {
      loadConfigFile(file);
      ADD_FAILURE() << "accepted: " << text;
    } catch (const ConfigError& error) {
      EXPECT_NE(std::string(error.what()).find("\"" + key), std::string::npos)
          << text << " -> " << error.what();
    }
  }
}

TEST(ConfigTest, UnreadableOrInvalidYamlIsAConfigError) {
  EXPECT_THROW(loadConfigFile("/nonexistent/podmortem.yaml"), ConfigError);
  TempDir dir;
  writeFile(dir.path() / "x.yaml", "listen: [unclosed\n");
  EXPECT_THROW(loadConfigFile((dir.path() / "x.yaml").string()), ConfigError);
}

TEST(ConfigTest, SetConfigValueAppliesOneDottedKey) {
  Config config;
  setConfigValue(config, "limits.maxConnections", "7");
  EXPECT_EQ(config.limits.maxConnections, 7u);
  EXPECT_THROW(setConfigValue(config, "limits.nothing", "1"), ConfigError);
}

TEST(ConfigTest, EveryKeyHasADescription) {
  for (const auto& key : configKeys()) EXPECT_GT(std::string(key.description).size(), 5u) << key.key;
  EXPECT_GE(configKeys().size(), 11u);
}

TEST(DurationTest, ParsesKubernetesStyleDurations) {
  EXPECT_EQ(parseDuration("20s"), std::chrono::seconds(20));
  EXPECT_EQ(parseDuration("1m30s"), std::chrono::seconds(90));
  EXPECT_EQ(parseDuration("500ms"), std::chrono::milliseconds(500));
  EXPECT_EQ(parseDuration("2h"), std::chrono::hours(2));
  EXPECT_EQ(parseDuration("1.5s"), std::chrono::milliseconds(1500));
  EXPECT_FALSE(parseDuration("10"));
  EXPECT_FALSE(parseDuration(""));
  EXPECT_FALSE(parseDuration("-5s"));
  EXPECT_FALSE(parseDuration("5 days"));
}

}  // namespace
}  // namespace podmortem::core

namespace podmortem::core {
namespace {

TEST(ConfigTest, KubernetesLeaderElectionAndCertificateKeysParse) {
  testing::TempDir dir;
  testing::writeFile(dir.path() / "c.yaml",
                     "kubernetes: {mode: kubeconfig, kubeconfig: kube/config, context: dev, "
                     "namespace: forensics, qps: 5, burst: 10, requestTimeout: 3s}\n"
                     "leaderElection: {enabled: false, leaseName: pm, leaseDuration: 20s}\n"
                     "tls: {manageSecret: true, secretName: pm-tls, webhookConfiguration: pm}\n"
                     "evidence: {perReplica: true}\n");
  Config config = loadConfigFile((dir.path() / "c.yaml").string());
  EXPECT_EQ(config.kubernetes.mode, KubernetesMode::kKubeconfig);
  EXPECT_EQ(config.kubernetes.kubeconfig, (dir.path() / "kube/config").string());
  EXPECT_EQ(config.kubernetes.context, "dev");
  EXPECT_EQ(config.kubernetes.namespaceName, "forensics");
  EXPECT_EQ(config.kubernetes.qps, 5);
  EXPECT_EQ(config.kubernetes.burst, 10u);
  EXPECT_EQ(config.kubernetes.requestTimeout, std::chrono::seconds(3));
  EXPECT_FALSE(config.leaderElection.enabled);
  EXPECT_EQ(config.leaderElection.leaseName, "pm");
  EXPECT_EQ(config.leaderElection.leaseDuration, std::chrono::seconds(20));
  EXPECT_TRUE(config.tls.manageSecret);
  EXPECT_EQ(config.tls.secretName, "pm-tls");
  EXPECT_TRUE(config.evidencePerReplica);
  testing::writeFile(dir.path() / "bad.yaml", "kubernetes: {mode: sometimes}\n");
  try {
    loadConfigFile((dir.path() / "bad.yaml").string());
    FAIL();
  } catch (const ConfigError& error) {
    EXPECT_NE(std::string(error.what()).find("kubernetes.mode"), std::string::npos) << error.what();
  }
}

// The README is the reference users read: every key the binary takes must be in its table.
TEST(ConfigTest, ReadmeDocumentsEveryKey) {
  std::string readme = testing::readFile(testing::sourcePath("README.md"));
  for (const auto& key : configKeys()) {
    EXPECT_NE(readme.find("`" + std::string(key.key) + "`"), std::string::npos)
        << key.key << " is not in the README's configuration table";
  }
}

}  // namespace
}  // namespace podmortem::core
