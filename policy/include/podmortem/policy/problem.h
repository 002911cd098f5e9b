#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace podmortem::policy {

struct Policy;

// One reason a policy document was rejected. Problems are data: they end up in log lines, in
// the CLI's output and (for custom resources) in a Ready=False condition, never in an exception.
struct PolicyProblem {
  std::string source;      // "policies/a.yaml", "policies/a.yaml#2" (2nd document), "kubernetes"
  std::string policyName;  // empty when the document has no usable metadata.name
  std::string fieldPath;   // "spec.triggers[0].operations[1]"; empty for the document as a whole
  std::string reason;      // "must be one of CREATE, UPDATE, DELETE, CONNECT, *"
  int line = 0;            // 1-based line in the source text; 0 when unknown

  // "policies/a.yaml:12: policy capture: spec.triggers[0].operations[1]: must be one of ..."
  std::string toString() const;
};

struct LoadResult {
  std::vector<std::shared_ptr<const Policy>> policies;
  std::vector<PolicyProblem> problems;
  // Documents (or whole files) that yielded no policy. A document can have several problems,
  // so this is not problems.size().
  size_t rejected = 0;
};

}  // namespace podmortem::policy
