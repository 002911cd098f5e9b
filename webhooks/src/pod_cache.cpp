#include "pod_cache.h"

namespace podmortem::webhooks {

namespace {
std::string keyOf(const std::string& namespaceName, const std::string& name) {
  return namespaceName + "/" + name;
}
}  // namespace

void PodCache::remember(PodSummary summary, std::string json) {
  std::string key = keyOf(summary.namespaceName, summary.name);
  auto entry = std::make_shared<const Entry>(Entry{std::move(summary), std::move(json)});
  std::lock_guard lock(mutex_);
  auto [it, inserted] = entries_.insert_or_assign(key, std::move(entry));
  if (inserted) order_.push_back(key);
  while (entries_.size() > capacity_ && !order_.empty()) {
    entries_.erase(order_.front());
    order_.pop_front();
  }
}

void PodCache::forget(const std::string& namespaceName, const std::string& name) {
  std::lock_guard lock(mutex_);
  // The key stays in order_ until it reaches the front; erase() of a missing key is harmless.
  entries_.erase(keyOf(namespaceName, name));
}

std::shared_ptr<const PodCache::Entry> PodCache::find(const std::string& namespaceName,
                                                      const std::string& name) const {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(keyOf(namespaceName, name));
  return it == entries_.end() ? nullptr : it->second;
}

}  // namespace podmortem::webhooks
