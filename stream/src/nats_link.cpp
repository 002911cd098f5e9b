#include "nats_link.h"

#include <vector>

#include "podmortem/core/log.h"

namespace podmortem::stream {

namespace log = core::log;

namespace {

core::Error badFile(const std::string& key, const std::string& file, natsStatus status) {
  return core::makeError(core::ErrorCode::kInvalidArgument,
                         key + " (" + file + "): " + natsError(status));
}

}  // namespace

NatsLink::NatsLink(StreamSettings settings, std::string replica, StreamMetrics& metrics)
    : settings_(std::move(settings)), replica_(std::move(replica)), metrics_(metrics) {}

NatsLink::~NatsLink() { close(); }

core::Result<NatsOptionsPtr> NatsLink::options() {
  natsOptions* raw = nullptr;
  if (natsStatus s = natsOptions_Create(&raw); s != NATS_OK) {
    return natsFailure("NATS client options", s);
  }
  NatsOptionsPtr opts(raw);
  auto urls = settings_.urls();
  std::vector<const char*> servers;
  bool tls = !settings_.caFile.empty() || !settings_.certFile.empty();
  for (const auto& url : urls) {
    servers.push_back(url.c_str());
    if (url.rfind("tls://", 0) == 0) tls = true;
  }
  natsOptions_SetServers(opts.get(), servers.data(), static_cast<int>(servers.size()));
  natsOptions_SetName(opts.get(), ("podmortem " + replica_).c_str());
  natsOptions_SetTimeout(opts.get(), settings_.connectTimeout.count());
  // Once connected, never give up: a NATS outage must end with the link back, not a restart.
  natsOptions_SetMaxReconnect(opts.get(), -1);
  natsOptions_SetReconnectWait(opts.get(), 250);
  natsOptions_SetReconnectJitter(opts.get(), 100, 500);
  // A server that stops answering (not only one that closes the socket) is noticed in seconds.
  natsOptions_SetPingInterval(opts.get(), 2000);
  natsOptions_SetMaxPingsOut(opts.get(), 2);
  natsOptions_SetDisconnectedCB(opts.get(), &NatsLink::onDisconnected, this);
  natsOptions_SetReconnectedCB(opts.get(), &NatsLink::onReconnected, this);
  if (tls) {
    natsOptions_SetSecure(opts.get(), true);
    if (!settings_.caFile.empty()) {
      if (natsStatus s = natsOptions_LoadCATrustedCertificates(opts.get(), settings_.caFile.c_str());
          s != NATS_OK) {
        return badFile("stream.tls.caFile", settings_.caFile, s);
      }
    }
    if (!settings_.certFile.empty()) {
      if (natsStatus s = natsOptions_LoadCertificatesChain(opts.get(), settings_.certFile.c_str(),
                                                           settings_.keyFile.c_str());
          s != NATS_OK) {
        return badFile("stream.tls.certFile", settings_.certFile, s);
      }
    }
  }
  if (!settings_.credentialsFile.empty()) {
    if (natsStatus s = natsOptions_SetUserCredentialsFromFiles(
            opts.get(), settings_.credentialsFile.c_str(), nullptr);
        s != NATS_OK) {
      return badFile("stream.credentialsFile", settings_.credentialsFile, s);
    }
  }
  return opts;
}

core::Status NatsLink::connect() {
  std::lock_guard lock(mutex_);
  if (connection_) return {};
  auto opts = options();
  if (!opts) return opts.error();
  natsConnection* raw = nullptr;
  natsStatus s = natsConnection_Connect(&raw, opts->get());
  if (s != NATS_OK) {
    natsConnection_Destroy(raw);
    return natsFailure("no NATS server of stream.url answered", s);
  }
  connection_.reset(raw);
  live_ = raw;
  metrics_.connected.Set(1);
  char url[256] = {};
  natsConnection_GetConnectedUrl(raw, url, sizeof(url));
  log::info("connected to NATS", {{"server", std::string(url)}});
  return {};
}

bool NatsLink::connected() const {
  auto* connection = live_.load();
  return connection != nullptr && natsConnection_Status(connection) == NATS_CONN_STATUS_CONNECTED;
}

int64_t NatsLink::maxPayload() const {
  auto* connection = live_.load();
  return connection != nullptr ? natsConnection_GetMaxPayload(connection) : 0;
}

void NatsLink::close() {
  std::lock_guard lock(mutex_);
  if (connection_) natsConnection_Close(connection_.get());
  metrics_.connected.Set(0);
}

void NatsLink::onDisconnected(natsConnection*, void* self) {
  auto* link = static_cast<NatsLink*>(self);
  link->metrics_.connected.Set(0);
  log::warn("lost the connection to NATS; reconnecting (until it is back, /audit answers 503)");
}

void NatsLink::onReconnected(natsConnection* connection, void* self) {
  auto* link = static_cast<NatsLink*>(self);
  ++link->reconnects_;
  link->metrics_.connected.Set(1);
  char url[256] = {};
  natsConnection_GetConnectedUrl(connection, url, sizeof(url));
  log::info("reconnected to NATS", {{"server", std::string(url)}});
}

}  // namespace podmortem::stream
