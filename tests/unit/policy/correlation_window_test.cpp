#include "podmortem/policy/correlation_window.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "test_support.h"

namespace podmortem::policy {
namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;
using Clock = std::chrono::system_clock;
using AddResult = CorrelationWindow::AddResult;

const Clock::time_point kEpoch =
    Clock::time_point(std::chrono::sys_days(std::chrono::year_month_day(
        std::chrono::year(2024), std::chrono::month(3), std::chrono::day(1))));

Clock::time_point at(seconds offset) {
  return kEpoch + offset;
}

int64_t micros(Clock::time_point time) {
  return std::chrono::duration_cast<std::chrono::microseconds>(time.time_since_epoch()).count();
}

// The labels of events, in the order returned; each raw event carries its label.
std::vector<std::string> labelsOf(const std::vector<std::string>& rawEvents) {
  std::vector<std::string> labels;
  for (const auto& raw : rawEvents) {
    constexpr std::string_view kKey = "\"label\":\"";
    auto start = raw.find(kKey) + kKey.size();
    labels.push_back(raw.substr(start, raw.find('"', start) - start));
  }
  return labels;
}

class CorrelationWindowTest : public ::testing::Test {
 protected:
  struct Spec {
    std::string label;
    seconds time{0};
    std::string verb = "get";
    std::string user = "alice";
    std::string resource = "pods";
    std::string namespaceName = "shop";
    std::string name = "web-0";
    std::string subResource;
    std::string impersonatedUser;
    std::string sourceIp = "10.0.0.1";
    std::string stage = "ResponseComplete";
    std::string auditId;  // a fresh UUID when empty
  };

  AuditEvent event(Spec spec) {
    AuditEvent e;
    if (spec.auditId.empty()) {
      char id[40];
      std::snprintf(id, sizeof id, "6f1e2d3c-0000-4000-8000-%012x", ++nextId_);
      spec.auditId = id;
    }
    e.auditId = spec.auditId;
    e.stage = spec.stage;
    e.verb = spec.verb;
    e.userName = spec.user;
    e.impersonatedUserName = spec.impersonatedUser;
    e.sourceIp = spec.sourceIp;
    e.resource = spec.resource;
    e.subResource = spec.subResource;
    e.namespaceName = spec.namespaceName;
    e.name = spec.name;
    e.timeMicros = micros(at(spec.time));
    e.raw = "{\"label\":\"" + spec.label + "\",\"auditID\":\"" + spec.auditId + "\",\"stage\":\"" +
            spec.stage + "\",\"verb\":\"" + spec.verb + "\"}\n";
    return e;
  }

  static CorrelationWindow::Options options(size_t maxEvents = 1000,
                                            seconds window = seconds(600)) {
    CorrelationWindow::Options o;
    o.window = window;
    o.maxEvents = maxEvents;
    return o;
  }

