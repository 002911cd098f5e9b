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
