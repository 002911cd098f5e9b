#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <cstdint>
#include <string>
#include <vector>

namespace podmortem::testing {

// A fresh folder under the system temp dir, removed with everything in it at scope exit.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string str() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

std::string readFile(const std::filesystem::path& path);
void writeFile(const std::filesystem::path& path, const std::string& bytes);

// A recorded payload in ../shared/fixtures (PODMORTEM_FIXTURES_DIR) and the project's own.
std::filesystem::path sharedFixture(const std::string& relative);
bool sharedFixturesPresent();
std::filesystem::path ownFixture(const std::string& relative);
std::filesystem::path sourcePath(const std::string& relative);

// Polls `condition` until it holds or `timeout` passes. For waiting on another process or an
// asynchronous effect, never as a fixed sleep.
bool eventually(const std::function<bool()>& condition,
                std::chrono::milliseconds timeout = std::chrono::seconds(10));

// Runs a command through /bin/sh; returns the exit status and what it printed.
struct CommandResult {
  int exitCode = -1;
  std::string output;  // stdout and stderr together
};
CommandResult runCommand(const std::string& command);

// `count` distinct ports that were free on 127.0.0.1 a moment ago (bound to port 0 together,
// then released) for a server that takes its port from its command line.
std::vector<uint16_t> freeLoopbackPorts(int count);

}  // namespace podmortem::testing
