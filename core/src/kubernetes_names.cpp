#include "podmortem/core/kubernetes_names.h"

namespace podmortem::core::names {

namespace {

constexpr size_t kMaxLabelLength = 63;
constexpr size_t kMaxSubdomainLength = 253;

bool isLowerAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}
bool isAlnum(char c) {
  return isLowerAlnum(c) || (c >= 'A' && c <= 'Z');
}

// The name part of a qualified name, which is also the shape of a non-empty label value.
bool isQualifiedNamePart(std::string_view text) {
  if (text.empty() || text.size() > kMaxLabelLength)
    return false;
  if (!isAlnum(text.front()) || !isAlnum(text.back()))
    return false;
  for (char c : text) {
    if (!isAlnum(c) && c != '-' && c != '_' && c != '.')
      return false;
  }
  return true;
}

}  // namespace

bool isDns1123Label(std::string_view text) {
  if (text.empty() || text.size() > kMaxLabelLength)
    return false;
  if (!isLowerAlnum(text.front()) || !isLowerAlnum(text.back()))
    return false;
  for (char c : text) {
    if (!isLowerAlnum(c) && c != '-')
      return false;
  }
  return true;
}

bool isDns1123Subdomain(std::string_view text) {
  if (text.empty() || text.size() > kMaxSubdomainLength)
    return false;
  size_t start = 0;
  while (true) {
    size_t dot = text.find('.', start);
    std::string_view label = text.substr(start, dot == std::string_view::npos ? dot : dot - start);
    // Each dot-separated part follows the label shape; only the total length is 253.
    if (label.empty() || !isLowerAlnum(label.front()) || !isLowerAlnum(label.back())) {
      return false;
    }
    for (char c : label) {
      if (!isLowerAlnum(c) && c != '-')
        return false;
    }
    if (dot == std::string_view::npos)
      return true;
    start = dot + 1;
  }
}

bool isQualifiedName(std::string_view text) {
  size_t slash = text.find('/');
  if (slash == std::string_view::npos)
    return isQualifiedNamePart(text);
  return core::names::isDns1123Subdomain(text.substr(0, slash)) && isQualifiedNamePart(text.substr(slash + 1));
}

bool isLabelValue(std::string_view text) {
  return text.empty() || isQualifiedNamePart(text);
}

}  // namespace podmortem::core::names
