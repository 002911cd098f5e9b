#include "pod_object.h"

namespace podmortem::controller::internal {

using nlohmann::json;

kube::Response getPod(kube::Client& client, const std::string& namespaceName, const std::string& name) {
  kube::Request request;
  request.path = "/api/v1/namespaces/" + namespaceName + "/pods/" + name;
  request.resource = "pods";
  return client.send(request);
}

PodObject podObject(const CaptureRequest& request, kube::Client* client) {
  PodObject pod;
  if (!request.podJson.empty()) {
    auto parsed = json::parse(request.podJson, nullptr, false);
    if (parsed.is_object()) {
      pod.object = std::move(parsed);
      return pod;
    }
  }
  if (client == nullptr) {
    pod.error = "the request did not carry the pod and no Kubernetes API is configured";
    return pod;
  }
  auto response = getPod(*client, request.pod.namespaceName, request.pod.name);
  if (!response.ok()) {
    pod.error = "GET pod: " + response.describe();
    return pod;
  }
  auto parsed = json::parse(response.body, nullptr, false);
  if (!parsed.is_object()) {
    pod.error = "GET pod: the answer is not a JSON object";
    return pod;
  }
  pod.object = std::move(parsed);
  return pod;
}

std::vector<ContainerRef> containersOf(const json& pod) {
  std::vector<ContainerRef> containers;
  const json spec = pod.value("spec", json::object());
  for (const char* kind : {"initContainers", "containers", "ephemeralContainers"}) {
    const json list = spec.value(kind, json::array());
    if (!list.is_array()) continue;
    for (const auto& container : list) {
      if (container.is_object() && container.value("name", "") != "") {
        containers.push_back({container.value("name", ""), kind});
      }
    }
  }
  return containers;
}

std::string pretty(const json& value) {
  return value.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace podmortem::controller::internal
