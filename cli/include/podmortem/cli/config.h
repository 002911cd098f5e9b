#pragma once

#include <string>
#include <utility>
#include <vector>

#include "podmortem/controller/settings.h"
#include "podmortem/core/config.h"
#include "podmortem/core/log_settings.h"
#include "podmortem/evidence/settings.h"
#include "podmortem/kube/settings.h"
#include "podmortem/policy/settings.h"
#include "podmortem/stream/settings.h"
#include "podmortem/webhooks/settings.h"

namespace podmortem::cli {

// stateDir: where generated certificates, tokens and the audit spool live.
struct RuntimeSettings {
  std::string stateDir = "/var/lib/podmortem";

  static void bind(core::SectionBinder<RuntimeSettings>& keys);
  core::Status validate() const { return {}; }
};

// podmortem's whole configuration: each part's own section, under the key prefix the README
// documents. Components are handed their section, never this.
struct Config {
  webhooks::ServerSettings server;            // listen, metricsListen, threads
  RuntimeSettings runtime;                    // stateDir
  webhooks::TlsSettings tls;                  // tls.*
  webhooks::LimitsSettings limits;            // limits.*
  webhooks::AuditIngestSettings audit;        // audit.auth, audit.tokenFile, audit.queue*, ...
  policy::CorrelationSettings correlation;    // audit.window, audit.maxEvents, audit.spoolDir
  policy::PolicySourceSettings policies;      // policies.*
  evidence::StoreSettings evidence;           // evidence.dir, signingKeyFile, perReplica, store
  evidence::S3Settings s3;                    // evidence.s3.*
  controller::CaptureSettings capture;        // evidence.workers
  kube::ClientSettings kubernetes;            // kubernetes.* of the client
  controller::ClusterSettings cluster;        // kubernetes.evidenceRecords, statusInterval
  kube::LeaderElectionSettings leaderElection;  // leaderElection.*
  stream::StreamSettings stream;              // stream.*: the NATS stream shared by replicas
  controller::ExportSettings findings;        // export.*: findings to the SOC's sinks
  controller::DownloadSettings download;      // download.*: kubectl podmortem get
  core::LogSettings log;                      // log.*
};

const core::ConfigSchema<Config>& configSchema();

// Every section's validate(), then the checks that span sections. Throws core::ConfigError.
void validateConfig(const Config& config);

// The file (if any) over the defaults, then each KEY=VALUE override, then validateConfig.
// Throws core::ConfigError naming the key and the file.
Config loadConfig(const std::string& file,
                  const std::vector<std::pair<std::string, std::string>>& overrides);

}  // namespace podmortem::cli
