#include "podmortem/kube/connection.h"

#include <openssl/evp.h>
#include <yaml-cpp/yaml.h>

#include "podmortem/core/yaml.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace podmortem::kube {

namespace {

namespace fs = std::filesystem;

std::optional<std::string> readWholeFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
    text.pop_back();
  }
  return text;
}

// kubeconfig `*-data` fields are standard base64 (with padding, possibly with newlines).
std::optional<std::string> decodeBase64(std::string_view text) {
  std::string compact;
  for (char c : text) {
    if (c != '\n' && c != '\r' && c != ' ') compact.push_back(c);
  }
  if (compact.size() % 4 != 0) return std::nullopt;
  std::string out(compact.size() / 4 * 3, '\0');
  int length = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                               reinterpret_cast<const unsigned char*>(compact.data()),
                               static_cast<int>(compact.size()));
  if (length < 0) return std::nullopt;
  size_t padding = 0;
  for (auto it = compact.rbegin(); it != compact.rend() && *it == '='; ++it) ++padding;
  out.resize(static_cast<size_t>(length) - padding);
  return out;
}

YAML::Node namedEntry(const YAML::Node& list, const std::string& name, const std::string& what,
                      const std::string& file) {
  if (list && list.IsSequence()) {
    for (const auto& entry : list) {
      if (entry["name"] && entry["name"].as<std::string>() == name) return entry[what];
    }
  }
  throw ConfigError(file + ": no " + what + " named \"" + name + "\"");
}

std::string scalar(const YAML::Node& node, const char* key) {
  return node && node[key] && node[key].IsScalar() ? node[key].as<std::string>() : "";
}

// A credential given as `<key>` (a file, relative to the kubeconfig) or `<key>-data` (base64).
std::string fileOrData(const YAML::Node& node, const std::string& fileKey,
                       const std::string& dataKey, const fs::path& base, const std::string& file) {
  std::string data = scalar(node, dataKey.c_str());
  if (!data.empty()) {
    auto decoded = decodeBase64(data);
    if (!decoded) throw ConfigError(file + ": " + dataKey + " is not valid base64");
    return *decoded;
  }
  std::string path = scalar(node, fileKey.c_str());
  if (path.empty()) return "";
  fs::path full = fs::path(path).is_absolute() ? fs::path(path) : base / path;
  auto bytes = readWholeFile(full);
  if (!bytes) throw ConfigError(file + ": cannot read " + fileKey + " " + full.string());
  return *bytes;
}

}  // namespace

std::optional<Connection> inClusterConnection(const std::string& serviceAccountDir) {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  if (host == nullptr || *host == '\0') return std::nullopt;
  fs::path dir(serviceAccountDir);
  if (!fs::exists(dir / "token")) return std::nullopt;
  Connection connection;
  std::string hostText(host);
  // An IPv6 service address needs brackets in a URL.
  if (hostText.find(':') != std::string::npos) hostText = "[" + hostText + "]";
  connection.server = "https://" + hostText + ":" + std::string(port && *port ? port : "443");
  auto ca = readWholeFile(dir / "ca.crt");
  if (!ca) throw ConfigError("in-cluster: cannot read " + (dir / "ca.crt").string());
  connection.caPem = *ca;
  connection.tokenFile = (dir / "token").string();
  if (auto ns = readWholeFile(dir / "namespace")) connection.namespaceName = trimmed(*ns);
  connection.source = "in-cluster";
  return connection;
}

Connection kubeconfigConnection(const std::string& path, const std::string& contextName) {
  auto text = readWholeFile(path);
  if (!text) throw ConfigError(path + ": cannot read the kubeconfig");
  return kubeconfigConnectionFromText(*text, path, fs::absolute(fs::path(path)).parent_path(),
                                      contextName);
}

