#include "podmortem/controller/kube_collectors.h"

#include <openssl/sha.h>

#include "pod_object.h"

namespace podmortem::controller {

namespace {

using internal::pretty;
using nlohmann::json;

kube::Request getRequest(std::string path, std::string resource) {
  kube::Request request;
  request.path = std::move(path);
  request.resource = std::move(resource);
  return request;
}

std::string nsOf(const CaptureRequest& request) { return request.pod.namespaceName; }

// pod: the copy the request carried, at once; only without one, a fresh GET.
class LivePodCollector final : public Collector {
 public:
  explicit LivePodCollector(kube::Client& client) : client_(client) {}
  std::string_view name() const override { return "pod"; }
  Collected collect(const CaptureRequest& request) override {
    Collected collected;
    if (!request.podJson.empty()) {
      collected.artifacts.push_back({"pod.json", "pod", request.podJson, ""});
    } else {
      auto live = internal::getPod(client_, nsOf(request), request.pod.name);
      collected.artifacts.push_back({"pod.json", "pod", live.ok() ? live.body : "",
                                     live.ok() ? "" : "GET pod: " + live.describe()});
    }
    if (!request.triggerObjectJson.empty()) {
      collected.artifacts.push_back({"request-object.json", "pod", request.triggerObjectJson, ""});
    }
    return collected;
  }

 private:
  kube::Client& client_;
};

// The pod as the API server has it now, beside the admission copy (status, restarts, labels
// changed since). A companion of `pod`, so a slow API never holds up the copy.
class PodLiveCollector final : public Collector {
 public:
  static constexpr const char* kName = "podLive";
  explicit PodLiveCollector(kube::Client& client) : client_(client) {}
  std::string_view name() const override { return kName; }
  Collected collect(const CaptureRequest& request) override {
    Collected collected;
    if (request.podJson.empty()) return collected;  // `pod` fetched it live already
    auto live = internal::getPod(client_, nsOf(request), request.pod.name);
    if (live.ok()) {
      collected.artifacts.push_back({"pod.live.json", "pod", live.body, ""});
    } else if (live.status == 404) {
      // Gone already (a force delete): the admission copy is the evidence; say so.
      collected.manifest["podLive"] = "not found: the pod was already gone";
    } else {
      collected.artifacts.push_back({"pod.live.json", "pod", "", "GET pod: " + live.describe()});
    }
    return collected;
  }

 private:
  kube::Client& client_;
};

// Where a controller owner lives in the API, by kind.
std::optional<std::pair<std::string, std::string>> ownerPath(const std::string& kind,
                                                              const std::string& ns,
                                                              const std::string& name) {
  static const std::map<std::string, std::pair<std::string, std::string>> kinds = {
      {"ReplicaSet", {"/apis/apps/v1", "replicasets"}},
      {"Deployment", {"/apis/apps/v1", "deployments"}},
      {"StatefulSet", {"/apis/apps/v1", "statefulsets"}},
      {"DaemonSet", {"/apis/apps/v1", "daemonsets"}},
      {"Job", {"/apis/batch/v1", "jobs"}},
      {"CronJob", {"/apis/batch/v1", "cronjobs"}},
      {"ReplicationController", {"/api/v1", "replicationcontrollers"}}};
  auto it = kinds.find(kind);
  if (it == kinds.end()) return std::nullopt;
  return std::pair{it->second.first + "/namespaces/" + ns + "/" + it->second.second + "/" + name,
                   it->second.second};
}

std::string lower(std::string text) {
  for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

bool isDnsName(const std::string& text) {
  return !text.empty() && text.size() <= 253 && std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
  }) && text.front() != '.' && text.find("..") == std::string::npos;
}

class OwnersCollector final : public Collector {
 public:
  explicit OwnersCollector(kube::Client& client) : client_(client) {}
  std::string_view name() const override { return "owners"; }
  Collected collect(const CaptureRequest& request) override {
    Collected collected;
    auto pod = internal::podObject(request, &client_);
    if (!pod.object) {
      collected.artifacts.push_back({"owners", "owners", "", pod.error});
      return collected;
    }
    json chain = json::array();
    json current = *pod.object;
    // A controller chain is short (Pod → ReplicaSet → Deployment); the bound stops a cycle.
    for (int depth = 0; depth < 5; ++depth) {
      json controller;
      for (const auto& ref : current["metadata"].value("ownerReferences", json::array())) {
        if (ref.value("controller", false)) controller = ref;
      }
      if (controller.is_null()) break;
      std::string kind = controller.value("kind", "");
      std::string name = controller.value("name", "");
      json link = {{"kind", kind}, {"name", name}, {"uid", controller.value("uid", "")}};
      auto where = ownerPath(kind, nsOf(request), name);
      if (!where || !isDnsName(name)) {
        link["skipped"] = "not a kind podmortem reads";
        chain.push_back(link);
        break;
      }
      std::string path = "owners/" + lower(kind) + "-" + name + ".json";
      auto response = client_.send(getRequest(where->first, where->second));
      if (!response.ok()) {
        collected.artifacts.push_back({path, "owners", "", "GET " + kind + ": " + response.describe()});
        chain.push_back(link);
        break;
      }
      collected.artifacts.push_back({path, "owners", response.body, ""});
      link["artifact"] = path;
      chain.push_back(link);
      current = json::parse(response.body, nullptr, false);
      if (!current.is_object()) break;
    }
    collected.manifest["owners"] = chain;
    return collected;
  }

