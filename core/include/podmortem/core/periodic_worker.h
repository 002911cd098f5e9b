#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>

namespace podmortem::core {

// A background thread that runs `tick` at once and then every `interval`, until stopped: the
// one loop behind the leader elector, the policy status writer, the webhook certificates, the
// policy folder watcher and the EvidenceSnapshot recorder. On std::jthread, so a stop reaches a
// tick that is waiting (sleepFor) at once, and stop() then start() really starts again.
//
// A tick that throws is logged and counted as done; the next one runs at the next interval.
class PeriodicWorker {
 public:
  using Tick = std::function<void(std::stop_token)>;

  PeriodicWorker(std::string name, std::chrono::milliseconds interval, Tick tick);
  ~PeriodicWorker();  // stop()
  PeriodicWorker(const PeriodicWorker&) = delete;
  PeriodicWorker& operator=(const PeriodicWorker&) = delete;

  enum class FirstTick { kAtOnce, kAfterInterval };
  // Starts the thread; does nothing while it runs. After stop(), starts a new one.
  void start(FirstTick first = FirstTick::kAtOnce);
  // Asks the running tick to stop, wakes it, and joins. Safe to call more than once.
  void stop();
  // Runs the next tick now instead of at the end of the interval (new work arrived).
  void wake();
  bool running() const;

  // For a tick that waits (a backoff between retries): returns after `duration`, or early with
  // false once a stop is requested. A wake() does not cut it short.
  bool sleepFor(std::stop_token stop, std::chrono::milliseconds duration);

 private:
  void run(std::stop_token stop, FirstTick first);

  const std::string name_;
  const std::chrono::milliseconds interval_;
  const Tick tick_;

  std::mutex mutex_;
  std::condition_variable_any wakeUp_;
  bool woken_ = false;

  mutable std::mutex threadMutex_;  // start() and stop() from different threads
  std::jthread thread_;
};

}  // namespace podmortem::core
