#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace podmortem::webhooks {

// Every family the admission handler exports.
struct AdmissionMetrics {
  explicit AdmissionMetrics(prometheus::Registry& registry);

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
};

}  // namespace podmortem::webhooks
