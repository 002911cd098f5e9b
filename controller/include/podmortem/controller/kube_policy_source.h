#pragma once

#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "podmortem/kube/informer.h"
#include "podmortem/policy/label_selector.h"
#include "podmortem/policy/policy_store.h"

namespace podmortem::controller {

// ForensicPolicy custom resources, watched into the policy store as the source "kubernetes"
// beside the local files, with the same parser and validation. Each object is parsed on its
// own, with source "ForensicPolicy/<name>", so an invalid one is reported against its name (and
// becomes Ready=False in its status) while the others keep working.
class KubePolicySource {
 public:
  static constexpr const char* kPath = "/apis/podmortem.io/v1alpha1/forensicpolicies";

  KubePolicySource(kube::Client& client, policy::PolicyStore& store, kube::Metrics* metrics);

  void start() { informer_.start(); }
  void stop() { informer_.stop(); }
  bool synced() const { return informer_.synced(); }

  // The objects as last seen: what the status writer compares against.
  struct Observed {
    std::string name;
    int64_t generation = 0;
    nlohmann::json status;  // null when the object has none yet
  };
  std::vector<Observed> observed() const;

  static std::string sourceName(const std::string& policyName) { return "ForensicPolicy/" + policyName; }

 private:
  void onChange(const std::vector<nlohmann::json>& objects);

  policy::PolicyStore& store_;
  mutable std::mutex mutex_;
  std::vector<Observed> observed_;
  kube::Informer informer_;
};

// Namespace labels, for policies with a namespaceSelector: a watched copy, so the admission path
// looks them up in memory and never waits on the API server.
class NamespaceLabels {
 public:
  NamespaceLabels(kube::Client& client, kube::Metrics* metrics);
  void start() { informer_.start(); }
  void stop() { informer_.stop(); }
  bool synced() const { return informer_.synced(); }
  std::optional<policy::Labels> labelsOf(std::string_view namespaceName) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, policy::Labels, std::less<>> labels_;
  kube::Informer informer_;
};

}  // namespace podmortem::controller
