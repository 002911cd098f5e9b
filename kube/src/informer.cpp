#include "podmortem/kube/informer.h"

#include <random>

#include "podmortem/core/log.h"

namespace podmortem::kube {

namespace log = core::log;
using nlohmann::json;

Informer::Informer(Client& client, Options options, OnChange onChange, Metrics* metrics)
    : client_(client), options_(std::move(options)), onChange_(std::move(onChange)),
      metrics_(metrics) {}

Informer::~Informer() { stop(); }

void Informer::start() {
  if (thread_.joinable()) return;
  thread_ = std::jthread([this](std::stop_token stop) { run(stop); });
}

void Informer::stop() {
  if (!thread_.joinable()) return;
  thread_.request_stop();
  wake_.notify_all();
  thread_.join();
}

std::string Informer::resourceVersion() const {
  std::lock_guard lock(mutex_);
  return resourceVersion_;
}

std::string Informer::keyOf(const json& object) {
  const auto& metadata = object.value("metadata", json::object());
  std::string uid = metadata.value("uid", "");
  if (!uid.empty()) return uid;
  return metadata.value("namespace", "") + "/" + metadata.value("name", "");
}

void Informer::run(std::stop_token stop) {
  int failures = 0;
  bool needList = true;
  while (!stop.stop_requested()) {
    if (needList) {
      if (!list(stop)) {
        backoff(stop, failures);
        continue;
      }
      needList = false;
      failures = 0;
    }
    bool failed = false;
    needList = watch(stop, failed);
    if (failed) {
      backoff(stop, failures);
    } else {
      failures = 0;
    }
  }
}

bool Informer::list(std::stop_token stop) {
  std::map<std::string, json> objects;
  std::string continueToken;
  std::string version;
  do {
    Request request;
    request.verb = "list";
    request.resource = options_.resource;
    request.path = options_.path + "?limit=" + std::to_string(options_.pageSize);
    if (!continueToken.empty()) request.path += "&continue=" + encodeQueryValue(continueToken);
    request.maxBodyBytes = size_t{256} << 20;
    Response response = client_.send(request);
    if (stop.stop_requested()) return false;
    if (!response.ok()) {
      // A 410 here means the continue token expired: the next attempt starts a fresh list.
      log::warn("list failed", {{"resource", options_.resource}, {"error", response.describe()}});
      return false;
    }
    auto page = json::parse(response.body, nullptr, false);
    if (!page.is_object() || !page.contains("items") || !page["items"].is_array()) {
      log::warn("list answer is not a list", {{"resource", options_.resource}});
      return false;
    }
    for (auto& item : page["items"]) {
      // The key first: json's operator= takes its argument by value, and C++17 evaluates the
      // right side of an assignment before the left, so `objects[keyOf(item)] = move(item)`
      // would read an item already moved from.
      std::string key = keyOf(item);
      objects[key] = std::move(item);
    }
    const auto& metadata = page.value("metadata", json::object());
    version = metadata.value("resourceVersion", "");
    continueToken = metadata.value("continue", "");
  } while (!continueToken.empty());
  {
    std::lock_guard lock(mutex_);
    objects_ = std::move(objects);
    resourceVersion_ = version;
  }
  ++lists_;
  synced_ = true;
  publish();
  return true;
}

bool Informer::watch(std::stop_token stop, bool& failed) {
  // Jitter the server-side timeout so that replicas do not all re-watch at the same moment.
  static thread_local std::mt19937 random{std::random_device{}()};
  auto seconds = options_.watchTimeout.count();
  auto timeout = seconds + std::uniform_int_distribution<long>(0, std::max<long>(1, seconds / 4))(random);
  Request request;
  request.verb = "watch";
  request.resource = options_.resource;
  request.path = options_.path + "?watch=1&allowWatchBookmarks=true&timeoutSeconds=" +
                 std::to_string(timeout) + "&resourceVersion=" + encodeQueryValue(resourceVersion());
  request.maxBodyBytes = size_t{16} << 20;  // one event

  bool expired = false;
  bool badEvent = false;
  Response response = client_.stream(
      request,
      [&](std::string_view line) {
        auto event = json::parse(line, nullptr, false);
        if (!event.is_object() || !event.contains("object") || !event["object"].is_object()) {
          badEvent = true;
          return false;
        }
        std::string type = event.value("type", "");
        json& object = event["object"];
        if (type == "ERROR") {
          int code = object.value("code", 0);
          if (code == 410) {
            expired = true;
          } else {
            log::warn("watch error", {{"resource", options_.resource},
                                      {"message", object.value("message", "")}});
            badEvent = true;
          }
          return false;
        }
        std::string version = object.value("metadata", json::object()).value("resourceVersion", "");
        bool changed = false;
        {
          std::lock_guard lock(mutex_);
          if (type == "ADDED" || type == "MODIFIED") {
            objects_[keyOf(object)] = object;
            changed = true;
          } else if (type == "DELETED") {
            changed = objects_.erase(keyOf(object)) > 0;
          } else if (type != "BOOKMARK") {
            badEvent = true;
            return false;
          }
          if (!version.empty()) resourceVersion_ = version;
        }
        if (changed) publish();
        return true;
      },
      stop);
  if (stop.stop_requested()) return false;
  auto restart = [&](const char* reason) {
    if (metrics_ != nullptr) {
      metrics_->watchRestarts.Add({{"resource", options_.resource}, {"reason", reason}}).Increment();
    }
  };
  if (expired || response.status == 410) {
    log::info("watch expired; listing again", {{"resource", options_.resource}});
    restart("expired");
    return true;
  }
  if (!response.ok() || badEvent) {
    log::warn("watch failed", {{"resource", options_.resource},
                               {"error", badEvent ? "unusable event" : response.describe()}});
    restart("error");
    failed = true;
    // After an unusable event the version may be one the stream never got right: relist.
    return badEvent;
  }
  restart("closed");
  return false;
}

void Informer::publish() {
  std::vector<json> snapshot;
  {
    std::lock_guard lock(mutex_);
    snapshot.reserve(objects_.size());
    for (const auto& [key, object] : objects_) snapshot.push_back(object);
  }
  try {
    onChange_(snapshot);
  } catch (const std::exception& error) {
    log::error("informer handler failed", {{"resource", options_.resource}, {"error", error.what()}});
  }
}

void Informer::backoff(std::stop_token stop, int& failures) {
  static thread_local std::mt19937 random{std::random_device{}()};
  auto base = options_.initialBackoff * (1LL << std::min(failures, 16));
  auto capped = std::min<std::chrono::milliseconds>(base, options_.maxBackoff);
  ++failures;
  // Full jitter between half and all of the delay.
  std::uniform_int_distribution<long long> spread(capped.count() / 2, capped.count());
  auto delay = std::chrono::milliseconds(spread(random));
  std::unique_lock lock(waitMutex_);
  wake_.wait_for(lock, stop, delay, [] { return false; });
}

}  // namespace podmortem::kube