 private:
  kube::Client& client_;
};

class EventsCollector final : public Collector {
 public:
  explicit EventsCollector(kube::Client& client) : client_(client) {}
  std::string_view name() const override { return "events"; }
  Collected collect(const CaptureRequest& request) override {
    Collected collected;
    std::string selector = !request.pod.uid.empty()
                               ? "involvedObject.uid=" + request.pod.uid
                               : "involvedObject.kind=Pod,involvedObject.name=" + request.pod.name;
    kube::Request list = getRequest("/api/v1/namespaces/" + nsOf(request) +
                                      "/events?fieldSelector=" + kube::encodeQueryValue(selector),
                                  "events");
    list.verb = "list";
    auto response = client_.send(list);
    collected.artifacts.push_back({"events.json", "events", response.ok() ? response.body : "",
                                   response.ok() ? "" : "list events: " + response.describe()});
    return collected;
  }

 private:
  kube::Client& client_;
};

class LogsCollector final : public Collector {
 public:
  LogsCollector(kube::Client& client, bool previous) : client_(client), previous_(previous) {}
  std::string_view name() const override { return previous_ ? "previousLogs" : "logs"; }
  Collected collect(const CaptureRequest& request) override {
    Collected collected;
    auto pod = internal::podObject(request, &client_);
    if (!pod.object) {
      collected.artifacts.push_back({"logs", std::string(name()), "", pod.error});
      return collected;
    }
    json notes = json::array();
    for (const auto& container : internal::containersOf(*pod.object)) {
      if (previous_ && restartCount(*pod.object, container) == 0) {
        notes.push_back({{"container", container.name}, {"skipped", "never restarted"}});
        continue;
      }
      std::string path = "logs/" + container.name + (previous_ ? ".previous.log" : ".log");
      std::string query = "?container=" + kube::encodeQueryValue(container.name) +
                          "&timestamps=true&limitBytes=" + std::to_string(request.logLimitBytes);
      if (request.logTailLines > 0) query += "&tailLines=" + std::to_string(request.logTailLines);
      if (previous_) query += "&previous=true";
      kube::Request get = getRequest("/api/v1/namespaces/" + nsOf(request) + "/pods/" +
                                       request.pod.name + "/log" + query,
                                   "pods/log");
      get.maxBodyBytes = static_cast<size_t>(request.logLimitBytes) + 4096;
      auto response = client_.send(get);
      if (response.ok()) {
        collected.artifacts.push_back({path, std::string(name()), response.body, ""});
        if (response.body.size() >= static_cast<size_t>(request.logLimitBytes)) {
          notes.push_back({{"container", container.name}, {"truncated", "at limitBytes"}});
        }
      } else if (previous_ && response.status == 400) {
        // The kubelet keeps one previous instance at most; none is not a failure.
        notes.push_back({{"container", container.name}, {"skipped", response.describe()}});
      } else {
        collected.artifacts.push_back(
            {path, std::string(name()), "", "GET log: " + response.describe()});
      }
    }
    collected.manifest[previous_ ? "previousLogs" : "logs"] = {
        {"limitBytes", request.logLimitBytes}, {"tailLines", request.logTailLines}, {"notes", notes}};
    return collected;
  }

