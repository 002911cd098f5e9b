#pragma once

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "podmortem/policy/label_selector.h"
#include "podmortem/policy/problem.h"

// Typed, strict reading of a yaml-cpp tree that reports what is wrong as PolicyProblems
// (with the field path and line) instead of throwing. Knows YAML and Kubernetes conventions,
// nothing about policies.
namespace podmortem::policy::internal {

using Node = YAML::Node;

// The fields of a mapping, looked up by name. Built by walking the mapping ourselves rather
// than with yaml-cpp's operator[], which silently picks the first of duplicate keys.
using FieldMap = std::map<std::string, Node, std::less<>>;

// Returns the reason a list item is invalid, or nullopt when it is fine.
using ItemCheck = std::function<std::optional<std::string>(std::string_view)>;

// Absent and explicit null mean the same, as they do for the API server.
bool isAbsent(const Node& node);
// The named field, or an undefined node.
Node field(const FieldMap& fields, std::string_view name);

// "spec" + "match" = "spec.match"; "spec.triggers" + 0 = "spec.triggers[0]";
// "spec.actions.labels" + "a/b" = "spec.actions.labels[a/b]" (Kubernetes' field.Path style).
std::string fieldPath(const std::string& parent, std::string_view field);
std::string indexPath(const std::string& parent, size_t index);
std::string keyPath(const std::string& parent, std::string_view key);

class FieldReader {
 public:
  explicit FieldReader(std::string source) : source_(std::move(source)) {}

  const std::string& source() const { return source_; }
  bool hasProblems() const { return !problems_.empty(); }
  std::vector<PolicyProblem> takeProblems() { return std::move(problems_); }
  // The name is known only once metadata is read, after problems may have been recorded.
  void stampPolicyName(const std::string& name);

  // Records a problem at `path`, with the line of `near` when it has one.
  void problem(const Node& near, std::string path, std::string reason);

  // A mapping's fields. With `strict`, a key not in `known` is an "unknown field" problem,
  // which is how typos in a policy get caught. Duplicate keys are always a problem.
  std::optional<FieldMap> readMap(const Node& node, const std::string& path,
                                  std::initializer_list<std::string_view> known, bool strict);
  std::optional<std::string> readString(const Node& node, const std::string& path);
  std::optional<bool> readBool(const Node& node, const std::string& path);
  std::optional<int64_t> readInt(const Node& node, const std::string& path);
  std::optional<std::chrono::milliseconds> readDuration(const Node& node, const std::string& path);
  // Absent = empty. Items that fail `check` are reported and left out.
  std::vector<std::string> readStringList(const Node& node, const std::string& path,
                                          const ItemCheck& check);
  // A Kubernetes labels or annotations map: keys must be qualified names, and with
  // `labelValues` the values must be valid label values.
  Labels readStringMap(const Node& node, const std::string& path, bool labelValues);

 private:
  const std::string source_;
  std::vector<PolicyProblem> problems_;
};

}  // namespace podmortem::policy::internal
