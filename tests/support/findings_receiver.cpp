#include "findings_receiver.h"

#include <csignal>
#include <set>
#include <sstream>
#include <stdexcept>

#include "podmortem/webhooks/self_signed.h"

namespace podmortem::testing {

FindingsReceiver::FindingsReceiver(Options options) : options_(std::move(options)) {
  auto tls = webhooks::ensureSelfSignedCertificate(dir_.str(), {});
  certFile_ = tls.certFile;
  keyFile_ = tls.keyFile;
  caFile_ = tls.caFile;
  start();
}

void FindingsReceiver::start() {
  auto portFile = dir_.path() / "port";
  std::filesystem::remove(portFile);
  std::vector<std::string> args = {sourcePath("tests/schema/findings-receiver.mjs").string(),
                                   "--cert", certFile_, "--key", keyFile_,
                                   "--port-file", portFile.string(),
                                   "--log", (dir_.path() / "findings.jsonl").string(),
                                   "--port", std::to_string(port_),
                                   "--hec-token", options_.hecToken};
  if (!options_.bearer.empty()) {
    args.push_back("--bearer");
    args.push_back(options_.bearer);
  }
  process_.start("node", args, dir_.path() / "receiver.log");
  bool listening = eventually([&] { return std::filesystem::exists(portFile) || !process_.running(); },
                              std::chrono::seconds(20));
  if (!listening || !std::filesystem::exists(portFile)) {
    throw std::runtime_error("the findings receiver did not start: " +
                             readFile(dir_.path() / "receiver.log"));
  }
  port_ = static_cast<uint16_t>(std::stoi(readFile(portFile)));
}

void FindingsReceiver::stop() { process_.stop(std::chrono::seconds(5)); }

std::string FindingsReceiver::url(const std::string& path) const {
  return "https://127.0.0.1:" + std::to_string(port_) + path;
}

std::string FindingsReceiver::caFile() const { return caFile_; }

std::vector<nlohmann::json> FindingsReceiver::records() const {
  std::vector<nlohmann::json> records;
  auto path = dir_.path() / "findings.jsonl";
  if (!std::filesystem::exists(path)) return records;
  std::string text = readFile(path);
  // A line still being written (the server appends while the test reads) waits for the next read.
  text.erase(text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1);
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty()) records.push_back(nlohmann::json::parse(line));
  }
  return records;
}

ReceivedFindings validFindings(const std::vector<nlohmann::json>& records) {
  ReceivedFindings received;
  std::set<std::string> seen;
  for (const auto& record : records) {
    if (!record.contains("finding")) continue;
    if (!record.value("valid", false)) {
      ++received.invalid;
      continue;
    }
    std::string key = record["key"].is_string() ? record["key"].get<std::string>() : "";
    if (!seen.insert(key).second) ++received.duplicates;
    received.findings.push_back(record["finding"]);
    received.keys.push_back(key);
  }
  return received;
}

}  // namespace podmortem::testing
