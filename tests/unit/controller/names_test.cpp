#include "podmortem/controller/names.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "podmortem/controller/evidence.h"

namespace podmortem::controller {
namespace {

TEST(Dns1123Label, AcceptsKubernetesNamespaceNames) {
  EXPECT_TRUE(isDns1123Label("default"));
  EXPECT_TRUE(isDns1123Label("kube-system"));
  EXPECT_TRUE(isDns1123Label("a"));
  EXPECT_TRUE(isDns1123Label("0team-42"));
  EXPECT_TRUE(isDns1123Label(std::string(63, 'a')));
}

TEST(Dns1123Label, RejectsTraversalSlashesUpperCaseAndEmpty) {
  EXPECT_FALSE(isDns1123Label(""));
  EXPECT_FALSE(isDns1123Label("../x"));
  EXPECT_FALSE(isDns1123Label(".."));
  EXPECT_FALSE(isDns1123Label("a/b"));
  EXPECT_FALSE(isDns1123Label("Default"));
  EXPECT_FALSE(isDns1123Label("-lead"));
  EXPECT_FALSE(isDns1123Label("trail-"));
  EXPECT_FALSE(isDns1123Label("has.dot"));
  EXPECT_FALSE(isDns1123Label(std::string("a\0b", 3)));
  EXPECT_FALSE(isDns1123Label(std::string(64, 'a')));
}

TEST(Dns1123Subdomain, AcceptsPodNames) {
  EXPECT_TRUE(isDns1123Subdomain("web-7d4b9c-x2x9z"));
  EXPECT_TRUE(isDns1123Subdomain("etcd-control-plane.example"));
  EXPECT_TRUE(isDns1123Subdomain("a.b.c"));
  EXPECT_TRUE(isDns1123Subdomain(std::string(253, 'a')));
}

TEST(Dns1123Subdomain, RejectsTraversalSlashesUpperCaseAndEmpty) {
  EXPECT_FALSE(isDns1123Subdomain(""));
  EXPECT_FALSE(isDns1123Subdomain("."));
  EXPECT_FALSE(isDns1123Subdomain(".."));
  EXPECT_FALSE(isDns1123Subdomain("../x"));
  EXPECT_FALSE(isDns1123Subdomain("a/b"));
  EXPECT_FALSE(isDns1123Subdomain("Web-0"));
  EXPECT_FALSE(isDns1123Subdomain("a..b"));
  EXPECT_FALSE(isDns1123Subdomain(".a"));
  EXPECT_FALSE(isDns1123Subdomain("a."));
  EXPECT_FALSE(isDns1123Subdomain("a.-b"));
  EXPECT_FALSE(isDns1123Subdomain("a b"));
  EXPECT_FALSE(isDns1123Subdomain(std::string(254, 'a')));
}

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
    EXPECT_TRUE(isDns1123Label(id));
    EXPECT_TRUE(seen.insert(id).second);
  }
}

TEST(Timestamp, IsRfc3339UtcWithMilliseconds) {
  auto time = std::chrono::system_clock::time_point(std::chrono::milliseconds(1714564800123));
  EXPECT_EQ(formatTimestamp(time), "2024-05-01T12:00:00.123Z");
  EXPECT_EQ(formatTimestamp({}), "1970-01-01T00:00:00.000Z");
}

TEST(SnapshotPhaseName, MatchesEvidenceSnapshotStatus) {
  EXPECT_EQ(toString(SnapshotPhase::kComplete), "Complete");
  EXPECT_EQ(toString(SnapshotPhase::kPartial), "Partial");
  EXPECT_EQ(toString(SnapshotPhase::kFailed), "Failed");
}

}  // namespace
}  // namespace podmortem::controller
