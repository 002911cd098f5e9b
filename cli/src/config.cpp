#include "podmortem/cli/config.h"

namespace podmortem::cli {

void RuntimeSettings::bind(core::SectionBinder<RuntimeSettings>& keys) {
  keys.path("stateDir", &RuntimeSettings::stateDir,
            "folder for generated certificates and other state");
}

const core::ConfigSchema<Config>& configSchema() {
  static const core::ConfigSchema<Config> schema = [] {
    core::ConfigSchema<Config> s;
    s.section("", &Config::server)
        .section("", &Config::runtime)
        .section("tls", &Config::tls)
        .section("limits", &Config::limits)
        .section("audit", &Config::audit)
        .section("audit", &Config::correlation)
        .section("policies", &Config::policies)
        .section("evidence", &Config::evidence)
        .section("evidence", &Config::capture)
        .section("evidence.s3", &Config::s3)
        .section("kubernetes", &Config::kubernetes)
        .section("kubernetes", &Config::cluster)
        .section("leaderElection", &Config::leaderElection)
        .section("stream", &Config::stream)
        .section("export", &Config::findings)
        .section("download", &Config::download)
        .section("log", &Config::log);
    return s;
  }();
  return schema;
}

void validateConfig(const Config& config) {
  for (const core::Status& status :
       {config.server.validate(), config.runtime.validate(), config.tls.validate(),
        config.limits.validate(), config.audit.validate(), config.correlation.validate(),
        config.policies.validate(), config.evidence.validate(), config.s3.validate(),
        config.capture.validate(),
        config.kubernetes.validate(), config.cluster.validate(),
        config.leaderElection.validate(), config.stream.validate(), config.findings.validate(),
        config.log.validate()}) {
    core::throwIfInvalid(status);
  }
  if (config.audit.auth == webhooks::AuditAuth::kMtls && config.tls.clientCAFile.empty()) {
    throw core::ConfigError("audit.auth is mtls but tls.clientCAFile is not set");
  }
  if (config.evidence.store == evidence::StoreSettings::Kind::kS3 &&
      (config.s3.endpoint.empty() || config.s3.bucket.empty())) {
    throw core::ConfigError("evidence.store is s3 but evidence.s3.endpoint or evidence.s3.bucket is not set");
  }
  if (config.tls.manageSecret && config.kubernetes.mode == kube::Mode::kNone) {
    throw core::ConfigError("tls.manageSecret needs a Kubernetes API, but kubernetes.mode is none");
  }
}

Config loadConfig(const std::string& file,
                  const std::vector<std::pair<std::string, std::string>>& overrides) {
  Config config = file.empty() ? Config{} : configSchema().load(file);
  for (const auto& [key, value] : overrides) configSchema().set(config, key, value);
  validateConfig(config);
  return config;
}

}  // namespace podmortem::cli
