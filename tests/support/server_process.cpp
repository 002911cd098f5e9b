#include "server_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "test_support.h"

namespace podmortem::testing {

namespace fs = std::filesystem;

namespace {

uint16_t portOf(const std::string& address) {
  return static_cast<uint16_t>(std::stoi(address.substr(address.rfind(':') + 1)));
}

}  // namespace

ServerProcess::ServerProcess(fs::path dir, const std::string& configYaml) : dir_(std::move(dir)) {
  fs::create_directories(dir_);
  std::string config = configYaml;
  if (config.find("\nlisten:") == std::string::npos && config.rfind("listen:", 0) != 0) {
    config += "\nlisten: 127.0.0.1:0\n";
  }
  if (config.find("metricsListen:") == std::string::npos) config += "metricsListen: 127.0.0.1:0\n";
  if (config.find("\ndownload:") == std::string::npos) config += "download: {listen: 127.0.0.1:0}\n";
  // Never the default /var/lib/podmortem/evidence of a real install.
  if (config.find("evidence:") != std::string::npos && config.find("dir: ") == std::string::npos) {
    throw std::logic_error("a test config with an evidence section must set evidence.dir");
  }
  if (config.find("stateDir:") == std::string::npos) config += "stateDir: state\n";
  if (config.find("\nevidence:") == std::string::npos && config.rfind("evidence:", 0) != 0) {
    config += "evidence: {dir: evidence}\n";
  }
  if (config.find("\nthreads:") == std::string::npos) config += "threads: 2\n";
  writeFile(dir_ / "podmortem.yaml", config);
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
}

void ServerProcess::start(std::chrono::milliseconds timeout) {
  if (pid_ > 0) throw std::logic_error("already running");
  exitedAtStart_ = -1;
  std::string logFile = (dir_ / "podmortem.log").string();
  size_t logStart = fs::exists(logFile) ? fs::file_size(logFile) : 0;
  std::string configFile = (dir_ / "podmortem.yaml").string();
  pid_t pid = ::fork();
  if (pid == 0) {
    int fd = ::open(logFile.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd >= 0) {
      ::dup2(fd, STDERR_FILENO);
      ::dup2(fd, STDOUT_FILENO);
    }
    // Signals the test process blocks must not stay blocked in the server.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execl(PODMORTEM_BINARY, PODMORTEM_BINARY, "serve", "--config", configFile.c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  if (pid < 0) throw std::runtime_error("fork failed");
  pid_ = pid;
  bool serving = eventually(
      [&] {
        std::string text = log().substr(std::min(logStart, log().size()));
        std::istringstream lines(text);
        for (std::string line; std::getline(lines, line);) {
          auto json = nlohmann::json::parse(line, nullptr, false);
          if (json.is_object() && json.value("msg", "") == "podmortem is serving") {
            webhookPort_ = portOf(json.value("webhook", ":0"));
            metricsPort_ = portOf(json.value("metrics", ":0"));
            std::string download = json.value("download", "off");
            downloadPort_ = download == "off" ? 0 : portOf(download);
            return true;
          }
        }
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
          pid_ = -1;
          exitedAtStart_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
          throw std::runtime_error("podmortem exited at start:\n" + text);
        }
        return false;
      },
      timeout);
  if (!serving) throw std::runtime_error("podmortem did not start serving:\n" + log());
}

void ServerProcess::signal(int sig) const {
  if (pid_ > 0) ::kill(pid_, sig);
}

int ServerProcess::wait(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return exitedAtStart_;
  int status = 0;
  bool ended = eventually([&] { return ::waitpid(pid_, &status, WNOHANG) == pid_; }, timeout);
  if (!ended) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return -1;
  }
  pid_ = -1;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : -1;
}

std::string ServerProcess::caFile() const { return (dir_ / "state" / "tls" / "ca.crt").string(); }

HttpClient ServerProcess::client() const {
  return HttpClient(webhookPort_, ClientOptions{.caFile = caFile()});
}

HttpClient ServerProcess::metricsClient() const { return HttpClient(metricsPort_, ClientOptions{}); }

std::string ServerProcess::log() const {
  fs::path file = dir_ / "podmortem.log";
  return fs::exists(file) ? readFile(file) : std::string();
}

}  // namespace podmortem::testing