Connection kubeconfigConnectionFromText(std::string_view text, const std::string& path,
                                        const fs::path& base, const std::string& contextName) {
  auto loaded = core::loadYamlDocument(text);
  if (!loaded.ok()) throw ConfigError(path + ": " + loaded.error().message);
  YAML::Node root = *loaded;
  try {
    std::string name = contextName.empty() ? scalar(root, "current-context") : contextName;
    if (name.empty()) throw ConfigError(path + ": no current-context and no context given");
    YAML::Node context = namedEntry(root["contexts"], name, "context", path);
    std::string clusterName = scalar(context, "cluster");
    std::string userName = scalar(context, "user");
    YAML::Node cluster = namedEntry(root["clusters"], clusterName, "cluster", path);

    YAML::Node user;
    if (!userName.empty()) {
      user = namedEntry(root["users"], userName, "user", path);
      // Refused before any file is read: that is the answer the user needs first.
      if (user && user["exec"]) {
        throw ConfigError(path + ": user \"" + userName +
                              "\" uses an exec credential plugin, which podmortem does not "
                              "support; use a token, a client certificate or in-cluster mode");
      }
      if (user && user["auth-provider"]) {
        throw ConfigError(path + ": user \"" + userName +
                              "\" uses an auth-provider, which podmortem does not support");
      }
    }

    Connection connection;
    connection.server = scalar(cluster, "server");
    if (connection.server.rfind("https://", 0) != 0) {
      throw ConfigError(path + ": cluster \"" + clusterName +
                            "\" server must be an https:// URL, got \"" + connection.server + "\"");
    }
    connection.caPem = fileOrData(cluster, "certificate-authority",
                                  "certificate-authority-data", base, path);
    connection.insecureSkipVerify = scalar(cluster, "insecure-skip-tls-verify") == "true";
    connection.namespaceName = scalar(context, "namespace");
    if (user) {
      connection.clientCertPem = fileOrData(user, "client-certificate",
                                            "client-certificate-data", base, path);
      connection.clientKeyPem = fileOrData(user, "client-key", "client-key-data", base, path);
      if (connection.clientCertPem.empty() != connection.clientKeyPem.empty()) {
        throw ConfigError(path + ": user \"" + userName +
                              "\" needs both a client certificate and its key");
      }
      connection.token = scalar(user, "token");
      std::string tokenFile = scalar(user, "tokenFile");
      if (!tokenFile.empty()) {
        connection.tokenFile = fs::path(tokenFile).is_absolute() ? tokenFile
                                                                 : (base / tokenFile).string();
      }
    }
    connection.source = "kubeconfig " + path + " context " + name;
    return connection;
  } catch (const YAML::Exception& error) {
    throw ConfigError(path + ": " + error.what());
  }
}

std::optional<std::string> defaultKubeconfigPath() {
  if (const char* env = std::getenv("KUBECONFIG"); env != nullptr && *env != '\0') {
    std::string first(env);
    first = first.substr(0, first.find(':'));
    if (fs::exists(first)) return first;
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    fs::path path = fs::path(home) / ".kube" / "config";
    if (fs::exists(path)) return path.string();
  }
  return std::nullopt;
}

std::optional<Connection> resolveConnection(const ClientSettings& k) {
  auto fromKubeconfig = [&]() -> std::optional<Connection> {
    std::string path = k.kubeconfig;
    if (path.empty()) path = defaultKubeconfigPath().value_or("");
    if (path.empty()) return std::nullopt;
    return kubeconfigConnection(path, k.context);
  };
  switch (k.mode) {
    case Mode::kNone:
      return std::nullopt;
    case Mode::kInCluster: {
      auto connection = inClusterConnection();
      if (!connection) {
        throw ConfigError("kubernetes.mode is in-cluster, but KUBERNETES_SERVICE_HOST or the "
                              "service account token is missing: not running in a pod?");
      }
      return connection;
    }
    case Mode::kKubeconfig: {
      auto connection = fromKubeconfig();
      if (!connection) {
        throw ConfigError("kubernetes.mode is kubeconfig, but no kubeconfig was found "
                              "(kubernetes.kubeconfig, $KUBECONFIG, ~/.kube/config)");
      }
      return connection;
    }
    case Mode::kAuto:
      if (auto connection = inClusterConnection()) return connection;
      return fromKubeconfig();
  }
  return std::nullopt;
}

}  // namespace podmortem::kube
