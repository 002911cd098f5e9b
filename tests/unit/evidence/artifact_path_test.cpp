#include "podmortem/evidence/artifact_path.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "podmortem/core/kubernetes_names.h"
#include "podmortem/evidence/bundle.h"

namespace podmortem::evidence {
namespace {

TEST(SafeArtifactPath, AcceptsBundlePaths) {
  EXPECT_TRUE(isSafeArtifactPath("pod.json"));
  EXPECT_TRUE(isSafeArtifactPath("audit-trail.jsonl"));
  EXPECT_TRUE(isSafeArtifactPath("logs/app.previous.log"));
  EXPECT_TRUE(isSafeArtifactPath("owners/ReplicaSet_web-7d4b9c.json"));
}

TEST(SafeArtifactPath, RejectsAbsoluteDotDotAndEmptySegments) {
  EXPECT_FALSE(isSafeArtifactPath(""));
  EXPECT_FALSE(isSafeArtifactPath("/etc/passwd"));
  EXPECT_FALSE(isSafeArtifactPath("../custody.jsonl"));
  EXPECT_FALSE(isSafeArtifactPath("logs/../../x"));
  EXPECT_FALSE(isSafeArtifactPath("logs//app.log"));
  EXPECT_FALSE(isSafeArtifactPath("logs/"));
  EXPECT_FALSE(isSafeArtifactPath("./pod.json"));
  EXPECT_FALSE(isSafeArtifactPath("logs\\app.log"));
  EXPECT_FALSE(isSafeArtifactPath("new\nline"));
}

TEST(SnapshotId, IsThirtyTwoLowerHexCharactersAndUnique) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    std::string id = newSnapshotId();
    ASSERT_EQ(id.size(), 32u);
    EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << id;
    EXPECT_TRUE(core::names::isDns1123Label(id));
    EXPECT_TRUE(seen.insert(id).second);
  }
}

TEST(SnapshotPhaseName, MatchesEvidenceSnapshotStatus) {
  EXPECT_EQ(toString(SnapshotPhase::kComplete), "Complete");
  EXPECT_EQ(toString(SnapshotPhase::kPartial), "Partial");
  EXPECT_EQ(toString(SnapshotPhase::kFailed), "Failed");
}

}  // namespace
}  // namespace podmortem::evidence
