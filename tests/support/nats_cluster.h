#pragma once

#include <chrono>
#include <memory>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "child_process.h"

namespace podmortem::testing {

// Real nats-server processes (the Debian package) with JetStream on file storage: one server,
// or three clustered over routes, for the tests of replicas sharing the audit stream. Ports are
// chosen free on 127.0.0.1 (bound to port 0, then handed to the server), and each server keeps
// its port and store across restarts, as a StatefulSet's pod does.
class NatsCluster {
 public:
  NatsCluster(std::filesystem::path dir, int servers);
  ~NatsCluster();  // SIGKILL and reap every server still running
  NatsCluster(const NatsCluster&) = delete;
  NatsCluster& operator=(const NatsCluster&) = delete;

  // Starts every server and waits until each says JetStream is healthy; throws with their logs
  // when they do not within `timeout`.
  void start(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  void startServer(int index);
  void kill(int index);  // SIGKILL: no goodbye to clients or peers
  void killAll();
  // Every running server answers /healthz?js-enabled-only=true (JetStream up).
  bool healthy() const;
  // Every server's /healthz is ok: JetStream's streams are current on each (a restarted server
  // has caught up with its peers).
  bool current() const;

  std::string url() const;  // every server, comma-separated, for stream.url
  int size() const { return static_cast<int>(servers_.size()); }
  std::string log(int index) const;
  std::string logs() const;

 private:
  struct Server {
    std::string name;
    uint16_t clientPort = 0;
    uint16_t routePort = 0;
    uint16_t monitorPort = 0;
    std::shared_ptr<ChildProcess> process;
  };
  bool answers(const Server& server, const std::string& target) const;

  std::filesystem::path dir_;
  std::vector<Server> servers_;
};

}  // namespace podmortem::testing
