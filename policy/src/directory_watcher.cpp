#include "podmortem/policy/directory_watcher.h"

#include <algorithm>
#include <exception>
#include <filesystem>
#include <system_error>
#include <utility>

#include "podmortem/core/log.h"
#include "podmortem/policy/directory_loader.h"

namespace podmortem::policy {

namespace fs = std::filesystem;

PolicyDirectoryWatcher::PolicyDirectoryWatcher(std::string dir, PolicyStore& store,
                                               std::chrono::milliseconds interval)
    : dir_(std::move(dir)),
      store_(store),
      interval_(interval),
      worker_("policy folder " + dir_, interval_, [this](std::stop_token) { pollOrLog(); }) {}

PolicyDirectoryWatcher::~PolicyDirectoryWatcher() {
  stop();
}

std::optional<std::vector<PolicyDirectoryWatcher::FileStamp>> PolicyDirectoryWatcher::scan() const {
  std::error_code error;
  fs::directory_iterator it(dir_, error);
  if (error)
    return std::nullopt;
  std::vector<FileStamp> stamps;
  for (; it != fs::directory_iterator(); it.increment(error)) {
    std::string name = it->path().filename().string();
    if (!isPolicyFileName(name))
      continue;
    // status/file_size/last_write_time follow symlinks: a ConfigMap update swaps the target,
    // and the target's size or mtime is what changes.
    FileStamp stamp;
    stamp.name = std::move(name);
    std::error_code statError;
    stamp.size = fs::file_size(it->path(), statError);
    if (statError)
      stamp.size = static_cast<uintmax_t>(-1);
    auto mtime = fs::last_write_time(it->path(), statError);
    stamp.mtime = statError ? -1 : static_cast<int64_t>(mtime.time_since_epoch().count());
    stamps.push_back(std::move(stamp));
  }
  if (error)
    return std::nullopt;
  std::sort(stamps.begin(), stamps.end(),
            [](const FileStamp& a, const FileStamp& b) { return a.name < b.name; });
  return stamps;
}

bool PolicyDirectoryWatcher::pollOnce() {
  std::lock_guard lock(pollMutex_);
  // Scanned before loading: a file that changes during the load changes the next scan too,
  // so the change is picked up on the next poll rather than lost.
  auto stamps = scan();
  if (polled_ && stamps == lastScan_)
    return false;

  LoadResult result = loadPolicyDirectory(dir_);
  for (const auto& problem : result.problems) {
    core::log::warn("policy problem", {{"source", problem.source},
                                       {"policy", problem.policyName},
                                       {"field", problem.fieldPath},
                                       {"line", problem.line},
                                       {"reason", problem.reason}});
  }
  size_t valid = result.policies.size();
  size_t invalid = result.rejected;
  size_t problems = result.problems.size();
  store_.replace(std::move(result));
  core::log::info("policies loaded", {{"dir", dir_},
                                      {"valid", static_cast<uint64_t>(valid)},
                                      {"invalid", static_cast<uint64_t>(invalid)},
                                      {"problems", static_cast<uint64_t>(problems)},
                                      {"generation", store_.generation()}});
  polled_ = true;
  lastScan_ = std::move(stamps);
  return true;
}

void PolicyDirectoryWatcher::start() { worker_.start(); }

void PolicyDirectoryWatcher::stop() { worker_.stop(); }

void PolicyDirectoryWatcher::pollOrLog() {
  try {
    pollOnce();
  } catch (const std::exception& e) {
    // Loading is exception-free for bad input; this is the environment (memory, threads).
    // Keep the last good policies and try again next interval.
    core::log::error("policy reload failed", {{"dir", dir_}, {"error", e.what()}});
  }
}

}  // namespace podmortem::policy
