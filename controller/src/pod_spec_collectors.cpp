#include <set>

#include "pod_object.h"
#include "podmortem/controller/collector.h"

namespace podmortem::controller {

namespace {

using internal::pretty;
using nlohmann::json;

void addName(json& list, const json& value) {
  if (!value.is_string() || value.get<std::string>().empty()) return;
  for (const auto& existing : list) {
    if (existing == value) return;
  }
  list.push_back(value);
}

// What the pod can read: the names of its ConfigMaps, Secrets, claims, projected sources,
// environment references and pull secrets. A responder needs to know what a compromised pod
// had access to; the values stay where they are.
json referencesOf(const json& pod) {
  json refs = {{"configMaps", json::array()},           {"secrets", json::array()},
               {"persistentVolumeClaims", json::array()}, {"imagePullSecrets", json::array()},
               {"hostPaths", json::array()},             {"serviceAccountName", ""}};
  const json spec = pod.value("spec", json::object());
  refs["serviceAccountName"] = spec.value("serviceAccountName", "default");
  refs["automountServiceAccountToken"] = spec.value("automountServiceAccountToken", true);
  for (const auto& volume : spec.value("volumes", json::array())) {
    if (!volume.is_object()) continue;
    if (volume.contains("configMap")) addName(refs["configMaps"], volume["configMap"].value("name", json()));
    if (volume.contains("secret")) addName(refs["secrets"], volume["secret"].value("secretName", json()));
    if (volume.contains("persistentVolumeClaim")) {
      addName(refs["persistentVolumeClaims"], volume["persistentVolumeClaim"].value("claimName", json()));
    }
    if (volume.contains("hostPath")) addName(refs["hostPaths"], volume["hostPath"].value("path", json()));
    if (volume.contains("projected")) {
      for (const auto& source : volume["projected"].value("sources", json::array())) {
        if (source.contains("configMap")) addName(refs["configMaps"], source["configMap"].value("name", json()));
        if (source.contains("secret")) addName(refs["secrets"], source["secret"].value("name", json()));
      }
    }
  }
  for (const auto& ref : internal::containersOf(pod)) {
    for (const auto& container : spec.value(ref.kind, json::array())) {
      if (container.value("name", "") != ref.name) continue;
      for (const auto& from : container.value("envFrom", json::array())) {
        if (from.contains("configMapRef")) addName(refs["configMaps"], from["configMapRef"].value("name", json()));
        if (from.contains("secretRef")) addName(refs["secrets"], from["secretRef"].value("name", json()));
      }
      for (const auto& env : container.value("env", json::array())) {
        const json valueFrom = env.value("valueFrom", json::object());
        if (valueFrom.contains("configMapKeyRef")) addName(refs["configMaps"], valueFrom["configMapKeyRef"].value("name", json()));
        if (valueFrom.contains("secretKeyRef")) addName(refs["secrets"], valueFrom["secretKeyRef"].value("name", json()));
      }
    }
  }
  for (const auto& pull : spec.value("imagePullSecrets", json::array())) {
    addName(refs["imagePullSecrets"], pull.value("name", json()));
  }
  return refs;
}

// The images that actually ran: the status's imageID is the digest the node pulled, which a
// mutable tag in the spec does not tell.
json imagesOf(const json& pod) {
  json images = json::array();
  const json spec = pod.value("spec", json::object());
  const json status = pod.value("status", json::object());
  for (const auto& ref : internal::containersOf(pod)) {
    json entry = {{"container", ref.name}, {"kind", ref.kind}};
    for (const auto& container : spec.value(ref.kind, json::array())) {
      if (container.value("name", "") == ref.name) entry["image"] = container.value("image", "");
    }
    std::string statusList = ref.kind == "initContainers" ? "initContainerStatuses"
                             : ref.kind == "containers"   ? "containerStatuses"
                                                          : "ephemeralContainerStatuses";
    for (const auto& state : status.value(statusList, json::array())) {
      if (state.value("name", "") != ref.name) continue;
      entry["imageID"] = state.value("imageID", "");
      entry["containerID"] = state.value("containerID", "");
      entry["restartCount"] = state.value("restartCount", 0);
    }
    images.push_back(std::move(entry));
  }
  return images;
}

class PodSpecCollector final : public Collector {
 public:
  PodSpecCollector(std::string name, std::string path, json (*extract)(const json&),
                   kube::Client* client)
      : name_(std::move(name)), path_(std::move(path)), extract_(extract), client_(client) {}
  std::string_view name() const override { return name_; }
  Collected collect(const CaptureRequest& request) override {
    Collected collected;
    auto pod = internal::podObject(request, client_);
    if (!pod.object) {
      collected.artifacts.push_back({path_, name_, "", pod.error});
      return collected;
    }
    collected.artifacts.push_back({path_, name_, pretty(extract_(*pod.object)), ""});
    return collected;
  }

 private:
  std::string name_;
  std::string path_;
  json (*extract_)(const json&);
  kube::Client* client_;
};

}  // namespace

void addPodSpecCollectors(CollectorRegistry& registry, kube::Client* client) {
  registry.add(std::make_shared<PodSpecCollector>("references", "references.json", referencesOf, client));
  registry.add(std::make_shared<PodSpecCollector>("images", "images.json", imagesOf, client));
}

}  // namespace podmortem::controller
