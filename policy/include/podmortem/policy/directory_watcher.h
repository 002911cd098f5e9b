#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "podmortem/core/periodic_worker.h"
#include "podmortem/policy/policy_store.h"

namespace podmortem::policy {

// Polls a policy folder and republishes into the store when a file was added, removed, or
// changed name, size or mtime. Polling rather than inotify: it also sees the symlink swap of a
// Kubernetes ConfigMap mount and works on any filesystem. Each reload logs one warning per
// problem and an info line with the counts.
class PolicyDirectoryWatcher {
 public:
  PolicyDirectoryWatcher(std::string dir, PolicyStore& store, std::chrono::milliseconds interval);
  ~PolicyDirectoryWatcher();  // stops and joins

  PolicyDirectoryWatcher(const PolicyDirectoryWatcher&) = delete;
  PolicyDirectoryWatcher& operator=(const PolicyDirectoryWatcher&) = delete;

  // Loads and publishes if the folder changed since the last publish (the first call always
  // publishes). Returns true when it published. Safe to call while the thread runs.
  bool pollOnce();

  void start();  // background thread calling pollOnce every interval; no-op when running
  void stop();   // prompt: wakes the thread instead of waiting out the interval

 private:
  struct FileStamp {
    std::string name;
    uintmax_t size = 0;
    int64_t mtime = 0;
    bool operator==(const FileStamp&) const = default;
  };
  // nullopt when the folder cannot be listed.
  std::optional<std::vector<FileStamp>> scan() const;
  void pollOrLog();
  const std::string dir_;
  PolicyStore& store_;
  const std::chrono::milliseconds interval_;

  std::mutex pollMutex_;  // one poll at a time
  bool polled_ = false;
  std::optional<std::vector<FileStamp>> lastScan_;

  core::PeriodicWorker worker_;  // last: its thread polls the state above
};

}  // namespace podmortem::policy
