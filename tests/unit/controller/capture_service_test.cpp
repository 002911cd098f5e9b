// The one-line warning a user sees for a capture: short, with a reason, and never a path of the
// server.
#include "podmortem/controller/capture_service.h"

#include <gtest/gtest.h>

namespace podmortem::controller {
namespace {

evidence::ArtifactRecord failedArtifact(const std::string& collector, const std::string& error) {
  return {collector + ".json", collector, "", error, 0};
}

TEST(CaptureWarning, CompleteSaysHowManyArtifacts) {
  SnapshotOutcome outcome;
  outcome.snapshotId = "0123456789abcdef0123456789abcdef";
  outcome.result.phase = evidence::SnapshotPhase::kComplete;
  outcome.artifactsStored = 4;
  EXPECT_EQ(warningFor(outcome, "protect"),
            "podmortem: evidence snapshot 0123456789ab… captured (policy protect, 4 artifacts)");
}

TEST(CaptureWarning, PartialGroupsTheReasonsInsteadOfListingEveryCollector) {
  SnapshotOutcome outcome;
  outcome.snapshotId = "0123456789abcdef0123456789abcdef";
  outcome.result.phase = evidence::SnapshotPhase::kPartial;
  outcome.artifactsStored = 2;
  outcome.artifactsTotal = 9;
  for (const char* name : {"owners", "events", "logs", "previousLogs", "node", "serviceAccount"}) {
    outcome.result.artifacts.push_back(
        failedArtifact(name, "needs a Kubernetes API; none is configured"));
  }
  outcome.result.artifacts.push_back(failedArtifact("checkpoint", "timed out after 9000 ms"));
  outcome.result.artifacts.push_back({"pod.json", "pod", "aa", "", 10});
  outcome.result.artifacts.push_back({"audit-trail.jsonl", "auditTrail", "bb", "", 0});
  std::string warning = warningFor(outcome, "protect");
  EXPECT_EQ(warning,
            "podmortem: evidence snapshot 0123456789ab… partially captured (policy protect, 2 of "
            "9 artifacts; 6 collectors need a Kubernetes API, 1 collector timed out)");
  EXPECT_LT(warning.size(), 200u);
}

TEST(CaptureWarning, AStoreFailureSaysWhatWithoutThePath) {
  SnapshotOutcome outcome;
  outcome.snapshotId = "0123456789abcdef0123456789abcdef";
  outcome.result.phase = evidence::SnapshotPhase::kFailed;
  outcome.result.reason = "write /var/lib/podmortem/evidence/shop/web/x/pod.json: No space left";
  outcome.result.errorCode = core::ErrorCode::kNoSpace;
  std::string warning = warningFor(outcome, "protect");
  EXPECT_EQ(warning,
            "podmortem: evidence capture 0123456789ab… failed (policy protect): no space on the "
            "evidence volume");
  EXPECT_EQ(warning.find('/'), std::string::npos) << "no server path reaches the client";
  outcome.result.errorCode = core::ErrorCode::kReadOnly;
  EXPECT_NE(warningFor(outcome, "p").find("the evidence volume is read-only"), std::string::npos);
  outcome.result.errorCode = core::ErrorCode::kIo;
  EXPECT_NE(warningFor(outcome, "p").find("see the server log"), std::string::npos);
}

}  // namespace
}  // namespace podmortem::controller
