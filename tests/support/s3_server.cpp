#include "s3_server.h"

#include <sstream>
#include <stdexcept>

namespace podmortem::testing {

namespace fs = std::filesystem;

std::string S3Server::version() {
  auto package = nlohmann::json::parse(
      readFile(sourcePath("tests/s3/node_modules/@20minutes/s3rver/package.json")), nullptr, false);
  return package.is_object() ? package.value("version", "") : "";
}

S3Server::S3Server() { start(); }

void S3Server::start() {
  auto portFile = dir_.path() / "port";
  fs::remove(portFile);
  process_.start("node",
                 {"--openssl-legacy-provider", sourcePath("tests/s3/s3-server.mjs").string(), "--dir",
                  (dir_.path() / "data").string(), "--port-file", portFile.string(), "--requests",
                  (dir_.path() / "requests.jsonl").string(), "--port", std::to_string(port_)},
                 dir_.path() / "s3rver.log");
  bool listening = eventually([&] { return fs::exists(portFile) || !process_.running(); },
                              std::chrono::seconds(20));
  if (!listening || !fs::exists(portFile)) {
    throw std::runtime_error("s3rver did not start: " + readFile(dir_.path() / "s3rver.log"));
  }
  port_ = static_cast<uint16_t>(std::stoi(readFile(portFile)));
}

void S3Server::stop() { process_.stop(std::chrono::seconds(5)); }

std::vector<nlohmann::json> S3Server::requests() const {
  std::vector<nlohmann::json> out;
  auto path = dir_.path() / "requests.jsonl";
  if (!fs::exists(path)) return out;
  std::string text = readFile(path);
  text.erase(text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1);
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  }
  return out;
}

fs::path S3Server::objectFile(const std::string& key) const {
  return dir_.path() / "data" / kBucket / (key + "._S3rver_object");
}

fs::path S3Server::credentialsFile(bool wrongSecret) const {
  fs::path file = dir_.path() / (wrongSecret ? "wrong-credentials" : "credentials");
  writeFile(file, std::string("[default]\naws_access_key_id = ") + kAccessKey +
                      "\naws_secret_access_key = " + (wrongSecret ? "not-the-secret" : kSecretKey) + "\n");
  return file;
}

}  // namespace podmortem::testing
