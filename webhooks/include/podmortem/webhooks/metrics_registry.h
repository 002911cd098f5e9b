#pragma once

#include <prometheus/collectable.h>
#include <prometheus/metric_type.h>
#include <prometheus/registry.h>

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace podmortem::webhooks {

// One sample of an observed family: its labels and its value now.
struct ObservedSample {
  prometheus::Labels labels;
  double value = 0;
};

// The process's one metrics registry. Components declare their own families on registry();
// render() adds podmortem_build_info, the standard process_* metrics and the observed families,
// in the Prometheus text format served on /metrics. A scrape only reads: nothing it does
// changes a value.
class MetricsRegistry {
 public:
  MetricsRegistry();
  ~MetricsRegistry();

  prometheus::Registry& registry() { return *registry_; }
  std::string render() const;

  // A family whose values belong to state owned elsewhere (policy counts, the audit window's
  // size, free space on the evidence volume): `read` runs at each scrape and must only read.
  // `type` is Gauge or Counter (a counter's read must never go down).
  void observe(std::string name, std::string help, prometheus::MetricType type,
               std::function<std::vector<ObservedSample>()> read);

 private:
  class ObservedFamilies;
  std::shared_ptr<prometheus::Registry> registry_;
  std::shared_ptr<prometheus::Collectable> processCollector_;
  std::shared_ptr<ObservedFamilies> observed_;
};

}  // namespace podmortem::webhooks
