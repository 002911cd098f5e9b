#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "podmortem/webhooks/http_metrics.h"
#include "podmortem/webhooks/http_types.h"

namespace podmortem::webhooks {

struct TlsFiles {
  std::string certFile;
  std::string keyFile;
  std::string clientCAFile;  // optional: request and verify client certificates
  std::chrono::milliseconds reloadInterval{std::chrono::seconds(2)};
};

struct ServerOptions {
  std::string name = "webhook";  // in log lines
  std::string host = "127.0.0.1";
  uint16_t port = 0;  // 0: an ephemeral port, see HttpServer::port()
  bool useTls = true;
  TlsFiles tls;
  uint64_t maxBodyBytes = 12 * 1024 * 1024;
  // Connections open at once. When full, a new one takes the place of the oldest that has not
  // sent a whole request (or, failing that, of the oldest idle one); one address holds at most
  // maxConnectionsPerAddress (0: no cap). Connections being answered are never closed for it.
  uint32_t maxConnections = 1024;
  uint32_t maxConnectionsPerAddress = 0;
  std::chrono::milliseconds readTimeout{std::chrono::seconds(10)};   // handshake; request body
  std::chrono::milliseconds idleTimeout{std::chrono::seconds(90)};   // waiting for the next request
  // Writing one whole answer; 0: readTimeout. Longer on the download port, whose answers are bundles.
  std::chrono::milliseconds writeTimeout{0};
  uint32_t threads = 1;  // one event loop (io_context + SO_REUSEPORT acceptor) per thread
};

// An HTTP/1.1 server on Boost.Beast: HTTPS (TLS 1.2+) or plain HTTP, keep-alive, routing on
// the path without the query string, JSON errors for 404/405/413/415, bounded connections,
// read timeouts, certificate reload, and graceful shutdown.
class HttpServer {
 public:
  HttpServer(ServerOptions options, std::vector<Route> routes, HttpMetrics& metrics);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts the event loops. Throws std::runtime_error when the address cannot be
  // bound or the TLS files cannot be loaded.
  void start();
  uint16_t port() const;

  // Serves a socket that is already connected (one end of a socketpair) as if it had been
  // accepted: the connection handling as a whole without a network, for fuzzing and tests. The
  // server owns `fd` from here on. Only after start().
  void serveConnection(int fd);

  // Stops accepting, lets requests already read finish (their answers are written) for at most
  // `grace`, then closes everything and joins the threads.
  void shutdown(std::chrono::milliseconds grace);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace podmortem::webhooks
