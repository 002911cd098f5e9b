#pragma once

#include <algorithm>
#include <chrono>
#include <mutex>
#include <stop_token>
#include <thread>

namespace podmortem::kube::internal {

// A token bucket: `burst` calls at once, then `qps` per second, like client-go's default
// client-side limiter. acquire() blocks the calling (podmortem-owned) thread.
class RateLimiter {
 public:
  RateLimiter(double qps, double burst)
      : qps_(std::max(qps, 0.001)), burst_(std::max(burst, 1.0)), tokens_(burst_),
        last_(std::chrono::steady_clock::now()) {}

  // false when `stop` was requested while waiting.
  bool acquire(std::stop_token stop = {}) {
    std::chrono::steady_clock::duration wait;
    {
      std::lock_guard lock(mutex_);
      auto now = std::chrono::steady_clock::now();
      tokens_ = std::min(burst_, tokens_ + qps_ * std::chrono::duration<double>(now - last_).count());
      last_ = now;
      tokens_ -= 1.0;  // reserve now; a negative balance is the queue of waiting callers
      if (tokens_ >= 0) return true;
      wait = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
          std::chrono::duration<double>(-tokens_ / qps_));
    }
    auto until = std::chrono::steady_clock::now() + wait;
    while (std::chrono::steady_clock::now() < until) {
      if (stop.stop_requested()) return false;
      std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
          until - std::chrono::steady_clock::now(), std::chrono::milliseconds(50)));
    }
    return true;
  }

 private:
  const double qps_;
  const double burst_;
  std::mutex mutex_;
  double tokens_;
  std::chrono::steady_clock::time_point last_;
};

}  // namespace podmortem::kube::internal
