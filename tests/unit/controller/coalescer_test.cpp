// One piece of work per key: later callers wait for it or get what it gave, for a while.
#include "coalescer.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace podmortem::controller {
namespace {

using namespace std::chrono_literals;

struct Answers {
  std::vector<std::string> got;
  Coalescer<std::string>::Callback add() {
    return [this](const std::string& outcome) { got.push_back(outcome); };
  }
};

std::function<std::string()> ids(int& made) {
  return [&made] { return "id-" + std::to_string(++made); };
}

TEST(Coalescer, TheFirstCallerStartsAndCallersWhileItRunsWaitForTheSameOutcome) {
  Coalescer<std::string> work(1h, 100);
  Answers answers;
  int made = 0;
  auto first = work.join("pod|policy", ids(made), answers.add());
  auto second = work.join("pod|policy", ids(made), answers.add());
  EXPECT_TRUE(first.started);
  EXPECT_FALSE(second.started);
  EXPECT_FALSE(second.finished);
  EXPECT_EQ(first.id, "id-1");
  EXPECT_EQ(second.id, "id-1") << "one id for the key";
  EXPECT_EQ(made, 1) << "an id is made only for work that starts";
  EXPECT_TRUE(answers.got.empty());

  work.finish("pod|policy", "sealed");
  EXPECT_EQ(answers.got, (std::vector<std::string>{"sealed", "sealed"}));
  work.finish("pod|policy", "again");
  EXPECT_EQ(answers.got.size(), 2u) << "a second finish answers nobody";
}

TEST(Coalescer, ALaterCallerGetsWhatWasRememberedAndIsNotKept) {
  Coalescer<std::string> work(1h, 100);
  Answers answers;
  int made = 0;
  work.join("k", ids(made), answers.add());
  work.finish("k", "the whole outcome", "its short form");
  auto late = work.join("k", ids(made), answers.add());
  EXPECT_FALSE(late.started);
  EXPECT_TRUE(late.finished);
  EXPECT_EQ(late.id, "id-1");
  EXPECT_EQ(late.outcome, "its short form");
  EXPECT_EQ(answers.got, (std::vector<std::string>{"the whole outcome"}))
      << "the late caller answers itself, from `outcome`";
}

TEST(Coalescer, FinishedKeysAreForgottenPastTheHorizonOrTheCountButRunningOnesStay) {
  Coalescer<std::string> byCount(1h, 2);
  int made = 0;
  byCount.join("running", ids(made), [](const std::string&) {});
  for (const char* key : {"a", "b", "c"}) {
    byCount.join(key, ids(made), [](const std::string&) {});
    byCount.finish(key, "done");
  }
  byCount.join("d", ids(made), [](const std::string&) {});  // forgets the oldest finished first
  EXPECT_TRUE(byCount.join("a", ids(made), [](const std::string&) {}).started)
      << "the oldest finished key was forgotten";
  EXPECT_FALSE(byCount.join("running", ids(made), [](const std::string&) {}).started);

  Coalescer<std::string> byTime(0ms, 100);
  byTime.join("k", ids(made), [](const std::string&) {});
  byTime.finish("k", "done");
  EXPECT_TRUE(byTime.join("k", ids(made), [](const std::string&) {}).started)
      << "a horizon of zero remembers nothing finished";
  EXPECT_EQ(byTime.size(), 1u);
}

TEST(Coalescer, AbandonedWorkAnswersItsWaitersAndTheNextCallerStartsAgain) {
  Coalescer<std::string> work(1h, 100);
  Answers answers;
  int made = 0;
  work.join("k", ids(made), answers.add());
  work.join("k", ids(made), answers.add());
  work.abandon("k", "could not start");
  EXPECT_EQ(answers.got, (std::vector<std::string>{"could not start", "could not start"}));
  auto again = work.join("k", ids(made), answers.add());
  EXPECT_TRUE(again.started) << "a failure to start is not remembered";
  EXPECT_EQ(again.id, "id-2");
}

}  // namespace
}  // namespace podmortem::controller
