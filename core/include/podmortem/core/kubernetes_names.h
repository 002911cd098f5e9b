#pragma once

#include <string_view>

// Kubernetes' own name rules (apimachinery's validation), so that a policy that loads here is
// not rejected later by the API server, and labels the policy sets can really be applied.
namespace podmortem::core::names {

// A DNS-1123 label: at most 63 lowercase alphanumerics or '-', starting and ending alphanumeric.
bool isDns1123Label(std::string_view text);
// Dot-separated DNS-1123 labels, at most 253 characters (object names such as metadata.name).
bool isDns1123Subdomain(std::string_view text);
// A label or annotation key: an optional DNS-1123 subdomain prefix and '/', then a name of at
// most 63 alphanumerics, '-', '_' or '.', starting and ending alphanumeric.
bool isQualifiedName(std::string_view text);
// A label value: empty, or at most 63 characters shaped like the name part of a qualified name.
bool isLabelValue(std::string_view text);

}  // namespace podmortem::core::names
