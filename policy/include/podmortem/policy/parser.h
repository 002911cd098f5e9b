#pragma once

#include <string>
#include <string_view>

#include "podmortem/policy/problem.h"

namespace podmortem::policy {

// Parses one or more YAML documents ("---") holding ForensicPolicy objects. JSON is YAML, so a
// Kubernetes object as the API server sends it goes through here too (source "kubernetes").
// Every problem of every document is reported; an invalid document yields no policy, the
// others are kept. A name seen twice is a problem on the second. Never throws on bad input.
LoadResult parsePolicyDocuments(std::string_view text, const std::string& source);

// Moves `from` into `into`. A policy whose name `into` already holds is dropped and reported
// ("duplicate policy name, first defined in <source>"), so the first definition wins.
void appendLoadResult(LoadResult& into, LoadResult from);

}  // namespace podmortem::policy
