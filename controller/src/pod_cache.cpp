#include "podmortem/controller/pod_cache.h"

namespace podmortem::controller {

namespace {
std::string keyOf(std::string_view namespaceName, std::string_view name) {
  std::string key(namespaceName);
  key += '/';
  key += name;
  return key;
}
}  // namespace

void PodCache::remember(policy::PodRecord pod) {
  // Whoever finds it later is served what an earlier request carried.
  pod.source = "earlier admission request";
  std::string key = keyOf(pod.identity.namespaceName, pod.identity.name);
  auto entry = std::make_shared<const policy::PodRecord>(std::move(pod));
  std::lock_guard lock(mutex_);
  auto [it, inserted] = entries_.insert_or_assign(key, std::move(entry));
  if (inserted) order_.push_back(key);
  while (entries_.size() > capacity_ && !order_.empty()) {
    entries_.erase(order_.front());
    order_.pop_front();
  }
}

std::shared_ptr<const policy::PodRecord> PodCache::find(std::string_view namespaceName,
                                               std::string_view name) const {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(keyOf(namespaceName, name));
  return it == entries_.end() ? nullptr : it->second;
}

}  // namespace podmortem::controller
