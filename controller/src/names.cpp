#include "podmortem/controller/names.h"

#include <cstddef>

namespace podmortem::controller {

namespace {
constexpr std::size_t kMaxLabelLength = 63;
constexpr std::size_t kMaxSubdomainLength = 253;
constexpr std::size_t kMaxSegmentLength = 255;  // NAME_MAX on the file systems we write to

bool isLowerAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool isSegmentChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}
}  // namespace

bool isDns1123Label(std::string_view name) {
  if (name.empty() || name.size() > kMaxLabelLength)
    return false;
  if (!isLowerAlnum(name.front()) || !isLowerAlnum(name.back()))
    return false;
  for (char c : name) {
    if (!isLowerAlnum(c) && c != '-')
      return false;
  }
  return true;
}

bool isDns1123Subdomain(std::string_view name) {
  if (name.empty() || name.size() > kMaxSubdomainLength)
    return false;
  // Each dot-separated part follows the label character rules; Kubernetes does not limit the
  // parts to 63 characters here, only the whole name to 253.
  std::size_t start = 0;
  while (true) {
    std::size_t dot = name.find('.', start);
    std::string_view part = name.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (part.empty() || !isLowerAlnum(part.front()) || !isLowerAlnum(part.back()))
      return false;
    for (char c : part) {
      if (!isLowerAlnum(c) && c != '-')
        return false;
    }
    if (dot == std::string_view::npos)
      return true;
    start = dot + 1;
  }
}

bool isSafeArtifactPath(std::string_view path) {
  if (path.empty())
    return false;
  std::size_t start = 0;
  while (true) {
    std::size_t slash = path.find('/', start);
    std::string_view segment =
        path.substr(start, slash == std::string_view::npos ? slash : slash - start);
    if (segment.empty() || segment.size() > kMaxSegmentLength || segment == "." ||
        segment == "..") {
      return false;
    }
    for (char c : segment) {
      if (!isSegmentChar(c))
        return false;
    }
    if (slash == std::string_view::npos)
      return true;
    start = slash + 1;
  }
}

}  // namespace podmortem::controller
