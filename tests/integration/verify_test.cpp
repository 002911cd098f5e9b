// `podmortem verify` on evidence the real server wrote: 0 when intact, 1 after any change.
#include <gtest/gtest.h>

#include "running_server.h"

namespace podmortem::testing {
namespace {

namespace fs = std::filesystem;

constexpr const char* kPolicy = R"(
apiVersion: podmortem.io/v1alpha1
kind: ForensicPolicy
metadata: {name: capture-on-delete}
spec:
  triggers:
    - {source: admission, operations: [DELETE], resources: [pods]}
  actions:
    snapshot: {collectors: [pod, auditTrail], holdDeletion: 10s}
)";

int verify(const fs::path& path) {
  return runCommand(std::string(PODMORTEM_BINARY) + " verify " + path.string()).exitCode;
}

void flipOneByte(const fs::path& file, size_t offset) {
  std::string bytes = readFile(file);
  ASSERT_LT(offset, bytes.size());
  bytes[offset] = static_cast<char>(bytes[offset] ^ 0x01);
  writeFile(file, bytes);
}

class VerifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto http = server_.client();
    auto review = parseJson(readFile(ownFixture("admission/delete-pod-web.json")));
    for (const char* uid : {"11111111-0000-4000-8000-000000000001", "11111111-0000-4000-8000-000000000002"}) {
      review["request"]["oldObject"]["metadata"]["uid"] = uid;
      ASSERT_EQ(http.post("/validate", review.dump()).status, 200u);
    }
    snapshots_ = server_.snapshots();
    ASSERT_EQ(snapshots_.size(), 2u);
    ASSERT_EQ(verify(server_.evidenceDir()), 0) << "fresh evidence verifies";
  }

  RunningServer server_{kPolicy};
  std::vector<fs::path> snapshots_;
};

TEST_F(VerifyTest, OneChangedByteOfAnArtifactIsDetected) {
  flipOneByte(snapshots_[0] / "pod.json", 10);
  EXPECT_EQ(verify(server_.evidenceDir()), 1);
  EXPECT_EQ(verify(snapshots_[0]), 1) << "a single snapshot folder is checked too";
  EXPECT_EQ(verify(snapshots_[1]), 0);
}

TEST_F(VerifyTest, OneChangedByteOfTheManifestIsDetected) {
  flipOneByte(snapshots_[1] / "manifest.json", 40);
  EXPECT_EQ(verify(server_.evidenceDir()), 1);
}

TEST_F(VerifyTest, OneChangedByteOfALedgerLineIsDetected) {
  auto ledger = server_.evidenceDir() / "custody.jsonl";
  std::string text = readFile(ledger);
  auto offset = text.find("\"snapshotId\":\"") + 15;
  flipOneByte(ledger, offset);
  EXPECT_EQ(verify(server_.evidenceDir()), 1);
}

TEST_F(VerifyTest, ARemovedSnapshotFolderIsDetected) {
  fs::remove_all(snapshots_[0]);
  EXPECT_EQ(verify(server_.evidenceDir()), 1);
}

TEST_F(VerifyTest, UsageErrorsExit2) {
  EXPECT_EQ(runCommand(std::string(PODMORTEM_BINARY) + " verify").exitCode, 2);
  EXPECT_EQ(runCommand(std::string(PODMORTEM_BINARY) + " verify /nonexistent/evidence").exitCode, 2);
  EXPECT_EQ(runCommand(std::string(PODMORTEM_BINARY) + " verify --bogus x").exitCode, 2);
}

}  // namespace
}  // namespace podmortem::testing
