#include "podmortem/webhooks/admission_metrics.h"

#include "metric_children.h"
#include "podmortem/webhooks/http_metrics.h"

namespace podmortem::webhooks {

struct AdmissionMetrics::Children {
  explicit Children(AdmissionMetrics& metrics)
      : requests({"operation", "resource", "decision"},
                 [&metrics](const prometheus::Labels& labels) -> prometheus::Counter& {
                   return metrics.requests.Add(labels);
                 }),
        duration({"matched"},
                 [&metrics](const prometheus::Labels& labels) -> prometheus::Histogram& {
                   return metrics.duration.Add(labels, latencyBuckets());
                 }) {}

  MetricChildren<prometheus::Counter> requests;
  MetricChildren<prometheus::Histogram> duration;
};

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
                           .Add({})),
      children_(std::make_unique<Children>(*this)) {}

AdmissionMetrics::~AdmissionMetrics() = default;

void AdmissionMetrics::answered(std::string_view operation, std::string_view resource,
                                std::string_view decision, bool matched, double seconds) {
  children_->requests.get({operation, resource, decision}).Increment();
  children_->duration.get({matched ? "true" : "false"}).Observe(seconds);
}

}  // namespace podmortem::webhooks
