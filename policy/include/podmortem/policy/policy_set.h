#pragma once

#include <cstddef>
#include <memory>
#include <string_view>
#include <vector>

#include "podmortem/policy/matcher.h"
#include "podmortem/policy/policy.h"

namespace podmortem::policy {

struct TriggerMatch {
  std::shared_ptr<const Policy> policy;  // keeps triggerName valid
  size_t triggerIndex = 0;
  std::string_view triggerName;
};

// An immutable set of valid policies; share it between threads as shared_ptr<const PolicySet>.
// Correlation (spec.correlation) is not checked here: it needs the recent audit history, which
// the caller owns.
class PolicySet {
 public:
  PolicySet() = default;
  explicit PolicySet(std::vector<std::shared_ptr<const Policy>> policies);

  // At most one match per policy (its first matching trigger), in policy order.
  std::vector<TriggerMatch> matchAdmission(const AdmissionAttributes& request) const;
  std::vector<TriggerMatch> matchAudit(const AuditAttributes& event) const;

  size_t size() const { return policies_.size(); }
  bool empty() const { return policies_.empty(); }
  const std::vector<std::shared_ptr<const Policy>>& policies() const { return policies_; }
  std::shared_ptr<const Policy> find(std::string_view name) const;

 private:
  std::vector<std::shared_ptr<const Policy>> policies_;
};

}  // namespace podmortem::policy