 private:
  static int restartCount(const json& pod, const internal::ContainerRef& container) {
    const json status = pod.value("status", json::object());
    for (const char* list : {"initContainerStatuses", "containerStatuses", "ephemeralContainerStatuses"}) {
      for (const auto& state : status.value(list, json::array())) {
        if (state.value("name", "") == container.name) return state.value("restartCount", 0);
      }
    }
    return -1;  // unknown: ask the API
  }

  kube::Client& client_;
  bool previous_;
};

// node and serviceAccount: one GET named by the pod spec.
class NamedObjectCollector final : public Collector {
 public:
  NamedObjectCollector(kube::Client& client, std::string name, std::string artifact)
      : client_(client), name_(std::move(name)), artifact_(std::move(artifact)) {}
  std::string_view name() const override { return name_; }
  Collected collect(const CaptureRequest& request) override {
    Collected collected;
    auto pod = internal::podObject(request, &client_);
    if (!pod.object) {
      collected.artifacts.push_back({artifact_, name_, "", pod.error});
      return collected;
    }
    const json spec = pod.object->value("spec", json::object());
    kube::Request get;
    if (name_ == "node") {
      std::string node = spec.value("nodeName", request.pod.node);
      if (node.empty()) {
        collected.artifacts.push_back({artifact_, name_, "", "the pod is not scheduled on a node"});
        return collected;
      }
      get = getRequest("/api/v1/nodes/" + node, "nodes");
    } else {
      get = getRequest("/api/v1/namespaces/" + nsOf(request) + "/serviceaccounts/" +
                           spec.value("serviceAccountName", "default"),
                       "serviceaccounts");
    }
    auto response = client_.send(get);
    collected.artifacts.push_back({artifact_, name_, response.ok() ? response.body : "",
                                   response.ok() ? "" : "GET " + name_ + ": " + response.describe()});
    return collected;
  }

 private:
  kube::Client& client_;
  std::string name_;
  std::string artifact_;
};

// A label value that ties the quarantine NetworkPolicy to exactly this pod.
std::string quarantineValue(const CaptureRequest& request) {
  if (!request.pod.uid.empty()) return request.pod.uid;
  std::string key = request.pod.namespaceName + "/" + request.pod.name;
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), digest);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string value;
  for (int i = 0; i < 16; ++i) {
    value += kHex[digest[i] >> 4];
    value += kHex[digest[i] & 15];
  }
  return value;
}

