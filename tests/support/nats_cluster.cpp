#include "nats_cluster.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stdexcept>

#include "https_client.h"
#include "test_support.h"

namespace podmortem::testing {

namespace fs = std::filesystem;

std::vector<uint16_t> freeLoopbackPorts(int count) {
  std::vector<int> sockets;
  std::vector<uint16_t> ports;
  for (int i = 0; i < count; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    socklen_t length = sizeof(address);
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      throw std::runtime_error("no free port on 127.0.0.1");
    }
    sockets.push_back(fd);
    ports.push_back(ntohs(address.sin_port));
  }
  for (int fd : sockets) ::close(fd);
  return ports;
}

NatsCluster::NatsCluster(fs::path dir, int servers) : dir_(std::move(dir)) {
  fs::create_directories(dir_);
  auto ports = freeLoopbackPorts(servers * 3);
  for (int i = 0; i < servers; ++i) {
    Server server;
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
  if (server.pid > 0) return;
  std::string logFile = (dir_ / (server.name + ".log")).string();
  std::string configFile = (dir_ / (server.name + ".conf")).string();
  pid_t pid = ::fork();
  if (pid == 0) {
    int fd = ::open(logFile.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd >= 0) {
      ::dup2(fd, STDERR_FILENO);
      ::dup2(fd, STDOUT_FILENO);
    }
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execlp("nats-server", "nats-server", "-c", configFile.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  if (pid < 0) throw std::runtime_error("fork failed");
  server.pid = pid;
}

void NatsCluster::start(std::chrono::milliseconds timeout) {
  for (int i = 0; i < size(); ++i) startServer(i);
  if (!eventually([this] { return healthy(); }, timeout)) {
    throw std::runtime_error("nats-server did not become healthy:\n" + logs());
  }
}

void NatsCluster::kill(int index) {
  Server& server = servers_.at(index);
  if (server.pid <= 0) return;
  ::kill(server.pid, SIGKILL);
  int status = 0;
  ::waitpid(server.pid, &status, 0);
  server.pid = -1;
}

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
    if (server.pid > 0 && !answers(server, "/healthz?js-enabled-only=true")) return false;
  }
  return true;
}

bool NatsCluster::current() const {
  for (const auto& server : servers_) {
    if (server.pid > 0 && !answers(server, "/healthz")) return false;
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
