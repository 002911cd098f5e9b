#include "podmortem/core/periodic_worker.h"

#include <exception>

#include "podmortem/core/log.h"

namespace podmortem::core {

PeriodicWorker::PeriodicWorker(std::string name, std::chrono::milliseconds interval, Tick tick)
    : name_(std::move(name)), interval_(interval), tick_(std::move(tick)) {}

PeriodicWorker::~PeriodicWorker() { stop(); }

void PeriodicWorker::start(FirstTick first) {
  std::lock_guard lock(threadMutex_);
  if (thread_.joinable()) return;
  thread_ = std::jthread([this, first](std::stop_token stop) { run(stop, first); });
}

void PeriodicWorker::stop() {
  std::jthread thread;
  {
    std::lock_guard lock(threadMutex_);
    thread = std::move(thread_);
  }
  if (!thread.joinable()) return;
  thread.request_stop();  // wakes a wait on wakeUp_ through its stop token
  thread.join();
}

void PeriodicWorker::wake() {
  {
    std::lock_guard lock(mutex_);
    woken_ = true;
  }
  wakeUp_.notify_all();
}

bool PeriodicWorker::running() const {
  std::lock_guard lock(threadMutex_);
  return thread_.joinable();
}

bool PeriodicWorker::sleepFor(std::stop_token stop, std::chrono::milliseconds duration) {
  std::unique_lock lock(mutex_);
  return !wakeUp_.wait_for(lock, stop, duration, [] { return false; }) && !stop.stop_requested();
}

void PeriodicWorker::run(std::stop_token stop, FirstTick first) {
  if (first == FirstTick::kAfterInterval) {
    std::unique_lock lock(mutex_);
    wakeUp_.wait_for(lock, stop, interval_, [this] { return woken_; });
  }
  while (!stop.stop_requested()) {
    {
      std::lock_guard lock(mutex_);
      woken_ = false;  // a wake() from here on asks for one more tick
    }
    try {
      tick_(stop);
    } catch (const std::exception& error) {
      log::error("background work failed", {{"worker", name_}, {"error", error.what()}});
    }
    std::unique_lock lock(mutex_);
    wakeUp_.wait_for(lock, stop, interval_, [this] { return woken_; });
  }
}

}  // namespace podmortem::core
