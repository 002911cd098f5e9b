#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "podmortem/controller/collector.h"
#include "podmortem/kube/client.h"

namespace podmortem::controller::internal {

// The pod as a capture knows it: the copy the request carried, else a fresh GET when a client
// is given. `error` says why there is none.
struct PodObject {
  std::optional<nlohmann::json> object;
  std::string error;
};
PodObject podObject(const CaptureRequest& request, kube::Client* client);

// GET /api/v1/namespaces/<ns>/pods/<name>.
kube::Response getPod(kube::Client& client, const std::string& namespaceName, const std::string& name);

// Every container of the pod: init, regular and ephemeral, in that order.
struct ContainerRef {
  std::string name;
  std::string kind;  // "initContainers", "containers", "ephemeralContainers"
};
std::vector<ContainerRef> containersOf(const nlohmann::json& pod);

std::string pretty(const nlohmann::json& value);

}  // namespace podmortem::controller::internal
