#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace podmortem::testing {

// A program the tests start (a server they run against): stdout and stderr appended to a log
// file, signals unblocked, killed and reaped when the object goes.
class ChildProcess {
 public:
  ChildProcess() = default;
  ~ChildProcess();  // SIGKILL and reap, if it still runs
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Starts `program` (looked up in PATH when it has no '/') with `args`; extra environment
  // variables are added to the test's own.
  void start(const std::string& program, const std::vector<std::string>& args,
             const std::filesystem::path& logFile,
             const std::map<std::string, std::string>& environment = {});
  bool running();  // reaps it when it ended
  void signal(int sig) const;
  // SIGTERM, then SIGKILL after `grace`; returns once it is reaped.
  void stop(std::chrono::milliseconds grace = std::chrono::seconds(10));
  void kill();  // SIGKILL and reap
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
};

}  // namespace podmortem::testing
