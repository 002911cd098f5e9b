#include "podmortem/policy/label_selector.h"

#include <algorithm>

namespace podmortem::policy {

namespace {

bool contains(const std::vector<std::string>& values, std::string_view value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

bool requirementHolds(const LabelSelectorRequirement& requirement, const Labels& labels) {
  auto it = labels.find(requirement.key);
  bool present = it != labels.end();
  switch (requirement.op) {
    case SelectorOperator::kIn:
      return present && contains(requirement.values, it->second);
    case SelectorOperator::kNotIn:
      // As in Kubernetes: a pod without the label is "not in" any set of values.
      return !present || !contains(requirement.values, it->second);
    case SelectorOperator::kExists:
      return present;
    case SelectorOperator::kDoesNotExist:
      return !present;
  }
  return false;
}

}  // namespace

bool LabelSelector::matches(const Labels& labels) const {
  for (const auto& [key, value] : matchLabels) {
    auto it = labels.find(key);
    if (it == labels.end() || it->second != value)
      return false;
  }
  for (const auto& requirement : matchExpressions) {
    if (!requirementHolds(requirement, labels))
      return false;
  }
  return true;
}

}  // namespace podmortem::policy
