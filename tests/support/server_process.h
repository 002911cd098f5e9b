#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>

#include "https_client.h"

namespace podmortem::testing {

// `podmortem serve` as a process of its own (the real binary, PODMORTEM_BINARY), for what only
// a process shows: signals, crashes, restarts, its own file descriptors. Its config is written
// into `dir`; listen and metricsListen default to 127.0.0.1:0, and the ports it bound are read
// from its "podmortem is serving" log line. Its stderr goes to <dir>/podmortem.log.
class ServerProcess {
 public:
  ServerProcess(std::filesystem::path dir, const std::string& configYaml);
  ~ServerProcess();  // SIGKILL and reap, if it still runs
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // Starts (again) with the same config and waits until it serves; throws with its log when
  // it does not within `timeout`.
  void start(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  void signal(int sig) const;
  // Waits for the process to end: its exit code, or 128 + the signal that killed it; -1 when it
  // did not end within `timeout` (then it is killed). After start() threw because the process
  // exited, that exit.
  int wait(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  bool running() const { return pid_ > 0; }

  uint16_t webhookPort() const { return webhookPort_; }
  uint16_t metricsPort() const { return metricsPort_; }
  uint16_t downloadPort() const { return downloadPort_; }  // 0: no download server (no API)
  std::string caFile() const;  // the generated CA in <stateDir>/tls
  HttpClient client() const;
  HttpClient metricsClient() const;
  std::string log() const;  // everything it wrote to stderr, all runs
  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path evidenceDir() const { return dir_ / "evidence"; }

 private:
  std::filesystem::path dir_;
  pid_t pid_ = -1;
  int exitedAtStart_ = -1;
  uint16_t webhookPort_ = 0;
  uint16_t metricsPort_ = 0;
  uint16_t downloadPort_ = 0;
};

}  // namespace podmortem::testing