class ActionsCollector final : public Collector {
 public:
  ActionsCollector(kube::Client& client, ClusterMetrics* metrics) : client_(client), metrics_(metrics) {}
  std::string_view name() const override { return kActionsCollector; }
  Collected collect(const CaptureRequest& request) override {
    Collected collected;
    json results = json::array();
    const auto& actions = request.actions;
    std::string quarantine = actions.quarantine ? quarantineValue(request) : "";
    json labels = json::object();
    for (const auto& [key, value] : actions.labels) labels[key] = value;
    if (!quarantine.empty()) labels["podmortem.io/quarantine"] = quarantine;
    json annotations = json::object();
    for (const auto& [key, value] : actions.annotations) annotations[key] = value;
    if (!labels.empty() || !annotations.empty()) {
      json metadata = json::object();
      if (!labels.empty()) metadata["labels"] = labels;
      if (!annotations.empty()) metadata["annotations"] = annotations;
      kube::Request patch = getRequest("/api/v1/namespaces/" + nsOf(request) + "/pods/" + request.pod.name, "pods");
      patch.verb = "patch";
      patch.method = "PATCH";
      patch.contentType = "application/merge-patch+json";
      patch.body = json{{"metadata", metadata}}.dump();
      auto response = client_.send(patch);
      std::string result = response.ok() ? "applied" : "failed";
      std::string message = response.ok() ? "" : "PATCH pod: " + response.describe();
      if (!actions.labels.empty() || actions.quarantine) record(results, "labels", result, message);
      if (!actions.annotations.empty()) record(results, "annotations", result, message);
      if (!response.ok() && actions.quarantine) {
        record(results, "quarantine", "failed", "the pod could not be labelled: " + message);
        quarantine.clear();
      }
    }
    if (!quarantine.empty()) {
      json policy = {
          {"apiVersion", "networking.k8s.io/v1"},
          {"kind", "NetworkPolicy"},
          {"metadata",
           {{"name", "podmortem-quarantine-" + quarantine.substr(0, 23)},
            {"namespace", nsOf(request)},
            {"labels", {{"app.kubernetes.io/managed-by", "podmortem"}}},
            {"annotations", {{"podmortem.io/pod", request.pod.name}, {"podmortem.io/policy", request.policyName}}}}},
          {"spec",
           {{"podSelector", {{"matchLabels", {{"podmortem.io/quarantine", quarantine}}}}},
            {"policyTypes", {"Ingress", "Egress"}}}}};
      kube::Request create = getRequest("/apis/networking.k8s.io/v1/namespaces/" + nsOf(request) +
                                          "/networkpolicies",
                                      "networkpolicies");
      create.verb = "create";
      create.method = "POST";
      create.body = policy.dump();
      auto response = client_.send(create);
      bool done = response.ok() || response.reason() == "AlreadyExists";
      record(results, "quarantine", done ? "applied" : "failed",
             done ? "NetworkPolicy " + policy["metadata"]["name"].get<std::string>()
                  : "create NetworkPolicy: " + response.describe());
    }
    collected.manifest["actions"] = results;
    for (const auto& result : results) {
      if (result["result"] == "failed") {
        // A failed action is a failure of the capture: the manifest says which and why.
        collected.artifacts.push_back({"actions/" + result["action"].get<std::string>(),
                                       std::string(kActionsCollector), "",
                                       result["action"].get<std::string>() + ": " +
                                           result["message"].get<std::string>()});
      }
    }
    return collected;
  }

 private:
  void record(json& results, const std::string& action, const std::string& result,
              const std::string& message) {
    results.push_back({{"action", action}, {"result", result}, {"message", message}});
    if (metrics_ != nullptr) metrics_->actions.Add({{"action", action}, {"result", result}}).Increment();
  }

  kube::Client& client_;
  ClusterMetrics* metrics_;
};

}  // namespace

void addKubeCollectors(CollectorRegistry& registry, kube::Client& client, ClusterMetrics* metrics) {
  registry.add(std::make_shared<LivePodCollector>(client));
  registry.add(std::make_shared<PodLiveCollector>(client));
  registry.addCompanion("pod", PodLiveCollector::kName);
  registry.add(std::make_shared<OwnersCollector>(client));
  registry.add(std::make_shared<EventsCollector>(client));
  registry.add(std::make_shared<LogsCollector>(client, false));
  registry.add(std::make_shared<LogsCollector>(client, true));
  registry.add(std::make_shared<NamedObjectCollector>(client, "node", "node.json"));
  registry.add(std::make_shared<NamedObjectCollector>(client, "serviceAccount", "serviceaccount.json"));
  registry.add(std::make_shared<ActionsCollector>(client, metrics));
  addPodSpecCollectors(registry, &client);
}

}  // namespace podmortem::controller
