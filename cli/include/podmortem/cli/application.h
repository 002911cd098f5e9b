#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "podmortem/cli/config.h"

namespace podmortem::cli {

// Test seams: what a test may replace in an otherwise real server.
struct ApplicationHooks;

// The running server: wires configuration, TLS, policies, capture, evidence and metrics
// together. `podmortem serve` runs one; integration tests run one in-process on ephemeral ports.
class Application {
 public:
  explicit Application(Config config);
  Application(Config config, const ApplicationHooks& hooks);
  ~Application();

  // Binds both listeners and starts serving. Throws std::runtime_error with a clear message.
  void start();
  // Stops accepting and lets in-flight requests finish for at most limits.shutdownTimeout.
  void stop();

  uint16_t webhookPort() const;
  uint16_t metricsPort() const;
  // The CA that signs the serving certificate when it was generated; else tls.certFile.
  const std::string& caFile() const;

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace podmortem::cli
