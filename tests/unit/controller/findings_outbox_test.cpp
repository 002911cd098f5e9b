#include "findings_outbox.h"

#include <gtest/gtest.h>

#include "test_support.h"

namespace podmortem::controller {
namespace {

namespace fs = std::filesystem;

uint64_t add(FindingsOutbox& outbox, const std::string& key, std::map<std::string, uint64_t>* dropped = nullptr) {
  std::map<std::string, uint64_t> lost;
  auto sequence = outbox.append(key, "ns/pod", 1000, R"({"k":")" + key + R"("})", lost);
  EXPECT_TRUE(sequence.ok());
  if (dropped != nullptr) *dropped = lost;
  return sequence.ok() ? *sequence : 0;
}

std::string nextKey(FindingsOutbox& outbox, const std::string& sink) {
  uint64_t unreadable = 0;
  auto record = outbox.next(sink, unreadable);
  EXPECT_TRUE(record.ok());
  return record.ok() && *record ? (*record)->key : "";
}

TEST(FindingsOutbox, EachSinkGetsEveryFindingInOrderAndFilesGoOnceAllHaveThem) {
  testing::TempDir dir;
  FindingsOutbox outbox(dir.path(), {"a", "b"}, 100);
  uint64_t first = add(outbox, "k1");
  uint64_t second = add(outbox, "k2");
  EXPECT_EQ(outbox.pending("a"), 2u);
  EXPECT_EQ(nextKey(outbox, "a"), "k1");
  ASSERT_TRUE(outbox.delivered("a", first).ok());
  EXPECT_EQ(nextKey(outbox, "a"), "k2");
  EXPECT_EQ(nextKey(outbox, "b"), "k1") << "each sink has its own cursor";
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path() / "findings"), {}), 2);
  ASSERT_TRUE(outbox.delivered("b", first).ok());
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path() / "findings"), {}), 1)
      << "k1 is removed once both sinks took it";
  ASSERT_TRUE(outbox.delivered("a", second).ok());
  EXPECT_EQ(outbox.pending("a"), 0u);
  EXPECT_EQ(nextKey(outbox, "a"), "");
  EXPECT_EQ(outbox.pending("b"), 1u);
}

TEST(FindingsOutbox, ARestartGoesOnFromEachSinksCursorAndNeverReusesANumber) {
  testing::TempDir dir;
  uint64_t taken;
  {
    FindingsOutbox outbox(dir.path(), {"a"}, 100);
    taken = add(outbox, "k1");
    add(outbox, "k2");
    ASSERT_TRUE(outbox.delivered("a", taken).ok());
  }
  // A write a crash cut short never counts.
  testing::writeFile(dir.path() / "findings" / "00000000000000000099.json.partial", "{");
  FindingsOutbox reopened(dir.path(), {"a"}, 100);
  EXPECT_EQ(reopened.pending("a"), 1u);
  EXPECT_EQ(nextKey(reopened, "a"), "k2");
  EXPECT_FALSE(fs::exists(dir.path() / "findings" / "00000000000000000099.json.partial"));
  std::map<std::string, uint64_t> dropped;
  auto third = reopened.append("k3", "ns/pod", 1, "{}", dropped);
  ASSERT_TRUE(third.ok());
  EXPECT_GT(*third, taken + 1);
}

TEST(FindingsOutbox, AllTakenThenRestartedKeepsCountingPastTheCursor) {
  testing::TempDir dir;
  uint64_t last;
  {
    FindingsOutbox outbox(dir.path(), {"a"}, 100);
    last = add(outbox, "k1");
    ASSERT_TRUE(outbox.delivered("a", last).ok());
  }
  FindingsOutbox reopened(dir.path(), {"a"}, 100);
  uint64_t next = add(reopened, "k2");
  EXPECT_GT(next, last) << "a number at or below the cursor would be skipped by the sink";
  EXPECT_EQ(nextKey(reopened, "a"), "k2");
}

