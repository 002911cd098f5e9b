#include "podmortem/evidence/custody_ledger.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include "podmortem/evidence/bundle.h"
#include "podmortem/evidence/store.h"
#include "podmortem/evidence/verifier.h"
#include "podmortem/core/sha256.h"

namespace podmortem::controller {
namespace {
namespace fs = std::filesystem;

class CustodyLedgerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("podmortem-ledger-" + evidence::newSnapshotId());
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::vector<std::string> lines() const {
    std::ifstream in(dir_ / "custody.jsonl", std::ios::binary);
    std::vector<std::string> result;
    for (std::string line; std::getline(in, line);)
      result.push_back(line);
    return result;
  }

  static evidence::SnapshotContent content(const std::string& pod) {
    evidence::SnapshotContent c;
    c.id = evidence::newSnapshotId();
    c.policyName = "p";
    c.trigger.source = "audit";
    c.pod = {"ns", pod, "uid", "node"};
    c.artifacts = {{"pod.json", "pod", "{}", ""}};
    return c;
  }

  fs::path dir_;
};

TEST_F(CustodyLedgerTest, LinesAreCompactJsonChainedToThePreviousLine) {
  std::string path = (dir_ / "custody.jsonl").string();
  evidence::CustodyLedger ledger(path);
  auto time = std::chrono::system_clock::time_point(std::chrono::milliseconds(1714564800123));
  std::string sha(64, 'a');
  evidence::LedgerEntry first;
  ASSERT_TRUE(ledger.append("id1", "ns/pod/id1", sha, time, &first).ok());
  ASSERT_TRUE(ledger.append("id2", "ns/pod/id2", sha, time).ok());

  std::vector<std::string> got = lines();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0],
            "{\"seq\":1,\"time\":\"2024-05-01T12:00:00.123Z\",\"snapshotId\":\"id1\","
            "\"bundle\":\"ns/pod/id1\",\"manifestSha256\":\"" +
                sha + "\",\"prevSha256\":\"" + std::string(evidence::kGenesisPrevSha256) + "\"}");
  EXPECT_EQ(first.seq, 1u);
  evidence::LedgerEntry second;
  ASSERT_TRUE(evidence::parseLedgerLine(got[1], second));
  EXPECT_EQ(second.seq, 2u);
  EXPECT_EQ(second.prevSha256, core::sha256Hex(got[0]));
}

TEST_F(CustodyLedgerTest, ReopenedStoreContinuesSeqAndChain) {
  {
    evidence::FileStore store(dir_.string(), nullptr);
    ASSERT_EQ(store.write(content("a")).phase, evidence::SnapshotPhase::kComplete);
    ASSERT_EQ(store.write(content("b")).phase, evidence::SnapshotPhase::kComplete);
  }
  {
    evidence::FileStore store(dir_.string(), nullptr);
    ASSERT_EQ(store.write(content("c")).phase, evidence::SnapshotPhase::kComplete);
  }
  std::vector<std::string> got = lines();
  ASSERT_EQ(got.size(), 3u);
  evidence::LedgerEntry third;
  ASSERT_TRUE(evidence::parseLedgerLine(got[2], third));
  EXPECT_EQ(third.seq, 3u);
  EXPECT_EQ(third.prevSha256, core::sha256Hex(got[1]));
  evidence::VerifyReport report = evidence::verifyEvidence(dir_.string(), nullptr);
  EXPECT_TRUE(report.ok()) << report.problems.front().path << ": "
                           << report.problems.front().message;
  EXPECT_EQ(report.ledgerEntries, 3u);
  EXPECT_EQ(report.ledgerHeadSha256, core::sha256Hex(got[2]));
}

TEST_F(CustodyLedgerTest, TornLastLineIsTerminatedNotChainedOntoSilently) {
  {
    evidence::FileStore store(dir_.string(), nullptr);
    ASSERT_EQ(store.write(content("a")).phase, evidence::SnapshotPhase::kComplete);
  }
  const std::string fragment = "{\"seq\":2,\"time\":\"2024-05-";
  std::ofstream(dir_ / "custody.jsonl", std::ios::app | std::ios::binary) << fragment;
  {
    evidence::FileStore store(dir_.string(), nullptr);
    ASSERT_EQ(store.write(content("b")).phase, evidence::SnapshotPhase::kComplete);
  }
  std::vector<std::string> got = lines();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[1], fragment) << "the fragment stays, on a line of its own";
  evidence::LedgerEntry next;
  ASSERT_TRUE(evidence::parseLedgerLine(got[2], next));
  EXPECT_EQ(next.seq, 2u);
  EXPECT_EQ(next.prevSha256, core::sha256Hex(fragment));

  evidence::VerifyReport report = evidence::verifyEvidence(dir_.string(), nullptr);
  ASSERT_EQ(report.problems.size(), 1u);
  EXPECT_EQ(report.problems[0].path, (dir_ / "custody.jsonl").string() + ":2");
  EXPECT_EQ(report.ledgerEntries, 2u);
}

TEST_F(CustodyLedgerTest, AppendFromAnotherProcessIsPickedUp) {
  // Two replicas sharing one volume each hold their own ledger handle.
  std::string path = (dir_ / "custody.jsonl").string();
  evidence::CustodyLedger one(path);
  evidence::CustodyLedger two(path);
  std::string sha(64, 'b');
  ASSERT_TRUE(one.append("id1", "ns/p/id1", sha, {}).ok());
  ASSERT_TRUE(two.append("id2", "ns/p/id2", sha, {}).ok());
  ASSERT_TRUE(one.append("id3", "ns/p/id3", sha, {}).ok());
  std::vector<std::string> got = lines();
  ASSERT_EQ(got.size(), 3u);
  for (std::size_t i = 0; i < got.size(); ++i) {
    evidence::LedgerEntry entry;
    ASSERT_TRUE(evidence::parseLedgerLine(got[i], entry));
    EXPECT_EQ(entry.seq, i + 1);
    EXPECT_EQ(entry.prevSha256,
              i == 0 ? std::string(evidence::kGenesisPrevSha256) : core::sha256Hex(got[i - 1]));
  }
}

TEST_F(CustodyLedgerTest, LedgerThatCannotBeOpenedFailsAtStartUp) {
  fs::create_directory(dir_ / "custody.jsonl");
  EXPECT_THROW(evidence::CustodyLedger((dir_ / "custody.jsonl").string()), std::runtime_error);
}

TEST_F(CustodyLedgerTest, MalformedLinesDoNotParse) {
  evidence::LedgerEntry entry;
  EXPECT_FALSE(evidence::parseLedgerLine("", entry));
  EXPECT_FALSE(evidence::parseLedgerLine("{\"seq\":1", entry));
  EXPECT_FALSE(evidence::parseLedgerLine("[1,2]", entry));
  EXPECT_FALSE(
      evidence::parseLedgerLine("{\"seq\":\"1\",\"time\":\"t\",\"snapshotId\":\"i\","
                      "\"bundle\":\"b\",\"manifestSha256\":\"m\",\"prevSha256\":\"p\"}",
                      entry));
  EXPECT_TRUE(
      evidence::parseLedgerLine("{\"seq\":1,\"time\":\"t\",\"snapshotId\":\"i\","
                      "\"bundle\":\"b\",\"manifestSha256\":\"m\",\"prevSha256\":\"p\"}",
                      entry));
}

}  // namespace
}  // namespace podmortem::controller
