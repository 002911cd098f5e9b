#include "admission_event.h"

#include <nlohmann/json.hpp>

#include "podmortem/core/timestamp.h"

namespace podmortem::webhooks {

std::string admissionAuditEvent(const policy::AdmissionRequest& request,
                                std::chrono::system_clock::time_point time) {
  using nlohmann::json;
  std::string stamp = core::formatMicroTime(time);
  json event = {
      {"kind", "Event"},
      {"apiVersion", "audit.k8s.io/v1"},
      {"level", "Request"},
      {"auditID", "admission-" + request.uid},
      {"stage", "RequestReceived"},
      {"requestURI", "/api/v1/namespaces/" + request.namespaceName + "/pods/" + request.name + "/" +
                         request.subResource},
      // The API server audits an exec over SPDY as create (a WebSocket one as get); admission
      // sees CONNECT either way.
      {"verb", "create"},
      {"user", {{"username", request.userName}, {"groups", request.groups}}},
      {"objectRef",
       {{"resource", "pods"},
        {"namespace", request.namespaceName},
        {"name", request.name},
        {"apiVersion", "v1"},
        {"subresource", request.subResource}}},
      {"requestReceivedTimestamp", stamp},
      {"stageTimestamp", stamp},
      {"annotations",
       {{kAdmissionSourceAnnotation, "admission"}, {"podmortem.io/admission-uid", request.uid}}}};
  if (!request.objectJson.empty()) {
    auto options = json::parse(request.objectJson, nullptr, false);  // PodExecOptions: command
    if (options.is_object()) event["requestObject"] = std::move(options);
  }
  return event.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace podmortem::webhooks