TEST(FindingsOutbox, PastTheBoundTheOldestIsDroppedAndCountedForTheSinksThatLackedIt) {
  testing::TempDir dir;
  FindingsOutbox outbox(dir.path(), {"fast", "slow"}, 2);
  uint64_t first = add(outbox, "k1");
  ASSERT_TRUE(outbox.delivered("fast", first).ok());
  add(outbox, "k2");
  std::map<std::string, uint64_t> dropped;
  add(outbox, "k3", &dropped);
  EXPECT_EQ(dropped["slow"], 1u);
  EXPECT_EQ(dropped.count("fast"), 0u) << "fast had k1";
  EXPECT_EQ(nextKey(outbox, "slow"), "k2");
  EXPECT_EQ(outbox.pending("slow"), 2u);
  EXPECT_EQ(outbox.pending("fast"), 2u);
}

TEST(FindingsOutbox, ADamagedFileIsSkippedAndCountedNotRetriedForEver) {
  testing::TempDir dir;
  FindingsOutbox outbox(dir.path(), {"a"}, 100);
  uint64_t first = add(outbox, "k1");
  add(outbox, "k2");
  char name[32];
  std::snprintf(name, sizeof name, "%020llu.json", static_cast<unsigned long long>(first));
  testing::writeFile(dir.path() / "findings" / name, "{not json");
  uint64_t unreadable = 0;
  auto record = outbox.next("a", unreadable);
  ASSERT_TRUE(record.ok() && record->has_value());
  EXPECT_EQ((*record)->key, "k2");
  EXPECT_EQ(unreadable, 1u);
}

TEST(FindingsOutbox, OneProcessAtATimeAndAStoppedOnesOutboxCanBeTakenOver) {
  testing::TempDir dir;
  auto first = std::make_unique<FindingsOutbox>(dir.path(), std::vector<std::string>{"a"}, 100);
  add(*first, "k1");
  EXPECT_THROW(FindingsOutbox(dir.path(), {"a"}, 100), std::runtime_error) << "another's outbox";
  EXPECT_EQ(FindingsOutbox::tryAdopt(dir.path(), {"a"}, 100), nullptr) << "its owner is alive";
  first.reset();  // the replica stopped: its lock is gone with it
  auto adopted = FindingsOutbox::tryAdopt(dir.path(), {"a"}, 100);
  ASSERT_NE(adopted, nullptr);
  EXPECT_EQ(adopted->pendingForAny(), 1u);
  EXPECT_EQ(nextKey(*adopted, "a"), "k1");
  testing::TempDir empty;
  EXPECT_EQ(FindingsOutbox::tryAdopt(empty.path() / "nothing", {"a"}, 100), nullptr);
}

TEST(FindingsOutbox, ARejectedFindingIsKeptAsideAndTheSinkGoesOn) {
  testing::TempDir dir;
  FindingsOutbox outbox(dir.path(), {"a"}, 100);
  uint64_t first = add(outbox, "k1");
  add(outbox, "k2");
  ASSERT_TRUE(outbox.rejected("a", first).ok());
  EXPECT_EQ(nextKey(outbox, "a"), "k2");
  auto kept = dir.path() / "rejected" / "a";
  ASSERT_EQ(std::distance(fs::directory_iterator(kept), {}), 1);
  EXPECT_NE(testing::readFile(fs::directory_iterator(kept)->path()).find("\"k1\""), std::string::npos);
}

TEST(FindingsOutbox, ANewSinkGetsWhatIsStillInTheOutbox) {
  testing::TempDir dir;
  {
    FindingsOutbox outbox(dir.path(), {"a"}, 100);
    add(outbox, "k1");
  }
  FindingsOutbox more(dir.path(), {"a", "b"}, 100);
  EXPECT_EQ(nextKey(more, "b"), "k1");
  auto oldest = more.oldestPendingMillis("b");
  ASSERT_TRUE(oldest.has_value());
  EXPECT_EQ(*oldest, 1000);
}

}  // namespace
}  // namespace podmortem::controller