  unsigned nextId_ = 0;
};

TEST_F(CorrelationWindowTest, SameAuditIdAndStageIsIndexedOnce) {
  CorrelationWindow window(options());
  auto first = event({.label = "first", .time = seconds(1)});
  auto retry = first;
  auto otherStage = first;
  otherStage.stage = "ResponseStarted";
  EXPECT_EQ(window.add(first, at(seconds(1))), AddResult::kIndexed);
  EXPECT_EQ(window.add(retry, at(seconds(2))), AddResult::kDuplicate);
  EXPECT_EQ(window.add(otherStage, at(seconds(2))), AddResult::kIndexed);
  EXPECT_EQ(window.size(), 2u);
  EXPECT_EQ(window.trailForPod("shop", "web-0", at(seconds(0))).rawEvents.size(), 2u);
}

TEST_F(CorrelationWindowTest, NonUuidAuditIdsAreDeduplicatedToo) {
  CorrelationWindow window(options());
  auto first = event({.label = "a", .time = seconds(1), .auditId = "not-a-uuid"});
  auto upperCase =
      event({.label = "b", .time = seconds(1), .auditId = "6F1E2D3C-0000-4000-8000-000000000001"});
  auto lowerCase =
      event({.label = "c", .time = seconds(1), .auditId = "6f1e2d3c-0000-4000-8000-000000000001"});
  EXPECT_EQ(window.add(first, at(seconds(1))), AddResult::kIndexed);
  EXPECT_EQ(window.add(first, at(seconds(1))), AddResult::kDuplicate);
  // IDs are compared as sent: an upper-case spelling is another ID.
  EXPECT_EQ(window.add(upperCase, at(seconds(1))), AddResult::kIndexed);
  EXPECT_EQ(window.add(lowerCase, at(seconds(1))), AddResult::kIndexed);
  EXPECT_EQ(window.add(lowerCase, at(seconds(1))), AddResult::kDuplicate);
  // UUID-shaped up to its last character.
  auto almostUuid =
      event({.label = "d", .time = seconds(1), .auditId = "6f1e2d3c-0000-4000-8000-00000000000g"});
  EXPECT_EQ(window.add(almostUuid, at(seconds(1))), AddResult::kIndexed);
  EXPECT_EQ(window.add(almostUuid, at(seconds(1))), AddResult::kDuplicate);
  EXPECT_EQ(window.size(), 4u);
}

TEST_F(CorrelationWindowTest, EventsWithoutAuditIdAreNeverDuplicates) {
  CorrelationWindow window(options());
  auto noId = event({.label = "a", .time = seconds(1)});
  noId.auditId.clear();
  EXPECT_EQ(window.add(noId, at(seconds(1))), AddResult::kIndexed);
  EXPECT_EQ(window.add(noId, at(seconds(1))), AddResult::kIndexed);
  EXPECT_EQ(window.size(), 2u);
}

TEST_F(CorrelationWindowTest, EventsOlderThanTheWindowAreDroppedOnExpireAndOnAdd) {
  CorrelationWindow window(options(1000, seconds(60)));
  window.add(event({.label = "old", .time = seconds(0)}), at(seconds(0)));
  window.add(event({.label = "mid", .time = seconds(30)}), at(seconds(30)));
  EXPECT_EQ(window.size(), 2u);

  window.expire(at(seconds(61)));
  EXPECT_EQ(window.size(), 1u);
  EXPECT_EQ(window.evictions(), 1u);

  window.add(event({.label = "new", .time = seconds(100)}), at(seconds(100)));
  EXPECT_EQ(window.size(), 1u);
  EXPECT_EQ(window.evictions(), 2u);
  EXPECT_EQ(labelsOf(window.trailForPod("shop", "web-0", at(seconds(0))).rawEvents),
            (std::vector<std::string>{"new"}));

  // Arriving already too old, an event does not stay.
  window.add(event({.label = "late", .time = seconds(10)}), at(seconds(100)));
  EXPECT_EQ(window.size(), 1u);
  EXPECT_EQ(window.evictions(), 3u);
}

TEST_F(CorrelationWindowTest, ADuplicateIsIndexedAgainOnceTheFirstCopyLeftTheWindow) {
  CorrelationWindow window(options(1000, seconds(60)));
  auto first = event({.label = "a", .time = seconds(0)});
  auto again = first;
  again.timeMicros = micros(at(seconds(120)));
  window.add(first, at(seconds(0)));
  EXPECT_EQ(window.add(again, at(seconds(120))), AddResult::kIndexed);
  EXPECT_EQ(window.size(), 1u);
}

TEST_F(CorrelationWindowTest, CountLimitEvictsOldestFirstAndCountsEvictions) {
  CorrelationWindow window(options(3));
  for (int second : {5, 1, 4, 2, 3})
    window.add(event({.label = "t" + std::to_string(second), .time = seconds(second)}),
               at(seconds(5)));
  EXPECT_EQ(window.size(), 3u);
  EXPECT_EQ(window.evictions(), 2u);
  // By event time, not by arrival: t1 and t2 were the oldest, though t5 arrived first.
  EXPECT_EQ(labelsOf(window.trailForPod("shop", "web-0", at(seconds(0))).rawEvents),
            (std::vector<std::string>{"t3", "t4", "t5"}));
}

TEST_F(CorrelationWindowTest, TrailHasPodSubresourcesAndTheActingUsersOtherEvents) {
  CorrelationWindow window(options());
  auto now = at(seconds(100));
  window.add(event({.label = "alice-get", .time = seconds(10)}), now);
  window.add(
      event({.label = "alice-exec", .time = seconds(20), .verb = "create", .subResource = "exec"}),
      now);
  window.add(event({.label = "bob-logs", .time = seconds(25), .user = "bob", .subResource = "log"}),
             now);
  window.add(event({.label = "alice-secrets",
                    .time = seconds(30),
                    .verb = "list",
                    .resource = "secrets",
                    .name = ""}),
             now);
  window.add(event({.label = "alice-other-pod", .time = seconds(40), .name = "db-0"}), now);
  window.add(event({.label = "bob-elsewhere",
                    .time = seconds(50),
                    .user = "bob",
                    .resource = "configmaps",
                    .name = "settings"}),
             now);
  window.add(
      event({.label = "carol-other-pod", .time = seconds(60), .user = "carol", .name = "db-0"}),
      now);
  window.add(event({.label = "web-0-elsewhere",
                    .time = seconds(70),
                    .user = "dave",
                    .namespaceName = "staging"}),
             now);

  auto trail = window.trailForPod("shop", "web-0", at(seconds(0)));
  EXPECT_EQ(labelsOf(trail.rawEvents),
            (std::vector<std::string>{"alice-get", "alice-exec", "bob-logs", "alice-secrets",
                                      "alice-other-pod", "bob-elsewhere"}));
  EXPECT_EQ(trail.podEvents, 3u);
  EXPECT_EQ(trail.userEvents, 3u);
  EXPECT_EQ(trail.windowStartMicros, micros(at(seconds(0))));
  EXPECT_EQ(trail.windowEndMicros, micros(at(seconds(50))));
}

TEST_F(CorrelationWindowTest, TrailStartsAtSince) {
  CorrelationWindow window(options());
  auto now = at(seconds(100));
  window.add(event({.label = "early-pod", .time = seconds(10)}), now);
  window.add(event({.label = "early-user", .time = seconds(15), .resource = "secrets", .name = ""}),
             now);
  window.add(event({.label = "late-pod", .time = seconds(30), .user = "bob"}), now);
  window.add(event({.label = "late-user", .time = seconds(40), .resource = "secrets", .name = ""}),
             now);

  auto trail = window.trailForPod("shop", "web-0", at(seconds(20)));
  // alice acted on the pod only before `since`, so her later events are not part of it.
  EXPECT_EQ(labelsOf(trail.rawEvents), (std::vector<std::string>{"late-pod"}));
  EXPECT_EQ(trail.windowStartMicros, micros(at(seconds(20))));
}

TEST_F(CorrelationWindowTest, TrailOfAnUnknownPodIsEmpty) {
  CorrelationWindow window(options());
  window.add(event({.label = "a", .time = seconds(10)}), at(seconds(10)));
  auto trail = window.trailForPod("shop", "web-9", at(seconds(0)));
  EXPECT_TRUE(trail.rawEvents.empty());
  EXPECT_EQ(trail.podEvents + trail.userEvents, 0u);
  EXPECT_GE(trail.windowEndMicros, trail.windowStartMicros);
}

TEST_F(CorrelationWindowTest, ImpersonationLinksBothUsers) {
  CorrelationWindow window(options());
  auto now = at(seconds(100));
  window.add(event({.label = "admin-as-alice-exec",
                    .time = seconds(10),
                    .verb = "get",
                    .user = "admin",
                    .subResource = "exec",
                    .impersonatedUser = "alice"}),
             now);
  window.add(event({.label = "alice-secrets",
                    .time = seconds(20),
                    .resource = "secrets",
                    .name = "db-password"}),
             now);
  window.add(event({.label = "admin-nodes",
                    .time = seconds(30),
                    .user = "admin",
                    .resource = "nodes",
                    .namespaceName = "",
                    .name = "node-1"}),
             now);
  window.add(
      event({.label = "bob-secrets", .time = seconds(40), .user = "bob", .resource = "secrets"}),
      now);

  auto trail = window.trailForPod("shop", "web-0", at(seconds(0)));
  EXPECT_EQ(labelsOf(trail.rawEvents),
            (std::vector<std::string>{"admin-as-alice-exec", "alice-secrets", "admin-nodes"}));
  EXPECT_EQ(trail.podEvents, 1u);
  EXPECT_EQ(trail.userEvents, 2u);
  EXPECT_EQ(labelsOf(window.eventsForUser("alice", at(seconds(0)))),
            (std::vector<std::string>{"admin-as-alice-exec", "alice-secrets"}));
  EXPECT_EQ(labelsOf(window.eventsForUser("admin", at(seconds(0)))),
            (std::vector<std::string>{"admin-as-alice-exec", "admin-nodes"}));
}

TEST_F(CorrelationWindowTest, EventsComeBackInTimeOrderWhenTheyArriveOutOfOrder) {
  CorrelationWindow window(options());
  auto now = at(seconds(100));
  // Two batches from two API servers, interleaved; "tie-1" and "tie-2" share a timestamp.
  window.add(event({.label = "t10", .time = seconds(10)}), now);
  window.add(event({.label = "t30", .time = seconds(30)}), now);
  window.add(event({.label = "tie-1", .time = seconds(20)}), now);
  window.add(event({.label = "t5", .time = seconds(5), .resource = "secrets", .name = ""}), now);
  window.add(event({.label = "tie-2", .time = seconds(20)}), now);

  auto trail = window.trailForPod("shop", "web-0", at(seconds(0)));
  EXPECT_EQ(labelsOf(trail.rawEvents),
            (std::vector<std::string>{"t5", "t10", "tie-1", "tie-2", "t30"}));
  EXPECT_EQ(labelsOf(window.eventsForUser("alice", at(seconds(0)))),
            (std::vector<std::string>{"t5", "t10", "tie-1", "tie-2", "t30"}));
  EXPECT_EQ(trail.windowEndMicros, micros(at(seconds(30))));
}

TEST_F(CorrelationWindowTest, EventsForSourceIpAreThatAddressOnly) {
  CorrelationWindow window(options());
  auto now = at(seconds(100));
  window.add(event({.label = "a", .time = seconds(10), .sourceIp = "10.0.0.7"}), now);
  window.add(event({.label = "b", .time = seconds(20), .sourceIp = "10.0.0.8"}), now);
  window.add(event({.label = "c", .time = seconds(30), .user = "bob", .sourceIp = "10.0.0.7"}),
             now);
  EXPECT_EQ(labelsOf(window.eventsForSourceIp("10.0.0.7", at(seconds(0)))),
            (std::vector<std::string>{"a", "c"}));
  EXPECT_EQ(labelsOf(window.eventsForSourceIp("10.0.0.7", at(seconds(15)))),
            (std::vector<std::string>{"c"}));
  EXPECT_TRUE(window.eventsForSourceIp("10.9.9.9", at(seconds(0))).empty());
  EXPECT_TRUE(window.eventsForUser("nobody", at(seconds(0))).empty());
}

TEST_F(CorrelationWindowTest, HasActivityFindsExecByGetOrCreateOnThatPodInsideTheWindow) {
  CorrelationWindow window(options());
  AuditRequirement exec{{"get", "create"}, {"pods/exec"}};
  auto now = at(seconds(100));
  window.add(event({.label = "ws-exec", .time = seconds(10), .verb = "get", .subResource = "exec"}),
             now);
  window.add(event({.label = "spdy-exec",
                    .time = seconds(50),
                    .verb = "create",
                    .name = "api-0",
                    .subResource = "exec"}),
             now);
  window.add(event({.label = "plain-get", .time = seconds(60), .name = "db-0"}), now);

  EXPECT_TRUE(window.hasActivity("shop", "web-0", exec, at(seconds(5))));
  EXPECT_TRUE(window.hasActivity("shop", "api-0", exec, at(seconds(5))));
  EXPECT_FALSE(window.hasActivity("shop", "db-0", exec, at(seconds(5))));
  EXPECT_FALSE(window.hasActivity("staging", "web-0", exec, at(seconds(5))));
  // The exec on web-0 happened before `since`.
  EXPECT_FALSE(window.hasActivity("shop", "web-0", exec, at(seconds(11))));
  AuditRequirement deletes{{"delete"}, {"pods/exec"}};
  EXPECT_FALSE(window.hasActivity("shop", "api-0", deletes, at(seconds(5))));
}

// Appends are written to the segment a megabyte at a time: events still in the write buffer
// and events already in the file read back alike, and the file holds exactly what was written.
TEST_F(CorrelationWindowTest, BufferedAndWrittenSpoolEventsReadBackAlike) {
  testing::TempDir dir;
  auto o = options(10'000);
  o.spoolDir = (dir.path() / "spool").string();
  o.window = std::chrono::hours(10);  // keep all 1500 (they are a second apart)
  CorrelationWindow window(o);
  std::vector<std::string> expected;
  for (int i = 0; i < 1500; ++i) {  // 1500 x ~1 KB: past one buffer, short of two
    auto e = event({.label = "e" + std::to_string(i), .time = seconds(i)});
    e.raw += std::string(1000, static_cast<char>('a' + i % 26));
    expected.push_back(e.raw);
    window.add(std::move(e), at(seconds(i)));
  }
  auto trail = window.trailForPod("shop", "web-0", at(seconds(0))).rawEvents;
  ASSERT_EQ(trail.size(), expected.size());
  EXPECT_TRUE(trail == expected) << "every event byte for byte, in order";
  uintmax_t onDisk = 0;
  for (const auto& file : fs::directory_iterator(o.spoolDir)) onDisk += fs::file_size(file.path());
  EXPECT_GE(onDisk, uintmax_t{1} << 20) << "a full buffer was written";
  EXPECT_LT(onDisk, uintmax_t{1500} * 1000) << "the rest is still buffered";
}

TEST_F(CorrelationWindowTest, SpooledEventsReadBackByteForByte) {
  testing::TempDir dir;
  auto o = options();
  o.spoolDir = (dir.path() / "spool").string();
  o.segmentBytes = 300;  // several segments
  CorrelationWindow window(o);

  std::vector<std::string> expected;
  for (int i = 0; i < 20; ++i) {
    auto e = event({.label = "e" + std::to_string(i), .time = seconds(i)});
    // Bytes a decoder would never produce, to show nothing is re-encoded on the way.
    e.raw += std::string("\0\xff\r\n\"\\ \xe2\x82\xac", 10) +
             std::string(static_cast<size_t>(i * 7), 'x');
    expected.push_back(e.raw);
    window.add(std::move(e), at(seconds(i)));
  }
  auto trail = window.trailForPod("shop", "web-0", at(seconds(0)));
  EXPECT_EQ(trail.rawEvents, expected);
  EXPECT_EQ(window.eventsForUser("alice", at(seconds(0))), expected);

  struct stat info {};
  ASSERT_EQ(::stat(o.spoolDir.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0700u);
  size_t segments = 0;
  for (const auto& file : fs::directory_iterator(o.spoolDir)) {
    ++segments;
    ASSERT_EQ(::stat(file.path().c_str(), &info), 0);
    EXPECT_EQ(info.st_mode & 0777, 0600u) << file.path();
  }
  EXPECT_GT(segments, 1u);
}

TEST_F(CorrelationWindowTest, SpoolSegmentsAreDeletedOnceTheirEventsAreEvicted) {
  testing::TempDir dir;
  auto o = options(4);
  o.spoolDir = (dir.path() / "spool").string();
  o.segmentBytes = 1;  // one event per segment
  CorrelationWindow window(o);
  auto segmentFiles = [&] {
    return std::distance(fs::directory_iterator(o.spoolDir), fs::directory_iterator());
  };
  for (int i = 0; i < 10; ++i)
    window.add(event({.label = "e" + std::to_string(i), .time = seconds(i)}), at(seconds(i)));
  EXPECT_EQ(window.size(), 4u);
  EXPECT_EQ(segmentFiles(), 4);
  EXPECT_EQ(labelsOf(window.trailForPod("shop", "web-0", at(seconds(0))).rawEvents),
            (std::vector<std::string>{"e6", "e7", "e8", "e9"}));

  window.expire(at(seconds(10 + 600)));
  EXPECT_EQ(window.size(), 0u);
  // The segment being appended to may stay, empty, for the next event.
  EXPECT_LE(segmentFiles(), 1);
}

TEST_F(CorrelationWindowTest, SegmentsOfAnEarlierProcessAreDeletedAtStart) {
  testing::TempDir dir;
  fs::path spool = dir.path() / "spool";
  fs::create_directory(spool);
  fs::permissions(spool, fs::perms::owner_all, fs::perm_options::replace);
  testing::writeFile(spool / "audit-0000002a.seg", "stale sensitive bytes");
  testing::writeFile(spool / "README", "not ours");
  auto o = options();
  o.spoolDir = spool.string();
  CorrelationWindow window(o);
  EXPECT_FALSE(fs::exists(spool / "audit-0000002a.seg"));
  EXPECT_TRUE(fs::exists(spool / "README"));
}

TEST_F(CorrelationWindowTest, WriterAndReadersTogetherSeeConsistentTrails) {
  testing::TempDir dir;
  auto o = options(500);
  o.spoolDir = (dir.path() / "spool").string();
  o.segmentBytes = 4096;  // segments come and go while readers read
  CorrelationWindow window(o);
  constexpr int kEvents = 3000;
  std::vector<AuditEvent> events;
  for (int i = 0; i < kEvents; ++i) {
    bool pod = i % 2 == 0;
    events.push_back(event({.label = std::to_string(100000 + i),
                            .time = seconds(i),
                            .verb = i % 10 == 0 ? "create" : "get",
                            .resource = pod ? "pods" : "secrets",
                            .subResource = i % 10 == 0 ? "exec" : ""}));
  }

  std::atomic<bool> done{false};
  std::atomic<int> inconsistencies{0};
  auto reader = [&] {
    AuditRequirement exec{{"create"}, {"pods/exec"}};
    while (!done.load()) {
      auto trail = window.trailForPod("shop", "web-0", kEpoch);
      auto labels = labelsOf(trail.rawEvents);
      if (!std::is_sorted(labels.begin(), labels.end()) ||
          trail.podEvents + trail.userEvents != labels.size() || labels.size() > 500)
        ++inconsistencies;
      window.hasActivity("shop", "web-0", exec, kEpoch);
      window.eventsForSourceIp("10.0.0.1", kEpoch);
      (void)window.size();
    }
  };
  std::vector<std::thread> readers;
  for (int i = 0; i < 3; ++i)
    readers.emplace_back(reader);
  std::thread writer([&] {
    for (int i = 0; i < kEvents; ++i)
      window.add(std::move(events[static_cast<size_t>(i)]), at(seconds(i)));
    done = true;
  });
  writer.join();
  for (auto& r : readers)
    r.join();

  EXPECT_EQ(inconsistencies.load(), 0);
  EXPECT_EQ(window.size(), 500u);
  EXPECT_EQ(window.evictions(), static_cast<uint64_t>(kEvents - 500));
  auto trail = window.trailForPod("shop", "web-0", kEpoch);
  ASSERT_EQ(trail.rawEvents.size(), 500u);
  EXPECT_EQ(labelsOf(trail.rawEvents).front(), std::to_string(100000 + kEvents - 500));
  EXPECT_TRUE(window.hasActivity("shop", "web-0", {{"create"}, {"pods/exec"}}, kEpoch));
}

}  // namespace
}  // namespace podmortem::policy
