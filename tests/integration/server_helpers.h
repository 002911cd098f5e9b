#pragma once

// What several integration tests ask of a running server: its metrics, its audit queue, and the
// audit payload shapes the API server posts.

#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include "running_server.h"

namespace podmortem::testing {

#define REQUIRE_SHARED_FIXTURES()                                                  \
  if (!sharedFixturesPresent()) GTEST_SKIP() << "recorded fixtures not found at " \
                                             << PODMORTEM_FIXTURES_DIR

// The value of one sample in a Prometheus text exposition, or -1 when absent.
inline double metricValue(const std::string& text, const std::string& sample) {
  auto at = text.find("\n" + sample + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + sample.size() + 2));
}

inline double auditEvents(RunningServer& server, const std::string& result) {
  return metricValue(server.metricsClient().get("/metrics").body,
                     "podmortem_audit_events_total{result=\"" + result + "\"}");
}

// Waits until every accepted record was indexed: the queue is empty, and the records indexed are
// the batches accepted plus the execs recorded at admission.
inline void waitForIndexing(RunningServer& server) {
  ASSERT_TRUE(eventually([&] {
    auto text = server.metricsClient().get("/metrics").body;
    return metricValue(text, "podmortem_audit_queue_depth") == 0 &&
           metricValue(text, "podmortem_audit_ingest_duration_seconds_count") ==
               metricValue(text, "podmortem_audit_batches_total{code=\"200\"}") +
                   metricValue(text, "podmortem_admission_connects_recorded_total");
  }));
}

// Wraps JSON lines (an --audit-log-path file) into the EventList the webhook backend posts.
inline std::string eventListOf(const std::string& lines) {
  std::string items;
  std::istringstream in(lines);
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    items += (items.empty() ? "" : ",") + line;
  }
  return R"({"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{},"items":[)" + items +
         "]}";
}

// The project's recorded DELETE (admission/delete-pod-web.json) made into pod `index`'s own:
// its name web-<index>, its uid and the request's uid, so that each index is a capture of its own.
inline std::string deleteOfPod(int index, bool dryRun = false) {
  auto review = parseJson(readFile(ownFixture("admission/delete-pod-web.json")));
  char suffix[16];
  std::snprintf(suffix, sizeof suffix, "%012d", index);
  auto& request = review["request"];
  request["uid"] = std::string("3b1f0c52-9d0e-4b8e-a7a4-") + suffix;
  request["name"] = "web-" + std::to_string(index);
  request["oldObject"]["metadata"]["name"] = request["name"];
  request["oldObject"]["metadata"]["uid"] = std::string("0f6a2b1c-5d4e-4f3a-9b8c-") + suffix;
  request["dryRun"] = dryRun;
  return review.dump();
}

// Audit ingest open to anyone, with a window that reaches the recordings (they are years old).
inline const auto kNoAuth = [](cli::Config& config) {
  config.audit.auth = webhooks::AuditAuth::kNone;
  config.correlation.window = std::chrono::hours(100'000);
};

}  // namespace podmortem::testing
