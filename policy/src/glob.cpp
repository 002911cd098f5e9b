#include "podmortem/policy/glob.h"

namespace podmortem::policy {

namespace {

// The text a pattern is matched against, possibly "first/second" without building it.
class JoinedText {
 public:
  JoinedText(std::string_view first, std::string_view second)
      : first_(first),
        second_(second),
        size_(first.size() + (second.empty() ? 0 : 1 + second.size())) {}

  size_t size() const { return size_; }
  char operator[](size_t i) const {
    if (i < first_.size())
      return first_[i];
    if (i == first_.size())
      return '/';
    return second_[i - first_.size() - 1];
  }

 private:
  std::string_view first_;
  std::string_view second_;
  size_t size_;
};

// Classic greedy matcher with one backtrack point: on a mismatch after a '*', let that '*'
// swallow one more character. Linear in practice, O(pattern * text) at worst, no recursion
// and no allocation.
template <typename Text>
bool globMatchText(std::string_view pattern, const Text& text) {
  size_t p = 0;
  size_t t = 0;
  size_t starPattern = std::string_view::npos;
  size_t starText = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      starPattern = p++;
      starText = t;
    } else if (starPattern != std::string_view::npos) {
      p = starPattern + 1;
      t = ++starText;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*')
    ++p;
  return p == pattern.size();
}

}  // namespace

bool globMatch(std::string_view pattern, std::string_view text) {
  return globMatchText(pattern, text);
}

bool globMatchAny(const std::vector<std::string>& patterns, std::string_view text) {
  for (const auto& pattern : patterns) {
    if (globMatchText(std::string_view(pattern), text))
      return true;
  }
  return false;
}

bool globMatchResource(std::string_view pattern, std::string_view resource,
                       std::string_view subResource) {
  if (subResource.empty())
    return globMatchText(pattern, resource);
  return globMatchText(pattern, JoinedText(resource, subResource));
}

}  // namespace podmortem::policy
