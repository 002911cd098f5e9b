#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <mutex>
#include <vector>

#include "podmortem/policy/policy_set.h"
#include "podmortem/policy/problem.h"

namespace podmortem::policy {

// Thread-safe holder of the current PolicySet and of the problems of the load that produced
// it. The request path calls current() once per request: the mutex is held only to copy a
// shared_ptr, never while a load is parsed or an old set is freed, so a reader never waits
// for a reload. (A mutex rather than std::atomic<std::shared_ptr>: libstdc++'s version is a
// spinlock too, and ThreadSanitizer cannot see through it.)
class PolicyStore {
 public:
  PolicyStore();

  std::shared_ptr<const PolicySet> current() const;

  // Publishes result.policies as the new set and keeps result.problems alongside: the store
  // as one source ("files") only.
  void replace(LoadResult result);

  // Several sources (local files, ForensicPolicy objects watched from the API server) publish
  // independently; the set is their union. A name defined by two sources is kept from the
  // source whose name sorts first and reported as a problem of the other.
  void replaceSource(const std::string& source, LoadResult result);

  std::vector<PolicyProblem> problems() const;
  size_t validCount() const;
  size_t invalidCount() const;  // documents/policies rejected by the last load
  uint64_t generation() const;  // 0 before the first replace, then +1 on each

 private:
  // Everything one replace publishes, swapped as a unit so that problems() and current()
  // never describe two different loads.
  struct State {
    std::shared_ptr<const PolicySet> set;
    std::vector<PolicyProblem> problems;
    size_t rejected = 0;
    uint64_t generation = 0;
  };
  std::shared_ptr<const State> state() const;
  void publish(LoadResult merged);

  mutable std::mutex mutex_;
  std::shared_ptr<const State> state_;
  std::mutex sourcesMutex_;  // one publish at a time; never held by readers
  std::map<std::string, LoadResult> sources_;
};

}  // namespace podmortem::policy
