#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <memory>
#include <string_view>

namespace podmortem::webhooks {

// Every family the admission handler exports.
struct AdmissionMetrics {
  explicit AdmissionMetrics(prometheus::Registry& registry);
  ~AdmissionMetrics();

  // One answered AdmissionReview, counted and timed without allocating (after the first of its
  // kind): what every request pays, matched or not.
  void answered(std::string_view operation, std::string_view resource, std::string_view decision,
                bool matched, double seconds);

  // podmortem_admission_requests_total{operation,resource,decision}; decision is allowed,
  // denied or invalid (a 400).
  prometheus::Family<prometheus::Counter>& requests;
  // podmortem_admission_duration_seconds{matched}: time to the answer, held ones included.
  prometheus::Family<prometheus::Histogram>& duration;
  // podmortem_policy_matches_total{policy,trigger}
  prometheus::Family<prometheus::Counter>& policyMatches;
  // podmortem_admission_hold_timeouts_total{on_timeout}: answers released by the hold deadline.
  prometheus::Family<prometheus::Counter>& holdTimeouts;
  // podmortem_admission_connects_recorded_total: execs, attaches and port-forwards written into
  // the correlation window at admission time (the audit batch comes seconds later).
  prometheus::Counter& connectsRecorded;

 private:
  struct Children;
  std::unique_ptr<Children> children_;
};

}  // namespace podmortem::webhooks
