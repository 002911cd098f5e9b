#pragma once

// Checks several kube-apiserver tests share.

#include <gtest/gtest.h>

#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>

#include "server_process.h"

namespace podmortem::testing {

inline bool accepted(unsigned status) { return status == 200 || status == 201; }

// object["a"]["b"]..., or null where a step is missing or not an object (operator[] on a const
// null would throw).
inline nlohmann::json field(const nlohmann::json& object, std::initializer_list<const char*> path) {
  const nlohmann::json* at = &object;
  for (const char* step : path) {
    if (!at->is_object() || !at->contains(step)) return nullptr;
    at = &(*at)[step];
  }
  return *at;
}

inline std::string text(const nlohmann::json& value) {
  return value.is_string() ? value.get<std::string>() : std::string();
}

// The Kubernetes API never refused podmortem (401 or 403): the shipped RBAC is sufficient for
// what the test made it do.
inline void expectNoAuthorizationErrors(const ServerProcess& podmortem) {
  std::string text = podmortem.metricsClient().get("/metrics").body;
  for (const char* code : {"code=\"401\"", "code=\"403\""}) {
    for (size_t at = text.find("podmortem_kube_requests_total{"); at != std::string::npos;
         at = text.find("podmortem_kube_requests_total{", at + 1)) {
      std::string line = text.substr(at, text.find('\n', at) - at);
      EXPECT_TRUE(line.find(code) == std::string::npos) << "refused by the API server: " << line;
    }
  }
}

}  // namespace podmortem::testing
