#pragma once

#include <memory>
#include <string>

#include "podmortem/kube/client.h"
#include "podmortem/webhooks/http_server.h"
#include "podmortem/webhooks/settings.h"
#include "podmortem/webhooks/webhook_certificates.h"

namespace podmortem::cli {

// The webhook server's certificate as tls.* asks for it: files the operator gave, a Secret
// shared by the replicas (tls.manageSecret, kept current in the background), or a self-signed CA
// made in stateDir for local use.
struct ServingCertificate {
  webhooks::TlsFiles files;
  std::string caFile;  // what clients should trust: the generated CA, else tls.certFile
  std::unique_ptr<webhooks::WebhookCertificates> managed;  // set for tls.manageSecret
};

// `client` is null without a Kubernetes API. Throws std::runtime_error when the chosen source
// cannot work.
ServingCertificate prepareServingCertificate(const webhooks::TlsSettings& tls,
                                             const std::string& stateDir, kube::Client* client,
                                             const std::string& namespaceName);

}  // namespace podmortem::cli
