#include "podmortem/webhooks/admission_metrics.h"

namespace podmortem::webhooks {

AdmissionMetrics::AdmissionMetrics(prometheus::Registry& registry)
    : requests(prometheus::BuildCounter()
                   .Name("podmortem_admission_requests_total")
                   .Help("AdmissionReview requests answered, by operation, resource and decision.")
                   .Register(registry)),
      duration(prometheus::BuildHistogram()
                   .Name("podmortem_admission_duration_seconds")
                   .Help("Time to answer an AdmissionReview; matched=true when a policy held it "
                         "for a capture.")
                   .Register(registry)),
      policyMatches(prometheus::BuildCounter()
                        .Name("podmortem_policy_matches_total")
                        .Help("Triggers of a ForensicPolicy that fired, by policy and trigger.")
                        .Register(registry)),
      holdTimeouts(prometheus::BuildCounter()
                       .Name("podmortem_admission_hold_timeouts_total")
                       .Help("Held admission answers released because the capture was not done "
                             "by the hold deadline, by the policy's onTimeout.")
                       .Register(registry)),
      connectsRecorded(prometheus::BuildCounter()
                           .Name("podmortem_admission_connects_recorded_total")
                           .Help("Execs, attaches and port-forwards recorded into the correlation "
                                 "window at admission, before their audit events arrive.")
                           .Register(registry)
                           .Add({})) {}

}  // namespace podmortem::webhooks
