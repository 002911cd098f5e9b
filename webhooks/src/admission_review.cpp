#include "admission_review.h"

#include <simdjson.h>

#if defined(PODMORTEM_JSON_NEEDS_AVX2)
// Built for x86-64-v3 + PCLMUL (webhooks/CMakeLists.txt): simdjson must pick its AVX2 kernel.
// Without PCLMUL it silently falls back to the scalar one, an order of magnitude slower.
static_assert(SIMDJSON_CAN_ALWAYS_RUN_HASWELL, "simdjson would use its fallback kernel");
#endif

namespace podmortem::webhooks {

namespace od = simdjson::ondemand;

namespace {

// simdjson parsers are not thread-safe and are costly to create: one per event-loop thread.
od::parser& threadParser() {
  thread_local od::parser parser;
  return parser;
}

// Parses `json` in place when the bytes after it (within the owning buffer) leave room for
// simdjson's padding; otherwise through a padded copy kept in `copy`.
simdjson::simdjson_result<od::document> iterate(od::parser& parser, std::string_view json,
                                                size_t spareAfter, simdjson::padded_string& copy) {
  if (spareAfter >= simdjson::SIMDJSON_PADDING) {
    return parser.iterate(json.data(), json.size(), json.size() + spareAfter);
  }
  copy = simdjson::padded_string(json);
  return parser.iterate(copy);
}

std::string stringField(od::value value, std::string& out) {
  std::string_view view;
  if (value.get_string().get(view)) return "is not a string";
  out = std::string(view);
  return "";
}

std::string rawObject(od::value value, std::string_view& out) {
  od::json_type type;
  if (value.type().get(type)) return "is not valid JSON";
  if (type == od::json_type::null) {
    out = {};
    return "";
  }
  od::object object;
  if (value.get_object().get(object)) return "is not an object";
  if (object.raw_json().get(out)) return "is not a valid object";
  return "";
}

std::string decodeUserInfo(od::value value, policy::AdmissionRequest& out) {
  od::object object;
  if (value.get_object().get(object)) return "request.userInfo is not an object";
  for (auto field : object) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return "request.userInfo is not valid JSON";
    if (key == "username") {
      if (!stringField(field.value(), out.userName).empty()) return "request.userInfo.username is not a string";
    } else if (key == "groups") {
      od::array groups;
      if (field.value().get_array().get(groups)) return "request.userInfo.groups is not a list";
      for (auto item : groups) {
        std::string_view group;
        if (item.get_string().get(group)) return "request.userInfo.groups holds a non-string";
        out.groups.emplace_back(group);
      }
    }
  }
  return "";
}

// kind / resource objects: take one string member.
std::string memberString(od::value value, std::string_view member, std::string& out,
                         std::string* group = nullptr) {
  od::object object;
  if (value.get_object().get(object)) return "is not an object";
  for (auto field : object) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return "is not valid JSON";
    if (key == member) {
      if (!stringField(field.value(), out).empty()) return std::string(member) + " is not a string";
    } else if (group != nullptr && key == "group") {
      if (!stringField(field.value(), *group).empty()) return "group is not a string";
    }
  }
  return "";
}

std::string decodeRequest(od::object request, policy::AdmissionRequest& out) {
  for (auto field : request) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return "request is not valid JSON";
    std::string error;
    if (key == "uid") {
      error = stringField(field.value(), out.uid);
    } else if (key == "operation") {
      error = stringField(field.value(), out.operation);
    } else if (key == "subResource") {
      error = stringField(field.value(), out.subResource);
    } else if (key == "name") {
      error = stringField(field.value(), out.name);
    } else if (key == "namespace") {
      error = stringField(field.value(), out.namespaceName);
    } else if (key == "kind") {
      error = memberString(field.value(), "kind", out.kind);
    } else if (key == "resource") {
      error = memberString(field.value(), "resource", out.resource, &out.group);
    } else if (key == "userInfo") {
      error = decodeUserInfo(field.value(), out);
      if (!error.empty()) return error;
    } else if (key == "dryRun") {
      od::json_type type;
      if (field.value().type().get(type)) return "request.dryRun is not valid JSON";
      if (type != od::json_type::null && field.value().get_bool().get(out.dryRun)) {
        error = "is not a boolean";
      }
    } else if (key == "object") {
      error = rawObject(field.value(), out.objectJson);
    } else if (key == "oldObject") {
      error = rawObject(field.value(), out.oldObjectJson);
    }
    if (!error.empty()) return "request." + std::string(key) + " " + error;
  }
  return "";
}

std::string decodeReview(std::string& body, policy::AdmissionRequest& out) {
  simdjson::padded_string copy;
  od::document doc;
  auto& parser = threadParser();
  if (iterate(parser, body, body.capacity() - body.size(), copy).get(doc)) {
    return "body is not valid JSON";
  }
  od::object root;
  if (doc.get_object().get(root)) return "body is not a JSON object";
  std::string apiVersion;
  std::string kind;
  bool sawRequest = false;
  for (auto field : root) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return "body is not valid JSON";
    if (key == "apiVersion") {
      if (!stringField(field.value(), apiVersion).empty()) return "apiVersion is not a string";
    } else if (key == "kind") {
      if (!stringField(field.value(), kind).empty()) return "kind is not a string";
    } else if (key == "request") {
      od::object request;
      if (field.value().get_object().get(request)) return "request is not an object";
      auto error = decodeRequest(request, out);
      if (!error.empty()) return error;
      sawRequest = true;
    }
  }
  if (kind != "AdmissionReview") return "kind must be AdmissionReview, got \"" + kind + "\"";
  if (apiVersion != "admission.k8s.io/v1") {
    return "apiVersion must be admission.k8s.io/v1, got \"" + apiVersion + "\"";
  }
  if (!sawRequest) return "request is missing";
  if (out.uid.empty()) return "request.uid is missing";
  if (out.operation.empty()) return "request.operation is missing";
  return "";
}

}  // namespace

core::Status decodeAdmissionReview(std::string& body, policy::AdmissionRequest& out) {
  std::string error = decodeReview(body, out);
  if (error.empty()) return {};
  return core::makeError(core::ErrorCode::kInvalidArgument, std::move(error));
}

}  // namespace podmortem::webhooks
