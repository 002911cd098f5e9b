#pragma once

#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "admission_review.h"

namespace podmortem::webhooks {

// Pods seen in earlier admission requests (CREATE/UPDATE pods, when the webhook is configured to
// receive them), so that an eviction or exec — whose request names the pod but does not carry
// it — can still be matched on labels and captured without a Kubernetes API. Bounded; the
// oldest entries go first.
class PodCache {
 public:
  struct Entry {
    PodSummary summary;
    std::string json;  // as the API server sent it
  };

  explicit PodCache(size_t capacity) : capacity_(capacity) {}

  void remember(PodSummary summary, std::string json);
  void forget(const std::string& namespaceName, const std::string& name);
  std::shared_ptr<const Entry> find(const std::string& namespaceName, const std::string& name) const;

 private:
  size_t capacity_;
  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<const Entry>> entries_;
  std::deque<std::string> order_;
};

}  // namespace podmortem::webhooks
