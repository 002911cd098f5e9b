// Bytes as ForensicPolicy documents (YAML or JSON): parsing and validation must turn every input
// into policies or problems, never throw; what parses is matched against a request.
#include <cstdint>
#include <string>

#include "podmortem/policy/firing.h"
#include "podmortem/policy/parser.h"

using namespace podmortem;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto loaded = policy::parsePolicyDocuments(text, "fuzz.yaml");
  for (const auto& problem : loaded.problems) (void)problem.toString();
  policy::PolicySet set(loaded.policies);
  policy::AdmissionRequest request;
  request.operation = "DELETE";
  request.resource = "pods";
  request.namespaceName = "prod-shop";
  request.name = "web-0";
  request.userName = "mallory";
  request.groups = {"contractors"};
  policy::PodRecord pod;
  pod.identity = {"prod-shop", "web-0", "uid", "node"};
  pod.labels = {{"app", "web"}};
  auto attributes = policy::admissionAttributesOf(request, &pod, nullptr);
  for (const auto& firing : policy::admissionFirings(set, request, attributes, nullptr,
                                                     std::chrono::system_clock::now())) {
    (void)policy::captureRequestFor(firing, request, &pod, std::chrono::system_clock::now()).key();
  }
  return 0;
}
