#include "podmortem/kube/client.h"

#include <nlohmann/json.hpp>

namespace podmortem::kube {

namespace {

nlohmann::json statusObject(const std::string& body) {
  auto parsed = nlohmann::json::parse(body, nullptr, false);
  if (parsed.is_object() && parsed.value("kind", "") == "Status") return parsed;
  return nlohmann::json::object();
}

}  // namespace

std::string Response::reason() const {
  return statusObject(body).value("reason", "");
}

std::string Response::describe() const {
  if (!error.empty()) return error;
  auto status = statusObject(body);
  std::string text = std::to_string(this->status);
  if (status.contains("reason")) text += " " + status.value("reason", "");
  if (status.contains("message")) text += ": " + status.value("message", "");
  return text;
}

core::Error Response::asError(std::string_view action) const {
  core::ErrorCode code = core::ErrorCode::kUnavailable;  // no answer, or the server failed
  switch (status) {
    case 400:
    case 422:
      code = core::ErrorCode::kInvalidArgument;
      break;
    case 401:
      code = core::ErrorCode::kUnauthenticated;
      break;
    case 403:
      code = core::ErrorCode::kPermissionDenied;
      break;
    case 404:
      code = core::ErrorCode::kNotFound;
      break;
    case 409:
      code = core::ErrorCode::kAlreadyExists;
      break;
    case 429:
      code = core::ErrorCode::kResourceExhausted;
      break;
    default:
      break;
  }
  return core::makeError(code, std::string(action) + ": " + describe());
}

std::string encodeQueryValue(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
    bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

}  // namespace podmortem::kube
