#include "observed_metrics.h"

#include <filesystem>
#include <optional>

#include "podmortem/webhooks/certificate_info.h"

namespace podmortem::cli {

namespace {

using Samples = std::vector<webhooks::ObservedSample>;
constexpr auto kGauge = prometheus::MetricType::Gauge;

std::optional<std::filesystem::space_info> spaceOf(const std::string& dir) {
  std::error_code ec;
  auto info = std::filesystem::space(dir, ec);
  if (ec) return std::nullopt;
  return info;
}

}  // namespace

void observePolicies(webhooks::MetricsRegistry& metrics, const policy::PolicyStore& policies) {
  metrics.observe("podmortem_policies", "ForensicPolicies loaded, by state (valid, invalid).",
                  kGauge, [&policies]() -> Samples {
                    return {{{{"state", "valid"}}, static_cast<double>(policies.validCount())},
                            {{{"state", "invalid"}}, static_cast<double>(policies.invalidCount())}};
                  });
}

void observeWindow(webhooks::MetricsRegistry& metrics,
                   std::shared_ptr<const policy::CorrelationWindow> window) {
  metrics.observe("podmortem_audit_index_events", "Audit events in the correlation window.",
                  kGauge, [window]() -> Samples {
                    return {{{}, static_cast<double>(window->size())}};
                  });
  metrics.observe("podmortem_audit_index_evictions_total",
                  "Audit events dropped from the correlation window for age or for "
                  "audit.maxEvents.",
                  prometheus::MetricType::Counter, [window]() -> Samples {
                    return {{{}, static_cast<double>(window->evictions())}};
                  });
}

void observeHost(webhooks::MetricsRegistry& metrics, std::string servingCertFile,
                 std::string evidenceDir) {
  metrics.observe("podmortem_tls_certificate_expiry_timestamp_seconds",
                  "When the serving certificate expires, in seconds since the epoch.", kGauge,
                  [servingCertFile]() -> Samples {
                    auto notAfter = webhooks::certificateNotAfter(servingCertFile);
                    if (!notAfter) return {};
                    return {{{}, static_cast<double>(
                                     std::chrono::system_clock::to_time_t(*notAfter))}};
                  });
  metrics.observe("podmortem_evidence_volume_size_bytes",
                  "Size of the filesystem holding evidence.dir.", kGauge, [evidenceDir]() -> Samples {
                    auto info = spaceOf(evidenceDir);
                    if (!info) return {};
                    return {{{}, static_cast<double>(info->capacity)}};
                  });
  metrics.observe("podmortem_evidence_volume_available_bytes",
                  "Bytes still free for podmortem on the filesystem holding evidence.dir.", kGauge,
                  [evidenceDir]() -> Samples {
                    auto info = spaceOf(evidenceDir);
                    if (!info) return {};
                    return {{{}, static_cast<double>(info->available)}};
                  });
}

void observeExport(webhooks::MetricsRegistry& metrics,
                   std::shared_ptr<const controller::FindingsExport> findings) {
  std::weak_ptr<const controller::FindingsExport> weak = findings;
  metrics.observe("podmortem_export_pending", "Findings in the outbox a sink has not taken yet.",
                  kGauge, [weak]() -> Samples {
                    Samples samples;
                    if (auto findings = weak.lock()) {
                      for (const auto& sink : findings->sinks()) {
                        samples.push_back({{{"sink", sink.name}}, static_cast<double>(sink.pending)});
                      }
                    }
                    return samples;
                  });
  metrics.observe("podmortem_export_oldest_pending_age_seconds",
                  "Age of the oldest finding a sink has not taken; 0 when it has them all.", kGauge,
                  [weak]() -> Samples {
                    Samples samples;
                    if (auto findings = weak.lock()) {
                      for (const auto& sink : findings->sinks()) {
                        samples.push_back({{{"sink", sink.name}}, sink.oldestPendingSeconds});
                      }
                    }
                    return samples;
                  });
}

void observeUploads(webhooks::MetricsRegistry& metrics, const evidence::S3Uploads& uploads) {
  const evidence::S3Uploads* source = &uploads;  // lives as long as the server (stopped after it)
  constexpr auto kCounter = prometheus::MetricType::Counter;
  metrics.observe("podmortem_s3_uploads_pending", "Sealed bundles and addenda queued for upload.", kGauge,
                  [source]() -> Samples { return {{{}, static_cast<double>(source->state().pending)}}; });
  metrics.observe("podmortem_s3_upload_oldest_pending_age_seconds",
                  "Age of the oldest bundle waiting to be uploaded; 0 when none waits.", kGauge,
                  [source]() -> Samples { return {{{}, source->state().oldestPendingSeconds}}; });
  metrics.observe("podmortem_s3_uploaded_total", "Bundles and addenda wholly uploaded and confirmed.",
                  kCounter, [source]() -> Samples { return {{{}, static_cast<double>(source->state().uploaded)}}; });
  metrics.observe("podmortem_s3_objects_total", "Objects written to the store.", kCounter,
                  [source]() -> Samples { return {{{}, static_cast<double>(source->state().objects)}}; });
  metrics.observe("podmortem_s3_bytes_total", "Bytes written to the store.", kCounter,
                  [source]() -> Samples { return {{{}, static_cast<double>(source->state().bytes)}}; });
  metrics.observe("podmortem_s3_failures_total",
                  "Upload attempts that failed (the store down, credentials refused); retried.", kCounter,
                  [source]() -> Samples { return {{{}, static_cast<double>(source->state().failures)}}; });
  metrics.observe("podmortem_s3_conflicts_total",
                  "Objects found in the store with other content: never overwritten, the bundle stays local.",
                  kCounter, [source]() -> Samples { return {{{}, static_cast<double>(source->state().conflicts)}}; });
}

}  // namespace podmortem::cli
