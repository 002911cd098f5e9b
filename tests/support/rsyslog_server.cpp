#include "rsyslog_server.h"

#include <unistd.h>

#include <sstream>
#include <stdexcept>

#include "podmortem/webhooks/self_signed.h"

namespace podmortem::testing {

namespace fs = std::filesystem;

namespace {

void replaceAll(std::string& text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
}

}  // namespace

std::string RsyslogServer::binary() {
  for (const char* path : {"/usr/sbin/rsyslogd", "/sbin/rsyslogd"}) {
    if (::access(path, X_OK) == 0) return path;
  }
  return "";
}

RsyslogServer::RsyslogServer() {
  auto tls = webhooks::ensureSelfSignedCertificate(dir_.str(), {});
  caFile_ = tls.caFile;
  certFile_ = tls.certFile;
  keyFile_ = tls.keyFile;
  launch(0);
}

void RsyslogServer::start() { launch(port_); }

void RsyslogServer::stop() { process_.stop(std::chrono::seconds(5)); }

void RsyslogServer::launch(uint16_t port) {
  std::string config = readFile(sourcePath("tests/support/rsyslog_tls.conf.in"));
  const fs::path work = dir_.path() / "work";
  fs::create_directories(work);
  const fs::path portFile = dir_.path() / "port";
  const fs::path pidFile = work / "rsyslogd.pid";
  fs::remove(portFile);
  fs::remove(pidFile);
  replaceAll(config, "@WORK_DIR@", work.string());
  replaceAll(config, "@CA_FILE@", caFile_);
  replaceAll(config, "@CERT_FILE@", certFile_);
  replaceAll(config, "@KEY_FILE@", keyFile_);
  replaceAll(config, "@PORT@", std::to_string(port));
  replaceAll(config, "@PORT_FILE@", portFile.string());
  replaceAll(config, "@OUTPUT_FILE@", (dir_.path() / "messages.jsonl").string());
  const fs::path configFile = dir_.path() / "rsyslog.conf";
  writeFile(configFile, config);
  // The daemon starts even with a bad config (and then refuses every handshake): check it first.
  auto check = runCommand(binary() + " -N1 -f " + configFile.string() + " 2>&1");
  if (check.exitCode != 0) throw std::runtime_error("rsyslog config check failed: " + check.output);
  process_.start(binary(), {"-n", "-f", configFile.string(), "-i", pidFile.string()},
                 dir_.path() / "rsyslogd.log");
  // The pid file is written once the listener listens.
  bool ready = eventually([&] { return fs::exists(pidFile) || !process_.running(); },
                          std::chrono::seconds(20));
  if (!ready || !process_.running()) {
    throw std::runtime_error("rsyslogd did not start: " + readFile(dir_.path() / "rsyslogd.log"));
  }
  if (port == 0) {
    if (!eventually([&] { return fs::exists(portFile) && !readFile(portFile).empty(); })) {
      throw std::runtime_error("rsyslogd wrote no port file");
    }
    port_ = static_cast<uint16_t>(std::stoi(readFile(portFile)));
  }
}

std::vector<nlohmann::json> RsyslogServer::messages() const {
  std::vector<nlohmann::json> messages;
  auto path = dir_.path() / "messages.jsonl";
  if (!fs::exists(path)) return messages;
  std::string text = readFile(path);
  // A line still being written (the server appends while the test reads) waits for the next read.
  text.erase(text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1);
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty()) messages.push_back(nlohmann::json::parse(line));
  }
  return messages;
}

}  // namespace podmortem::testing
