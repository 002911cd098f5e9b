#include "podmortem/controller/kube_policy_source.h"

#include "podmortem/core/log.h"
#include "podmortem/policy/parser.h"

namespace podmortem::controller {

namespace log = core::log;
using nlohmann::json;

namespace {

kube::Informer::Options informerOptions(std::string path, std::string resource) {
  kube::Informer::Options options;
  options.path = std::move(path);
  options.resource = std::move(resource);
  return options;
}

}  // namespace

KubePolicySource::KubePolicySource(kube::Client& client, policy::PolicyStore& store,
                                   kube::Metrics* metrics)
    : store_(store),
      informer_(client, informerOptions(kPath, "forensicpolicies"),
                [this](const std::vector<json>& objects) { onChange(objects); }, metrics) {}

void KubePolicySource::onChange(const std::vector<json>& objects) {
  policy::LoadResult merged;
  std::vector<Observed> observed;
  for (const auto& object : objects) {
    const json metadata = object.value("metadata", json::object());
    std::string name = metadata.value("name", "");
    observed.push_back({name, metadata.value("generation", int64_t{0}), object.value("status", json())});
    // The status is ours and not part of the policy; dropping it keeps parsing independent of it.
    json spec = object;
    spec.erase("status");
    auto result = policy::parsePolicyDocuments(spec.dump(), sourceName(name));
    for (const auto& problem : result.problems) {
      log::warn("policy problem", {{"source", problem.source}, {"problem", problem.toString()}});
    }
    policy::appendLoadResult(merged, std::move(result));
  }
  size_t valid = merged.policies.size();
  size_t invalid = merged.rejected;
  store_.replaceSource("kubernetes", std::move(merged));
  {
    std::lock_guard lock(mutex_);
    observed_ = std::move(observed);
  }
  log::info("ForensicPolicies loaded from the API server",
            {{"valid", static_cast<uint64_t>(valid)}, {"invalid", static_cast<uint64_t>(invalid)}});
}

std::vector<KubePolicySource::Observed> KubePolicySource::observed() const {
  std::lock_guard lock(mutex_);
  return observed_;
}

NamespaceLabels::NamespaceLabels(kube::Client& client, kube::Metrics* metrics)
    : informer_(client, informerOptions("/api/v1/namespaces", "namespaces"),
                [this](const std::vector<json>& objects) {
                  std::map<std::string, policy::Labels, std::less<>> labels;
                  for (const auto& object : objects) {
                    const json metadata = object.value("metadata", json::object());
                    policy::Labels entry;
                    // A named copy: items() of a temporary would dangle inside the loop.
                    const json labelsObject = metadata.value("labels", json::object());
                    for (const auto& [key, value] : labelsObject.items()) {
                      if (value.is_string()) entry[key] = value.get<std::string>();
                    }
                    labels[metadata.value("name", "")] = std::move(entry);
                  }
                  std::lock_guard lock(mutex_);
                  labels_ = std::move(labels);
                },
                metrics) {}

std::optional<policy::Labels> NamespaceLabels::labelsOf(std::string_view namespaceName) const {
  std::lock_guard lock(mutex_);
  auto it = labels_.find(namespaceName);
  if (it == labels_.end()) return std::nullopt;
  return it->second;
}

}  // namespace podmortem::controller
