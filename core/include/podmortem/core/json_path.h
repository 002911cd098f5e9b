#pragma once

// Reading Kubernetes objects and bundle files someone else wrote: a member that may be missing
// or of another type. [] of a const nlohmann::json asserts on a missing key, and value() throws
// on a non-object, so readers of untrusted JSON go through these.

#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>

namespace podmortem::core {

// The member at `path` (object keys, outermost first), or null when any step is missing or not
// an object.
inline nlohmann::json jsonAt(const nlohmann::json& object, std::initializer_list<const char*> path) {
  const nlohmann::json* current = &object;
  for (const char* key : path) {
    if (!current->is_object()) return nlohmann::json();
    auto found = current->find(key);
    if (found == current->end()) return nlohmann::json();
    current = &*found;
  }
  return *current;
}

// The string, or "" for anything else.
inline std::string jsonText(const nlohmann::json& value) {
  return value.is_string() ? value.get<std::string>() : std::string();
}

}  // namespace podmortem::core
