#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "podmortem/core/result.h"

namespace podmortem::core {

// YAML text from anyone (policy files, ForensicPolicy objects, the configuration, kubeconfigs)
// into yaml-cpp documents, safely. yaml-cpp 0.7 loops forever, allocating, on some malformed
// input (a top-level flow collection followed by a comma: "[a],"; found by fuzzing) and
// recurses without bound on deep nesting. So the text is first read by libyaml, the reference
// YAML parser, as a stream of events: what it rejects, or what nests deeper than kMaxYamlDepth,
// never reaches yaml-cpp. The error (kInvalidArgument) says what and where.
inline constexpr size_t kMaxYamlDepth = 64;

// `errorLine` (when given) receives the 1-based line of a syntax error, 0 when none is known.
Result<std::vector<YAML::Node>> loadYamlDocuments(std::string_view text, int* errorLine = nullptr);
// Exactly one document (an empty text is one null document).
Result<YAML::Node> loadYamlDocument(std::string_view text);

}  // namespace podmortem::core
