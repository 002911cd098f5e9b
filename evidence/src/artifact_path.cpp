#include "podmortem/evidence/artifact_path.h"

#include <cstddef>

namespace podmortem::evidence {

namespace {
constexpr std::size_t kMaxSegmentLength = 255;  // NAME_MAX on the file systems we write to

bool isSegmentChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}
}  // namespace

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

}  // namespace podmortem::evidence
