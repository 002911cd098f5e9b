#pragma once

#include <prometheus/registry.h>

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace podmortem::webhooks {

// The process's one metrics registry. Components declare their own families on registry();
// render() adds podmortem_build_info and the standard process_* metrics, in the Prometheus
// text format served on /metrics.
class MetricsRegistry {
 public:
  MetricsRegistry();
  ~MetricsRegistry();

  prometheus::Registry& registry() { return *registry_; }
  std::string render() const;

  // Runs before every render: for gauges that mirror state owned elsewhere (policy counts).
  void onRender(std::function<void()> refresh);

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  std::shared_ptr<prometheus::Collectable> processCollector_;
  mutable std::mutex refreshMutex_;
  std::vector<std::function<void()>> refreshers_;
};

}  // namespace podmortem::webhooks
