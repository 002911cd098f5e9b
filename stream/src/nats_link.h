#pragma once

#include <atomic>
#include <mutex>
#include <string>

#include "nats_handles.h"
#include "podmortem/core/result.h"
#include "podmortem/stream/settings.h"
#include "podmortem/stream/stream_metrics.h"

namespace podmortem::stream {

// The connection to the NATS servers of stream.url. Once a server has answered, the client
// library reconnects by itself, forever, to any server of the list (or one the cluster
// announces); until then connect() is called again by whoever needs the link.
class NatsLink {
 public:
  NatsLink(StreamSettings settings, std::string replica, StreamMetrics& metrics);
  ~NatsLink();
  NatsLink(const NatsLink&) = delete;
  NatsLink& operator=(const NatsLink&) = delete;

  // One attempt, bounded by stream.connectTimeout; ok at once when already connected. A bad
  // TLS or credentials file is kInvalidArgument (the operator must fix it).
  core::Status connect();
  // Whether a server answers now (not while the library is reconnecting).
  bool connected() const;
  // Null until connect() succeeded once; then valid until this link is destroyed.
  natsConnection* connection() const { return live_.load(); }
  // How many times the library reconnected since the first connection: a consumer whose
  // server may have gone subscribes again.
  uint64_t reconnects() const { return reconnects_.load(); }
  // The largest message a server accepts (its max_payload).
  int64_t maxPayload() const;
  void close();

 private:
  core::Result<NatsOptionsPtr> options();
  static void onDisconnected(natsConnection*, void* self);
  static void onReconnected(natsConnection*, void* self);

  const StreamSettings settings_;
  const std::string replica_;
  StreamMetrics& metrics_;
  std::mutex mutex_;
  NatsConnectionPtr connection_;
  std::atomic<natsConnection*> live_{nullptr};
  std::atomic<uint64_t> reconnects_{0};  // connection_, for readers without the lock
};

}  // namespace podmortem::stream
