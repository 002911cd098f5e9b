#include "field_reader.h"

#include <algorithm>
#include <charconv>

#include "podmortem/core/kubernetes_names.h"
#include "podmortem/core/duration.h"

namespace podmortem::policy::internal {

bool isAbsent(const Node& node) {
  return !node.IsDefined() || node.IsNull();
}

std::string fieldPath(const std::string& parent, std::string_view field) {
  if (parent.empty())
    return std::string(field);
  std::string path = parent;
  path += '.';
  path += field;
  return path;
}

std::string indexPath(const std::string& parent, size_t index) {
  return parent + "[" + std::to_string(index) + "]";
}

std::string keyPath(const std::string& parent, std::string_view key) {
  std::string path = parent;
  path += '[';
  path += key;
  path += ']';
  return path;
}

void FieldReader::problem(const Node& near, std::string path, std::string reason) {
  PolicyProblem problem;
  problem.source = source_;
  problem.fieldPath = std::move(path);
  problem.reason = std::move(reason);
  if (near.IsDefined() && !near.Mark().is_null())
    problem.line = near.Mark().line + 1;
  problems_.push_back(std::move(problem));
}

void FieldReader::stampPolicyName(const std::string& name) {
  for (auto& problem : problems_)
    problem.policyName = name;
}

std::optional<FieldMap> FieldReader::readMap(const Node& node, const std::string& path,
                                             std::initializer_list<std::string_view> known,
                                             bool strict) {
  if (!node.IsMap()) {
    problem(node, path, "must be a mapping");
    return std::nullopt;
  }
  FieldMap fields;
  // Copies, not references: yaml-cpp's iterator hands out a temporary pair per step.
  for (const auto& entry : node) {
    const Node key = entry.first;
    const Node value = entry.second;
    if (!key.IsScalar()) {
      problem(key, path, "has a key that is not a string");
      continue;
    }
    const std::string& name = key.Scalar();
    if (strict && std::find(known.begin(), known.end(), name) == known.end()) {
      std::string allowed;
      for (std::string_view field : known) {
        if (!allowed.empty()) {
          allowed += ", ";
        }
        allowed += field;
      }
      problem(key, fieldPath(path, name), "unknown field (known: " + allowed + ")");
      continue;
    }
    if (!fields.emplace(name, value).second) {
      problem(key, fieldPath(path, name), "duplicate field");
    }
  }
  return fields;
}

Node field(const FieldMap& fields, std::string_view name) {
  auto it = fields.find(name);
  return it == fields.end() ? Node(YAML::NodeType::Undefined) : it->second;
}

std::optional<std::string> FieldReader::readString(const Node& node, const std::string& path) {
  if (!node.IsScalar()) {
    problem(node, path, "must be a string");
    return std::nullopt;
  }
  return node.Scalar();
}

// Booleans and numbers must be plain scalars: a quoted "false" is a string, and the API server
// would reject it too.
std::optional<bool> FieldReader::readBool(const Node& node, const std::string& path) {
  bool value = false;
  if (!node.IsScalar() || node.Tag() == "!" || !YAML::convert<bool>::decode(node, value)) {
    problem(node, path, "must be true or false");
    return std::nullopt;
  }
  return value;
}

std::optional<int64_t> FieldReader::readInt(const Node& node, const std::string& path) {
  if (node.IsScalar() && node.Tag() != "!") {
    const std::string& text = node.Scalar();
    int64_t value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error == std::errc() && end == text.data() + text.size())
      return value;
  }
  problem(node, path, "must be an integer");
  return std::nullopt;
}

std::optional<std::chrono::milliseconds> FieldReader::readDuration(const Node& node,
                                                                   const std::string& path) {
  if (!node.IsScalar()) {
    problem(node, path, "must be a duration such as 10s or 1m30s");
    return std::nullopt;
  }
  auto duration = core::parseDuration(node.Scalar());
  if (!duration) {
    problem(node, path, "must be a duration such as 10s or 1m30s");
    return std::nullopt;
  }
  return duration;
}

std::vector<std::string> FieldReader::readStringList(const Node& node, const std::string& path,
                                                     const ItemCheck& check) {
  std::vector<std::string> values;
  if (isAbsent(node))
    return values;
  if (!node.IsSequence()) {
    problem(node, path, "must be a list");
    return values;
  }
  for (size_t i = 0; i < node.size(); ++i) {
    const Node item = node[i];
    std::string itemPath = indexPath(path, i);
    if (!item.IsScalar()) {
      problem(item, itemPath, "must be a string");
      continue;
    }
    if (auto reason = check(item.Scalar())) {
      problem(item, itemPath, *reason);
      continue;
    }
    values.push_back(item.Scalar());
  }
  return values;
}

Labels FieldReader::readStringMap(const Node& node, const std::string& path, bool labelValues) {
  Labels values;
  if (isAbsent(node))
    return values;
  auto fields = readMap(node, path, {}, false);
  if (!fields)
    return values;
  for (const auto& [key, valueNode] : *fields) {
    std::string entryPath = keyPath(path, key);
    if (!core::names::isQualifiedName(key)) {
      problem(valueNode, entryPath,
              "key must be a qualified name such as podmortem.io/suspect (an optional DNS "
              "subdomain prefix and '/', then at most 63 letters, digits, '-', '_' or '.')");
      continue;
    }
    auto value = readString(valueNode, entryPath);
    if (!value)
      continue;
    if (labelValues && !core::names::isLabelValue(*value)) {
      problem(valueNode, entryPath,
              "must be a label value: empty, or at most 63 letters, digits, '-', '_' or '.', "
              "starting and ending with a letter or digit");
      continue;
    }
    values.emplace(key, std::move(*value));
  }
  return values;
}

}  // namespace podmortem::policy::internal
