#include "nats_cluster.h"

#include <unistd.h>

#include <stdexcept>

#include "https_client.h"
#include "test_support.h"

namespace podmortem::testing {

namespace fs = std::filesystem;

NatsCluster::NatsCluster(fs::path dir, int servers) : dir_(std::move(dir)) {
  fs::create_directories(dir_);
  auto ports = freeLoopbackPorts(servers * 3);
  for (int i = 0; i < servers; ++i) {
    Server server;
    server.process = std::make_shared<ChildProcess>();
    server.name = "n" + std::to_string(i + 1);
    server.clientPort = ports[i * 3];
    server.routePort = ports[i * 3 + 1];
    server.monitorPort = ports[i * 3 + 2];
    servers_.push_back(server);
  }
  for (const auto& server : servers_) {
    std::string config = "server_name: " + server.name + "\n" +
                         "listen: 127.0.0.1:" + std::to_string(server.clientPort) + "\n" +
                         "http: 127.0.0.1:" + std::to_string(server.monitorPort) + "\n" +
                         "jetstream {\n  store_dir: \"" + (dir_ / server.name).string() +
                         "\"\n  max_memory_store: 64MB\n  max_file_store: 2GB\n}\n";
    if (servers > 1) {
      config += "cluster {\n  name: podmortem-test\n  listen: 127.0.0.1:" +
                std::to_string(server.routePort) + "\n  routes: [\n";
      for (const auto& peer : servers_) {
        config += "    nats-route://127.0.0.1:" + std::to_string(peer.routePort) + "\n";
      }
      config += "  ]\n}\n";
    }
    writeFile(dir_ / (server.name + ".conf"), config);
  }
}

NatsCluster::~NatsCluster() { killAll(); }

void NatsCluster::startServer(int index) {
  Server& server = servers_.at(index);
  if (server.process->running()) return;
  server.process->start("nats-server", {"-c", (dir_ / (server.name + ".conf")).string()},
                        dir_ / (server.name + ".log"));
}

void NatsCluster::start(std::chrono::milliseconds timeout) {
  for (int i = 0; i < size(); ++i) startServer(i);
  if (!eventually([this] { return healthy(); }, timeout)) {
    throw std::runtime_error("nats-server did not become healthy:\n" + logs());
  }
}

void NatsCluster::kill(int index) { servers_.at(index).process->kill(); }

void NatsCluster::killAll() {
  for (int i = 0; i < size(); ++i) kill(i);
}

bool NatsCluster::answers(const Server& server, const std::string& target) const {
  try {
    HttpClient client(server.monitorPort, ClientOptions{});
    return client.get(target).status == 200;
  } catch (const std::exception&) {
    return false;  // not listening yet
  }
}

bool NatsCluster::healthy() const {
  for (const auto& server : servers_) {
    if (server.process->running() && !answers(server, "/healthz?js-enabled-only=true")) {
      return false;
    }
  }
  return true;
}

bool NatsCluster::current() const {
  for (const auto& server : servers_) {
    if (server.process->running() && !answers(server, "/healthz")) return false;
  }
  return true;
}

std::string NatsCluster::url() const {
  std::string url;
  for (const auto& server : servers_) {
    url += (url.empty() ? "" : ",") + std::string("nats://127.0.0.1:") +
           std::to_string(server.clientPort);
  }
  return url;
}

std::string NatsCluster::log(int index) const {
  fs::path file = dir_ / (servers_.at(index).name + ".log");
  return fs::exists(file) ? readFile(file) : std::string();
}

std::string NatsCluster::logs() const {
  std::string all;
  for (int i = 0; i < size(); ++i) all += "--- " + servers_[i].name + "\n" + log(i);
  return all;
}

}  // namespace podmortem::testing
