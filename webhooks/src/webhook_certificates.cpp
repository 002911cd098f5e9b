#include "podmortem/webhooks/webhook_certificates.h"

#include <openssl/evp.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "podmortem/core/log.h"

namespace podmortem::webhooks {

namespace fs = std::filesystem;
namespace log = core::log;
using kube::Request;
using nlohmann::json;

namespace {

constexpr const char* kFiles[] = {"ca.crt", "ca.key", "tls.crt", "tls.key"};

std::string base64(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::optional<std::string> unbase64(const std::string& text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out(text.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()),
                          static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  size_t padding = 0;
  for (auto it = text.rbegin(); it != text.rend() && *it == '='; ++it) ++padding;
  out.resize(static_cast<size_t>(n) - padding);
  return out;
}

std::string readAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Writes only what changed, keys 0600, through a temporary name: the TLS reloader sees either
// the old or the new file, never half of one.
void writeIfChanged(const fs::path& path, const std::string& bytes) {
  std::error_code ec;
  if (fs::exists(path, ec) && readAll(path) == bytes) return;
  fs::path temporary = path;
  temporary += ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << bytes;
  }
  fs::permissions(temporary, fs::perms::owner_read | fs::perms::owner_write, ec);
  fs::rename(temporary, path);
}

}  // namespace

WebhookCertificates::WebhookCertificates(kube::Client& client, Options options)
    : client_(client),
      options_(std::move(options)),
      worker_("webhook certificates", options_.resyncInterval, [this](std::stop_token) {
        if (auto synced = sync(); !synced.ok()) {
          log::warn("webhook certificate sync failed", {{"error", synced.error().message}});
        }
      }) {}

WebhookCertificates::~WebhookCertificates() { stop(); }

GeneratedCertificate WebhookCertificates::files() const {
  fs::path dir = fs::path(options_.dir) / "tls";
  return {(dir / "ca.crt").string(), (dir / "tls.crt").string(), (dir / "tls.key").string(), false};
}

core::Status WebhookCertificates::sync() {
  if (auto secret = syncSecret(); !secret.ok()) return secret;
  return syncCaBundle();
}

core::Status WebhookCertificates::syncSecret(int attempt) {
  std::string secretPath = "/api/v1/namespaces/" + options_.namespaceName + "/secrets/" + options_.secretName;
  fs::path dir = fs::path(options_.dir) / "tls";
  fs::create_directories(dir);
  fs::permissions(dir, fs::perms::owner_all);

  kube::Request get;
  get.path = secretPath;
  get.resource = "secrets";
  auto current = client_.send(get);
  json secret;
  if (current.ok()) {
    secret = json::parse(current.body, nullptr, false);
    const json data = secret.is_object() ? secret.value("data", json::object()) : json::object();
    // Take the shared certificate into the local files; ensureSelfSignedCertificate then says
    // whether it is still good (valid 30 more days, every name covered).
    for (const char* name : kFiles) {
      auto bytes = data.contains(name) && data[name].is_string() ? unbase64(data[name]) : std::nullopt;
      if (bytes) writeIfChanged(dir / name, *bytes);
    }
  } else if (current.status != 404) {
    ensureSelfSignedCertificate(options_.dir, options_.dnsNames);  // serve meanwhile
    return current.asError("reading Secret " + options_.secretName);
  }

  auto generated = ensureSelfSignedCertificate(options_.dir, options_.dnsNames);
  if (current.ok() && !generated.created) return {};

  json data = json::object();
  for (const char* name : kFiles) data[name] = base64(readAll(dir / name));
  kube::Request write;
  write.resource = "secrets";
  if (current.status == 404) {
    json object = {{"apiVersion", "v1"},
                   {"kind", "Secret"},
                   {"type", "kubernetes.io/tls"},
                   {"metadata",
                    {{"name", options_.secretName},
                     {"namespace", options_.namespaceName},
                     {"labels", {{"app.kubernetes.io/managed-by", "podmortem"}}}}},
                   {"data", data}};
    write.verb = "create";
    write.method = "POST";
    write.path = "/api/v1/namespaces/" + options_.namespaceName + "/secrets";
    write.body = object.dump();
  } else {
    secret["data"] = data;  // carries metadata.resourceVersion: a concurrent renewal is a 409
    write.verb = "update";
    write.method = "PUT";
    write.path = secretPath;
    write.body = secret.dump();
  }
  auto written = client_.send(write);
  if (written.ok()) {
    log::info(current.status == 404 ? "created the webhook certificate Secret"
                                    : "renewed the webhook certificate in its Secret",
              {{"secret", options_.secretName}, {"namespace", options_.namespaceName}});
    return {};
  }
  if (written.status == 409 && attempt < 2) {
    // Another replica created or renewed it first: theirs is the one to use.
    return syncSecret(attempt + 1);
  }
  return written.asError("writing Secret " + options_.secretName);
}

core::Status WebhookCertificates::syncCaBundle() {
  if (options_.webhookConfiguration.empty()) return {};
  std::string path = "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/" +
                     options_.webhookConfiguration;
  kube::Request get;
  get.path = path;
  get.resource = "validatingwebhookconfigurations";
  auto current = client_.send(get);
  if (!current.ok()) return current.asError("reading ValidatingWebhookConfiguration");
  auto config = json::parse(current.body, nullptr, false);
  if (!config.is_object()) {
    return core::makeError(core::ErrorCode::kUnavailable,
                           "ValidatingWebhookConfiguration is not a JSON object");
  }
  std::string bundle = base64(readAll(files().caFile));
  bool changed = false;
  for (auto& webhook : config["webhooks"]) {
    if (webhook["clientConfig"].value("caBundle", "") != bundle) {
      webhook["clientConfig"]["caBundle"] = bundle;
      changed = true;
    }
  }
  if (!changed) return {};
  kube::Request update;
  update.verb = "update";
  update.method = "PUT";
  update.path = path;
  update.resource = "validatingwebhookconfigurations";
  update.body = config.dump();
  auto written = client_.send(update);
  if (!written.ok()) return written.asError("updating the caBundle");
  log::info("wrote the CA into the webhook configuration",
            {{"webhookConfiguration", options_.webhookConfiguration}});
  return {};
}

// The first sync ran before the server started (see Application); the thread keeps it current.
void WebhookCertificates::start() { worker_.start(core::PeriodicWorker::FirstTick::kAfterInterval); }

void WebhookCertificates::stop() { worker_.stop(); }

}  // namespace podmortem::webhooks
