#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <string>

namespace podmortem::kube {

// Every family the Kubernetes API client exports.
struct Metrics {
  explicit Metrics(prometheus::Registry& registry);

  // podmortem_kube_requests_total{verb,resource,code}: code is the HTTP status or "error".
  prometheus::Family<prometheus::Counter>& requests;
  // podmortem_kube_watch_restarts_total{resource,reason}: reason closed, expired, error.
  prometheus::Family<prometheus::Counter>& watchRestarts;
  prometheus::Gauge& leader;  // podmortem_leader: 1 while this replica holds the lease

  void countRequest(const std::string& verb, const std::string& resource,
                    const std::string& code) {
    requests.Add({{"verb", verb}, {"resource", resource}, {"code", code}}).Increment();
  }
};

}  // namespace podmortem::kube
