#pragma once

#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "podmortem/policy/pod_record.h"

namespace podmortem::controller {

// Pods seen in earlier admission requests (CREATE/UPDATE pods, when the webhook is configured to
// receive them), so that an eviction, exec or audit event — which names the pod but does not
// carry it — can still be matched on labels and captured without a Kubernetes API. Bounded; the
// oldest entries go first.
class PodCache {
 public:
  explicit PodCache(size_t capacity) : capacity_(capacity) {}

  void remember(policy::PodRecord pod);
  std::shared_ptr<const policy::PodRecord> find(std::string_view namespaceName,
                                        std::string_view name) const;

 private:
  size_t capacity_;
  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<const policy::PodRecord>, std::less<>> entries_;
  std::deque<std::string> order_;
};

}  // namespace podmortem::controller
