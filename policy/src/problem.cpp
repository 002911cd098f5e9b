#include "podmortem/policy/problem.h"

namespace podmortem::policy {

std::string PolicyProblem::toString() const {
  std::string text = source;
  if (line > 0)
    text += ":" + std::to_string(line);
  text += ": ";
  if (!policyName.empty())
    text += "policy " + policyName + ": ";
  if (!fieldPath.empty())
    text += fieldPath + ": ";
  text += reason;
  return text;
}

}  // namespace podmortem::policy
