#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace podmortem::testing {

// A Kubernetes API server for tests: HTTPS on 127.0.0.1 (port 0), speaking the wire format the
// recorded kube-apiserver 1.21 answers in ../shared/fixtures/kube-apiserver-1.21/api/:
//   - lists with metadata.resourceVersion ("<Kind>List");
//   - watches as chunked JSON lines {"type": ADDED|MODIFIED|DELETED|BOOKMARK|ERROR, "object"},
//     from a resourceVersion; a compacted one gets HTTP 200 and one ERROR line with a 410
//     Status, as the real server does; the stream ends at timeoutSeconds;
//   - create (201, 409 AlreadyExists), get (404 NotFound Status), update with a resourceVersion
//     check (409 Conflict), merge patch of the object or of its status subresource, delete;
//   - fieldSelector on list (dotted paths, `=` only), pods/{name}/log with container, previous,
//     limitBytes and tailLines;
//   - bearer-token and client-certificate checks (401 Unauthorized Status);
//   - faults: down (connections closed at once), failures (500 for the next N requests),
//     stalls (requests to a path prefix hang until released), closing every open watch.
// Objects live in collections named "<group>/<resource>" ("/pods" for the core group).
class FakeApiServer {
 public:
  struct Options {
    std::string token;             // required bearer token; empty: no token check
    std::string clientCaFile;      // when set, a client certificate signed by it is required
    std::vector<std::string> statusSubresource = {"podmortem.io/forensicpolicies",
                                                  "podmortem.io/evidencesnapshots", "/pods"};
  };

  explicit FakeApiServer(Options options);
  FakeApiServer() : FakeApiServer(Options{}) {}
  ~FakeApiServer();

  uint16_t port() const;
  std::string url() const;      // https://127.0.0.1:<port>
  std::string caPem() const;    // the CA that signed the serving certificate
  std::string caFile() const;
  // A kubeconfig for this server with `token` (and the CA inline), written to `path`.
  void writeKubeconfig(const std::filesystem::path& path, const std::string& token) const;

  // Object store. `collection` is "<group>/<resource>"; namespace "" for cluster-scoped kinds.
  // put() creates or replaces (as a watch ADDED or MODIFIED), assigning uid, resourceVersion,
  // creationTimestamp and generation the way the API server does.
  nlohmann::json put(const std::string& collection, nlohmann::json object);
  void remove(const std::string& collection, const std::string& namespaceName,
              const std::string& name);
  std::optional<nlohmann::json> get(const std::string& collection,
                                    const std::string& namespaceName,
                                    const std::string& name) const;
  std::vector<nlohmann::json> list(const std::string& collection) const;
  void setLog(const std::string& namespaceName, const std::string& pod,
              const std::string& container, bool previous, std::string text);

  // Faults.
  void setDown(bool down);            // refuse (close) every connection while down
  void failNext(int requests, int status = 500);
  void stall(const std::string& pathPrefix);  // hang matching requests until release()
  void release();
  void closeWatches();                // end every open watch stream now
  void compact();                     // watches from any earlier resourceVersion get 410
  void bookmark();                    // send a BOOKMARK on every open watch

  // What was asked: "METHOD path?query" per request, in order.
  std::vector<std::string> requests() const;
  size_t requestCount(const std::string& prefix) const;
  size_t openWatches() const;
  std::vector<std::string> authorizations() const;  // the Authorization headers received

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace podmortem::testing
