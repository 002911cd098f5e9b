#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace podmortem::policy {

// Shell-style glob: '*' matches any run of characters (including '/' and ':', so that
// "system:serviceaccount:kube-system:*" and "pods/*" do what they read as), '?' matches exactly
// one character. No character classes and no escapes: Kubernetes names cannot contain
// '*' or '?', so there is nothing to escape. Case-sensitive, like Kubernetes names.
bool globMatch(std::string_view pattern, std::string_view text);

// True when any pattern matches.
bool globMatchAny(const std::vector<std::string>& patterns, std::string_view text);

// Matches `pattern` against "resource" or, when subResource is not empty,
// "resource/subResource", without building that string (this runs once per request).
bool globMatchResource(std::string_view pattern, std::string_view resource,
                       std::string_view subResource);

}  // namespace podmortem::policy
