#include "podmortem/policy/admission_request.h"

namespace podmortem::policy {

namespace {

bool isConnectSubresource(std::string_view sub) {
  return sub == "exec" || sub == "attach" || sub == "portforward";
}

// The admission operation of an audited pod request, or "" when the webhook never sees it.
std::string_view operationOf(const AuditEvent& event) {
  const auto& sub = event.subResource;
  const auto& verb = event.verb;
  if (sub.empty()) {
    if (verb == "delete") return "DELETE";
    if (verb == "create") return "CREATE";
    if (verb == "update" || verb == "patch") return "UPDATE";
    return "";
  }
  if (sub == "eviction" && verb == "create") return "CREATE";
  if (isConnectSubresource(sub) && (verb == "create" || verb == "get")) return "CONNECT";
  return "";
}

}  // namespace

bool AdmissionRequest::canCapture() const {
  if (!isPod()) return false;
  if (operation == "DELETE") return subResource.empty();
  if (operation == "CREATE") return subResource == "eviction";
  return operation == "CONNECT" && isConnectSubresource(subResource);
}

std::optional<AdmissionRequest> admissionRequestOf(const AuditEvent& event) {
  if (!event.isPodEvent()) return std::nullopt;
  std::string_view operation = operationOf(event);
  if (operation.empty()) return std::nullopt;
  AdmissionRequest request;
  request.uid = event.auditId;
  request.operation = std::string(operation);
  request.resource = event.resource;
  request.subResource = event.subResource;
  request.name = event.name;
  request.namespaceName = event.namespaceName;
  // Admission sees the effective user: the impersonated one when there is one.
  request.userName =
      event.impersonatedUserName.empty() ? event.userName : event.impersonatedUserName;
  request.groups = event.groups;
  request.dryRun = event.dryRun;
  return request;
}

}  // namespace podmortem::policy
