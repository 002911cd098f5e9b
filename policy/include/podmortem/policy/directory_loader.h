#pragma once

#include <string>
#include <string_view>

#include "podmortem/policy/problem.h"

namespace podmortem::policy {

// Loads every *.yaml, *.yml and *.json file directly in `dir` (not recursive), in name order.
// Hidden files (".name") are skipped: editors and Kubernetes ConfigMap mounts keep their
// bookkeeping there. A missing folder or an unreadable file is a problem, not an exception.
LoadResult loadPolicyDirectory(const std::string& dir);

// Whether loadPolicyDirectory reads a file of this name.
bool isPolicyFileName(std::string_view fileName);

}  // namespace podmortem::policy
