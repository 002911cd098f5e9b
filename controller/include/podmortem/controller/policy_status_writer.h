#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>

#include "podmortem/core/periodic_worker.h"
#include "podmortem/kube/client.h"
#include "podmortem/controller/kube_policy_source.h"
#include "podmortem/controller/policy_activity.h"
#include "podmortem/policy/policy_store.h"

namespace podmortem::controller {

// Writes each ForensicPolicy's status: a Ready condition (True, or False with the parser's
// reasons), observedGeneration, match and snapshot counters, the last trigger time, and short
// summaries for kubectl's printer columns. Only while `isLeader` says so (one replica writes),
// at most once per policy every `interval`, and only when something changed.
//
// Counters: the status value plus what this replica counted since its last write, so they keep
// growing across restarts and leader changes; matches on other replicas are in their metrics.
class PolicyStatusWriter {
 public:
  PolicyStatusWriter(kube::Client& client, policy::PolicyStore& store, KubePolicySource& source,
                     PolicyActivity& activity, std::function<bool()> isLeader,
                     std::chrono::milliseconds interval);
  ~PolicyStatusWriter();

  void start();
  void stop();
  // One pass over every policy (the thread's loop body). Returns the number of patches sent.
  size_t writeOnce();

  // The status a policy should have, without counters' history (for tests and the writer).
  static nlohmann::json readyCondition(bool valid, const std::string& message, int64_t generation,
                                       const nlohmann::json& previous);

 private:
  kube::Client& client_;
  policy::PolicyStore& store_;
  KubePolicySource& source_;
  PolicyActivity& activity_;
  std::function<bool()> isLeader_;
  const std::chrono::milliseconds interval_;
  struct Written {
    nlohmann::json status;         // what this replica last wrote
    PolicyActivity::Counts counts;  // the activity that write included
  };
  std::map<std::string, Written> written_;
  core::PeriodicWorker worker_;  // last: its thread uses everything above
};

}  // namespace podmortem::controller
