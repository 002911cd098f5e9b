#pragma once

#include <prometheus/labels.h>

#include <functional>
#include <initializer_list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace podmortem::webhooks {

// The children of one prometheus-cpp family, found by their label values. Family::Add builds a
// label map of strings, hashes it and takes the family's lock on every call, which profiling
// showed on the request path; this looks the values up in a map of its own instead, and
// allocates only the first time a set of values is seen.
template <typename Metric>
class MetricChildren {
 public:
  // Adds (or finds) the child for a full label set: Family::Add, with buckets for a histogram.
  using Make = std::function<Metric&(const prometheus::Labels&)>;

  MetricChildren(std::vector<std::string> labelNames, Make make)
      : names_(std::move(labelNames)), make_(std::move(make)) {}

  // `values` in the order of the label names.
  Metric& get(std::initializer_list<std::string_view> values) {
    thread_local std::string key;
    key.clear();
    for (std::string_view value : values) {
      key.append(value);
      key.push_back('\x1f');  // not in label values a request can give (see below)
    }
    {
      std::lock_guard lock(mutex_);
      if (auto it = cache_.find(key); it != cache_.end()) return *it->second;
    }
    prometheus::Labels labels;
    size_t i = 0;
    for (std::string_view value : values) labels.emplace(names_.at(i++), std::string(value));
    Metric& child = make_(labels);
    std::lock_guard lock(mutex_);
    // Label values come from requests: past this many sets the family alone keeps them (a
    // separator inside a value could only make two sets share a cache slot if it were cached).
    bool separatorInside = false;
    for (std::string_view value : values) separatorInside |= value.find('\x1f') != value.npos;
    if (cache_.size() < kMostCached && !separatorInside) cache_.emplace(key, &child);
    return child;
  }

 private:
  static constexpr size_t kMostCached = 256;

  const std::vector<std::string> names_;
  const Make make_;
  std::mutex mutex_;
  std::unordered_map<std::string, Metric*> cache_;
};

}  // namespace podmortem::webhooks
