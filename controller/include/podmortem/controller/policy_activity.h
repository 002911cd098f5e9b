#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace podmortem::controller {

// How often each policy fired on this replica: what the ForensicPolicy status reports. The
// counters only grow; the status writer adds what is new since its last write.
class PolicyActivity {
 public:
  struct Counts {
    uint64_t matches = 0;
    uint64_t snapshots = 0;
    std::chrono::system_clock::time_point lastTrigger{};
  };

  void matched(const std::string& policy, bool snapshot) {
    std::lock_guard lock(mutex_);
    auto& counts = counts_[policy];
    ++counts.matches;
    if (snapshot) ++counts.snapshots;
    counts.lastTrigger = std::chrono::system_clock::now();
  }

  Counts of(const std::string& policy) const {
    std::lock_guard lock(mutex_);
    auto it = counts_.find(policy);
    return it == counts_.end() ? Counts{} : it->second;
  }

 private:
  mutable std::mutex mutex_;
  std::map<std::string, Counts> counts_;
};

}  // namespace podmortem::controller
