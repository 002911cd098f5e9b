// The whole server and the binary, from the outside: health, metrics, CLI exit codes.
#include <gtest/gtest.h>

#include "running_server.h"

namespace podmortem::testing {
namespace {

TEST(ServerTest, HealthAndReadyAnswerOverTlsWithTheGeneratedCa) {
  RunningServer server;
  auto http = server.client();
  auto health = http.get("/healthz");
  EXPECT_EQ(health.status, 200u);
  EXPECT_EQ(parseJson(health.body)["status"], "ok");
  auto ready = http.get("/readyz");
  EXPECT_EQ(ready.status, 200u);
  EXPECT_EQ(parseJson(ready.body)["status"], "ready");
}

TEST(ServerTest, MetricsPassPromtoolAndCountRequests) {
  RunningServer server;
  auto http = server.client();
  http.get("/healthz");
  http.get("/nowhere");
  http.post("/validate", "{not json");
  auto metrics = server.metricsClient().get("/metrics");
  ASSERT_EQ(metrics.status, 200u);
  EXPECT_NE(metrics.headers["content-type"].find("text/plain"), std::string::npos);
  const auto& text = metrics.body;
  for (const char* expected :
       {"podmortem_http_requests_total{code=\"200\",handler=\"healthz\"} 1",
        "podmortem_http_requests_total{code=\"404\",handler=\"notfound\"} 1",
        "podmortem_http_requests_total{code=\"400\",handler=\"validate\"} 1",
        "podmortem_http_request_duration_seconds_bucket{handler=\"healthz\",le=\"0.0001\"}",
        "podmortem_build_info{version=\"", "process_resident_memory_bytes ",
        "process_cpu_seconds_total ", "process_open_fds ", "podmortem_policies{state=\"valid\"}",
        "podmortem_admission_requests_total{decision=\"invalid\""}) {
    EXPECT_NE(text.find(expected), std::string::npos) << "missing " << expected;
  }
  TempDir dir;
  writeFile(dir.path() / "metrics.txt", text);
  auto check = runCommand("promtool check metrics < " + (dir.path() / "metrics.txt").string());
  EXPECT_EQ(check.exitCode, 0) << check.output;
  EXPECT_EQ(check.output, "") << "promtool found something to complain about";
}

TEST(CliTest, UnknownCommandOrFlagPrintsUsageAndExits2) {
  auto unknownCommand = runCommand(std::string(PODMORTEM_BINARY) + " frobnicate");
  EXPECT_EQ(unknownCommand.exitCode, 2);
  EXPECT_NE(unknownCommand.output.find("Usage: podmortem"), std::string::npos);
  auto unknownFlag = runCommand(std::string(PODMORTEM_BINARY) + " serve --frobnicate");
  EXPECT_EQ(unknownFlag.exitCode, 2);
  EXPECT_NE(unknownFlag.output.find("unknown flag --frobnicate"), std::string::npos);
  auto none = runCommand(PODMORTEM_BINARY);
  EXPECT_EQ(none.exitCode, 2);
}

TEST(CliTest, EveryCommandHasHelp) {
  for (const char* command : {"serve", "verify", "replay", "version"}) {
    auto help = runCommand(std::string(PODMORTEM_BINARY) + " " + command + " --help");
    EXPECT_EQ(help.exitCode, 0) << command;
    EXPECT_NE(help.output.find("Usage: podmortem " + std::string(command)), std::string::npos);
  }
  auto help = runCommand(std::string(PODMORTEM_BINARY) + " help");
  EXPECT_EQ(help.exitCode, 0);
  auto version = runCommand(std::string(PODMORTEM_BINARY) + " version");
  EXPECT_EQ(version.exitCode, 0);
  EXPECT_EQ(version.output.rfind("podmortem ", 0), 0u);
}

TEST(CliTest, ConfigWithUnknownKeyExits2NamingTheKeyAndFile) {
  TempDir dir;
  auto file = dir.path() / "podmortem.yaml";
  writeFile(file, "listen: 127.0.0.1:0\nmetricsListen: 127.0.0.1:0\nlimits:\n  maxBodyByte: 1\n");
  auto result = runCommand(std::string(PODMORTEM_BINARY) + " serve --config " + file.string());
  EXPECT_EQ(result.exitCode, 2);
  EXPECT_NE(result.output.find("limits.maxBodyByte"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find(file.string()), std::string::npos) << result.output;
}

TEST(CliTest, ServeStopsWithExitZeroOnSigterm) {
  TempDir dir;
  auto log = dir.path() / "serve.log";
  // Start the real binary, wait until it says it serves, then SIGTERM it.
  std::string command = "(" + std::string(PODMORTEM_BINARY) +
                        " serve --listen 127.0.0.1:0 --metrics-listen 127.0.0.1:0 --state-dir " +
                        dir.str() + " --evidence-dir " + (dir.path() / "evidence").string() +
                        " > " + log.string() + " 2>&1 & pid=$!; " +
                        "for i in $(seq 1 300); do grep -q 'podmortem is serving' " + log.string() +
                        " && break; sleep 0.05; done; kill -TERM $pid; wait $pid)";
  auto result = runCommand(command);
  std::string output = readFile(log);
  EXPECT_EQ(result.exitCode, 0) << output;
  EXPECT_NE(output.find("\"msg\":\"stopped\""), std::string::npos) << output;
}

}  // namespace
}  // namespace podmortem::testing
