#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace podmortem::policy {

// Pod or namespace labels. std::less<> lets the matcher look keys up by string_view.
using Labels = std::map<std::string, std::string, std::less<>>;

enum class SelectorOperator { kIn, kNotIn, kExists, kDoesNotExist };

struct LabelSelectorRequirement {
  std::string key;
  SelectorOperator op = SelectorOperator::kExists;
  std::vector<std::string> values;  // non-empty for In/NotIn, empty for Exists/DoesNotExist
};

// metav1.LabelSelector with its Kubernetes meaning: every matchLabels pair and every
// expression must hold; an empty selector matches every set of labels.
struct LabelSelector {
  Labels matchLabels;
  std::vector<LabelSelectorRequirement> matchExpressions;

  bool empty() const { return matchLabels.empty() && matchExpressions.empty(); }
  bool matches(const Labels& labels) const;
};

}  // namespace podmortem::policy
