#pragma once

#include <memory>
#include <string>

#include "podmortem/controller/findings_export.h"
#include "podmortem/evidence/s3_uploads.h"
#include "podmortem/policy/correlation_window.h"
#include "podmortem/policy/policy_store.h"
#include "podmortem/webhooks/metrics_registry.h"

namespace podmortem::cli {

// The metric families whose values are read from their owners at each scrape.

// podmortem_policies{state}: valid and invalid ForensicPolicies loaded.
void observePolicies(webhooks::MetricsRegistry& metrics, const policy::PolicyStore& policies);

// podmortem_audit_index_events and podmortem_audit_index_evictions_total.
void observeWindow(webhooks::MetricsRegistry& metrics,
                   std::shared_ptr<const policy::CorrelationWindow> window);

// What the alerts on expiring certificates and a filling evidence volume need:
// podmortem_tls_certificate_expiry_timestamp_seconds, podmortem_evidence_volume_size_bytes and
// podmortem_evidence_volume_available_bytes.
void observeHost(webhooks::MetricsRegistry& metrics, std::string servingCertFile,
                 std::string evidenceDir);

// podmortem_export_pending{sink} and podmortem_export_oldest_pending_age_seconds{sink}: what
// waits in the findings outbox for each sink, and for how long the oldest has.
void observeExport(webhooks::MetricsRegistry& metrics,
                   std::shared_ptr<const controller::FindingsExport> findings);

// podmortem_s3_*: the uploads to object storage (evidence.store s3), read from their queue.
void observeUploads(webhooks::MetricsRegistry& metrics, const evidence::S3Uploads& uploads);

}  // namespace podmortem::cli
