#include "podmortem/core/periodic_worker.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <stdexcept>

namespace podmortem::core {
namespace {

using namespace std::chrono_literals;

// Counts ticks and lets the test wait for the n-th one without sleeping.
class TickCounter {
 public:
  void tick() {
    {
      std::lock_guard lock(mutex_);
      ++ticks_;
    }
    changed_.notify_all();
  }
  bool waitFor(int ticks) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, 10s, [&] { return ticks_ >= ticks; });
  }
  int ticks() {
    std::lock_guard lock(mutex_);
    return ticks_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int ticks_ = 0;
};

TEST(PeriodicWorker, TicksAtOnceThenAgainWhenWoken) {
  TickCounter counter;
  PeriodicWorker worker("test", 1h, [&](std::stop_token) { counter.tick(); });
  worker.start();
  ASSERT_TRUE(counter.waitFor(1));
  worker.wake();
  ASSERT_TRUE(counter.waitFor(2));
  worker.stop();
  EXPECT_EQ(counter.ticks(), 2);
}

TEST(PeriodicWorker, FirstTickAfterIntervalWaitsForAWake) {
  TickCounter counter;
  PeriodicWorker worker("test", 1h, [&](std::stop_token) { counter.tick(); });
  worker.start(PeriodicWorker::FirstTick::kAfterInterval);
  worker.wake();
  ASSERT_TRUE(counter.waitFor(1));
  worker.stop();
  EXPECT_EQ(counter.ticks(), 1);
}

TEST(PeriodicWorker, StopThenStartRunsAgain) {
  TickCounter counter;
  PeriodicWorker worker("test", 1h, [&](std::stop_token) { counter.tick(); });
  worker.start();
  ASSERT_TRUE(counter.waitFor(1));
  worker.stop();
  EXPECT_FALSE(worker.running());
  worker.start();
  EXPECT_TRUE(worker.running());
  ASSERT_TRUE(counter.waitFor(2));
}

TEST(PeriodicWorker, StopReachesATickThatSleeps) {
  std::atomic<int> sleepResult{-1};
  TickCounter entered;
  PeriodicWorker* self = nullptr;
  PeriodicWorker worker("test", 1h, [&](std::stop_token stop) {
    entered.tick();
    sleepResult = self->sleepFor(stop, 1h) ? 1 : 0;
  });
  self = &worker;
  worker.start();
  ASSERT_TRUE(entered.waitFor(1));
  worker.stop();  // would take an hour if the stop did not reach sleepFor
  EXPECT_EQ(sleepResult.load(), 0);
}

TEST(PeriodicWorker, ATickThatThrowsDoesNotEndTheWorker) {
  TickCounter counter;
  PeriodicWorker worker("test", 1h, [&](std::stop_token) {
    counter.tick();
    throw std::runtime_error("boom");
  });
  worker.start();
  ASSERT_TRUE(counter.waitFor(1));
  worker.wake();
  ASSERT_TRUE(counter.waitFor(2));
}

TEST(PeriodicWorker, StopWithoutStartAndTwiceIsHarmless) {
  PeriodicWorker worker("test", 1h, [](std::stop_token) {});
  worker.stop();
  worker.start();
  worker.stop();
  worker.stop();
  EXPECT_FALSE(worker.running());
}

}  // namespace
}  // namespace podmortem::core
