#include "audit_coverage.h"

#include <gtest/gtest.h>

namespace podmortem::cli {
namespace {

constexpr int64_t kMinute = 60'000;

AuditCoverageInput at(int64_t now, int64_t lastAdmission, int64_t lastAudit) {
  AuditCoverageInput input;
  input.nowMillis = now;
  input.startedMillis = 0;
  input.lastAdmissionMillis = lastAdmission;
  input.lastAuditMillis = lastAudit;
  return input;
}

TEST(AuditCoverage, AdmissionGoesOnAndAuditStoppedIsSilent) {
  auto coverage = auditCoverage(at(20 * kMinute, 20 * kMinute - 1000, 10 * kMinute));
  EXPECT_EQ(coverage.state, "silent");
  EXPECT_NE(coverage.warning.find("no audit event came for 600 s"), std::string::npos) << coverage.warning;
  EXPECT_EQ(coverage.detail["secondsSinceLastEvent"], 600);
  EXPECT_EQ(coverage.detail["lastEventAt"], "1970-01-01T00:10:00.000Z");
}

TEST(AuditCoverage, NoAuditEventEverAfterTheGraceIsSilentButNotBefore) {
  EXPECT_EQ(auditCoverage(at(4 * kMinute, 4 * kMinute, 0)).state, "idle")
      << "a new replica waits silentAfter before it warns";
  auto coverage = auditCoverage(at(6 * kMinute, 6 * kMinute, 0));
  EXPECT_EQ(coverage.state, "silent");
  EXPECT_TRUE(coverage.detail["lastEventAt"].is_null());
}

TEST(AuditCoverage, WithoutTheSharedStreamAnotherReplicaMayHaveTheAuditBatches) {
  auto input = at(20 * kMinute, 20 * kMinute - 1000, 10 * kMinute);
  input.auditMayGoElsewhere = true;
  auto coverage = auditCoverage(input);
  EXPECT_EQ(coverage.state, "silent here");
  EXPECT_TRUE(coverage.warning.empty()) << "PodmortemAuditSilent looks at every replica";
}

TEST(AuditCoverage, ReceivingIdleAndOff) {
  EXPECT_EQ(auditCoverage(at(20 * kMinute, 20 * kMinute, 19 * kMinute)).state, "receiving");
  EXPECT_TRUE(auditCoverage(at(20 * kMinute, 20 * kMinute, 19 * kMinute)).warning.empty());
  // No admission either: a quiet cluster, nothing to say.
  EXPECT_EQ(auditCoverage(at(60 * kMinute, 10 * kMinute, 10 * kMinute)).state, "idle");
  auto off = at(20 * kMinute, 20 * kMinute, 0);
  off.ingestEnabled = false;
  EXPECT_EQ(auditCoverage(off).state, "off");
  EXPECT_TRUE(auditCoverage(off).warning.empty());
}

}  // namespace
}  // namespace podmortem::cli
