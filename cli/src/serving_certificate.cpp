#include "serving_certificate.h"

#include <filesystem>

#include "podmortem/core/log.h"
#include "podmortem/webhooks/self_signed.h"

namespace podmortem::cli {

namespace log = core::log;

namespace {

ServingCertificate managedCertificate(const webhooks::TlsSettings& tls,
                                      const std::string& stateDir, kube::Client& client,
                                      const std::string& namespaceName) {
  webhooks::WebhookCertificates::Options options;
  options.namespaceName = namespaceName;
  options.secretName = tls.secretName;
  options.webhookConfiguration = tls.webhookConfiguration;
  options.dnsNames = tls.dnsNames;
  options.dir = (std::filesystem::path(stateDir) / "webhook").string();
  ServingCertificate serving;
  serving.managed = std::make_unique<webhooks::WebhookCertificates>(client, options);
  auto synced = serving.managed->sync();
  if (synced.ok()) {
    log::info("webhook certificate is in place", {{"secret", options.secretName}});
  } else {
    // Serving a local certificate the API server does not trust yet beats not serving: the
    // background sync keeps trying, and failurePolicy Ignore covers the gap.
    log::warn("webhook certificate Secret not in sync yet; retrying in the background",
              {{"error", synced.error().message}});
  }
  serving.managed->start();
  auto files = serving.managed->files();
  serving.files.certFile = files.certFile;
  serving.files.keyFile = files.keyFile;
  serving.caFile = files.caFile;
  return serving;
}

}  // namespace

ServingCertificate prepareServingCertificate(const webhooks::TlsSettings& tls,
                                             const std::string& stateDir, kube::Client* client,
                                             const std::string& namespaceName) {
  ServingCertificate serving;
  if (tls.manageSecret) {
    if (client == nullptr) {
      throw std::runtime_error("tls.manageSecret needs a Kubernetes API; kubernetes.mode found none");
    }
    serving = managedCertificate(tls, stateDir, *client, namespaceName);
  } else if (tls.certFile.empty()) {
    auto generated = webhooks::ensureSelfSignedCertificate(stateDir, tls.dnsNames);
    serving.files.certFile = generated.certFile;
    serving.files.keyFile = generated.keyFile;
    serving.caFile = generated.caFile;
    log::info(generated.created ? "generated a self-signed CA and serving certificate"
                                : "using the self-signed certificate from an earlier start",
              {{"caFile", serving.caFile}, {"hint", "curl --cacert " + serving.caFile}});
  } else {
    serving.files.certFile = tls.certFile;
    serving.files.keyFile = tls.keyFile;
    serving.caFile = tls.certFile;
  }
  serving.files.clientCAFile = tls.clientCAFile;
  serving.files.reloadInterval = tls.reloadInterval;
  return serving;
}

}  // namespace podmortem::cli
