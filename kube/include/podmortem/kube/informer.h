#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "podmortem/kube/client.h"
#include "podmortem/kube/metrics.h"

namespace podmortem::kube {

// Keeps a local copy of one collection of Kubernetes objects, like client-go's informer: list
// (paged) with its resourceVersion, then watch from it with bookmarks; on `410 Gone` (an HTTP 410
// or an ERROR event with code 410) list again; when the stream ends, watch again; on errors,
// retry with exponential backoff and jitter. Never gives up and never throws.
//
// Level-based: after each change the handler receives every object currently known, so a
// missed notification can never leave a consumer behind.
class Informer {
 public:
  struct Options {
    std::string path;      // the collection: /apis/podmortem.io/v1alpha1/forensicpolicies
    std::string resource;  // for metrics and logs: "forensicpolicies"
    std::chrono::seconds watchTimeout{std::chrono::minutes(5)};  // server-side, jittered
    std::chrono::milliseconds initialBackoff{std::chrono::milliseconds(500)};
    std::chrono::milliseconds maxBackoff{std::chrono::seconds(30)};
    size_t pageSize = 500;
  };
  using OnChange = std::function<void(const std::vector<nlohmann::json>& objects)>;

  Informer(Client& client, Options options, OnChange onChange, Metrics* metrics);
  ~Informer();  // stops and joins

  Informer(const Informer&) = delete;
  Informer& operator=(const Informer&) = delete;

  void start();
  void stop();

  bool synced() const { return synced_; }  // listed successfully at least once
  uint64_t lists() const { return lists_; }
  std::string resourceVersion() const;

 private:
  void run(std::stop_token stop);
  bool list(std::stop_token stop);
  // Returns true when the watch ended in a way that needs a new list (410).
  bool watch(std::stop_token stop, bool& failed);
  void publish();
  void backoff(std::stop_token stop, int& failures);
  static std::string keyOf(const nlohmann::json& object);

  Client& client_;
  const Options options_;
  const OnChange onChange_;
  Metrics* metrics_;

  mutable std::mutex mutex_;
  std::map<std::string, nlohmann::json> objects_;
  std::string resourceVersion_;
  std::atomic<bool> synced_{false};
  std::atomic<uint64_t> lists_{0};

  std::mutex waitMutex_;
  std::condition_variable_any wake_;
  std::jthread thread_;
};

}  // namespace podmortem::kube
