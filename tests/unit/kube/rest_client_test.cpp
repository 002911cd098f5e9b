// The cpprestsdk-based Kubernetes client against the fake API server: real TLS, real sockets.
#include "podmortem/kube/rest_client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <thread>

#include "fake_api_server.h"
#include "test_support.h"

namespace podmortem::controller {
namespace {

using testing::FakeApiServer;
using nlohmann::json;

kube::Connection connectionTo(const FakeApiServer& server, const std::string& token) {
  kube::Connection connection;
  connection.server = server.url();
  connection.caPem = server.caPem();
  connection.token = token;
  return connection;
}

json pod(const std::string& ns, const std::string& name) {
  return {{"apiVersion", "v1"}, {"kind", "Pod"},
          {"metadata", {{"namespace", ns}, {"name", name}, {"labels", {{"app", "web"}}}}},
          {"spec", {{"containers", {{{"name", "app"}, {"image", "nginx"}}}}}}};
}

kube::Request get(const std::string& path, const std::string& resource = "pods") {
  kube::Request request;
  request.path = path;
  request.resource = resource;
  return request;
}

TEST(RestKubeClientTest, GetCarriesTheBearerTokenAndReturnsTheObject) {
  FakeApiServer server({.token = "t0ken"});
  auto stored = server.put("/pods", pod("shop", "web-0"));
  auto client = kube::makeRestClient(connectionTo(server, "t0ken"), {}, nullptr);
  auto response = client->send(get("/api/v1/namespaces/shop/pods/web-0"));
  ASSERT_TRUE(response.ok()) << response.describe();
  EXPECT_EQ(json::parse(response.body), stored);
  EXPECT_EQ(server.authorizations().back(), "Bearer t0ken");
}

TEST(RestKubeClientTest, WrongTokenGives401StatusNotATransportError) {
  FakeApiServer server({.token = "right"});
  auto client = kube::makeRestClient(connectionTo(server, "wrong"), {}, nullptr);
  auto response = client->send(get("/api/v1/namespaces/shop/pods/web-0"));
  EXPECT_EQ(response.status, 401);
  EXPECT_TRUE(response.error.empty());
  EXPECT_EQ(response.reason(), "Unauthorized");
}

TEST(RestKubeClientTest, NotFoundIsMappedFromTheStatusObject) {
  FakeApiServer server;
  auto client = kube::makeRestClient(connectionTo(server, ""), {}, nullptr);
  auto response = client->send(get("/api/v1/namespaces/shop/pods/gone"));
  EXPECT_EQ(response.status, 404);
  EXPECT_FALSE(response.ok());
  EXPECT_EQ(response.reason(), "NotFound");
  EXPECT_EQ(response.describe(), "404 NotFound: pods \"gone\" not found");
}

TEST(RestKubeClientTest, AServerSignedByAnotherCaIsRefused) {
  FakeApiServer server;
  FakeApiServer other;
  kube::Connection connection = connectionTo(server, "");
  connection.caPem = other.caPem();  // trusted: only the other server's CA
  auto client = kube::makeRestClient(connection, {}, nullptr);
  auto response = client->send(get("/api/v1/namespaces/shop/pods/web-0"));
  EXPECT_EQ(response.status, 0);
  EXPECT_FALSE(response.error.empty());
  EXPECT_EQ(server.requestCount("GET"), 0u) << "no request may pass an untrusted handshake";
}

TEST(RestKubeClientTest, ClientCertificateIsPresentedWhenTheServerRequiresOne) {
  testing::TempDir dir;
  std::string d = dir.str();
  auto result = testing::runCommand(
      "set -e; cd " + d + "; "
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 "
      "-subj /CN=client-ca -keyout ca.key -out ca.crt 2>/dev/null; "
      "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=podmortem "
      "-keyout client.key -out client.csr 2>/dev/null; "
      "openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 "
      "-out client.crt 2>/dev/null");
  ASSERT_EQ(result.exitCode, 0) << result.output;
  FakeApiServer server({.clientCaFile = d + "/ca.crt"});
  server.put("/pods", pod("shop", "web-0"));
  auto anonymous = kube::makeRestClient(connectionTo(server, ""), {}, nullptr);
  EXPECT_FALSE(anonymous->send(get("/api/v1/namespaces/shop/pods/web-0")).ok());
  kube::Connection connection = connectionTo(server, "");
  connection.clientCertPem = testing::readFile(d + "/client.crt");
  connection.clientKeyPem = testing::readFile(d + "/client.key");
  auto client = kube::makeRestClient(connection, {}, nullptr);
  auto response = client->send(get("/api/v1/namespaces/shop/pods/web-0"));
  EXPECT_TRUE(response.ok()) << response.describe();
}

TEST(RestKubeClientTest, ARotatedTokenFileIsUsedWithoutANewClient) {
  testing::TempDir dir;
  auto tokenFile = dir.path() / "token";
  testing::writeFile(tokenFile, "first-token\n");
  FakeApiServer server;
  kube::Connection connection = connectionTo(server, "");
  connection.tokenFile = tokenFile.string();
  auto client = kube::makeRestClient(connection, {}, nullptr);
  client->send(get("/api/v1/namespaces/a/pods/b"));
  EXPECT_EQ(server.authorizations().back(), "Bearer first-token");
  testing::writeFile(tokenFile, "second-token\n");
  // The kubelet rewrites the file; the client looks at it again at most once a second.
  EXPECT_TRUE(testing::eventually([&] {
    client->send(get("/api/v1/namespaces/a/pods/b"));
    return server.authorizations().back() == "Bearer second-token";
  }));
}

TEST(RestKubeClientTest, MergePatchCreateAndConflictAreAnsweredLikeTheApiServer) {
  FakeApiServer server;
  auto client = kube::makeRestClient(connectionTo(server, ""), {}, nullptr);
  kube::Request create;
  create.verb = "create";
  create.method = "POST";
  create.path = "/api/v1/namespaces/shop/pods";
  create.resource = "pods";
  create.body = pod("shop", "web-1").dump();
  EXPECT_EQ(client->send(create).status, 201);
  EXPECT_EQ(client->send(create).reason(), "AlreadyExists");
  kube::Request patch;
  patch.verb = "patch";
  patch.method = "PATCH";
  patch.path = "/api/v1/namespaces/shop/pods/web-1";
  patch.resource = "pods";
  patch.contentType = "application/merge-patch+json";
  patch.body = R"({"metadata":{"labels":{"podmortem.io/suspect":"true"}}})";
  auto patched = client->send(patch);
  ASSERT_TRUE(patched.ok()) << patched.describe();
  EXPECT_EQ(json::parse(patched.body)["metadata"]["labels"]["podmortem.io/suspect"], "true");
  EXPECT_EQ(json::parse(patched.body)["metadata"]["labels"]["app"], "web");
}

TEST(RestKubeClientTest, StreamDeliversWatchLinesAsTheyArrive) {
  FakeApiServer server;
  server.put("/pods", pod("shop", "a"));
  auto client = kube::makeRestClient(connectionTo(server, ""), {}, nullptr);
  kube::Request watch = get("/api/v1/namespaces/shop/pods?watch=1&timeoutSeconds=30");
  std::vector<json> events;
  std::thread producer;
  std::stop_source stop;
  auto response = client->stream(
      watch,
      [&](std::string_view line) {
        events.push_back(json::parse(line));
        // The second event is made only after the first arrived: lines come as they happen,
        // not when the stream ends.
        if (events.size() == 1) producer = std::thread([&] { server.put("/pods", pod("shop", "b")); });
        return events.size() < 2;
      },
      stop.get_token());
  if (producer.joinable()) producer.join();
  ASSERT_EQ(events.size(), 2u) << response.describe();
  EXPECT_EQ(events[0]["type"], "ADDED");
  EXPECT_EQ(events[0]["object"]["metadata"]["name"], "a");
  EXPECT_EQ(events[1]["object"]["metadata"]["name"], "b");
}

TEST(RestKubeClientTest, StreamEndsSoonAfterStopIsRequested) {
  FakeApiServer server;
  auto client = kube::makeRestClient(connectionTo(server, ""), {}, nullptr);
  std::stop_source stop;
  std::thread stopper([&] {
    testing::eventually([&] { return server.openWatches() == 1; });
    stop.request_stop();
  });
  auto started = std::chrono::steady_clock::now();
  auto response = client->stream(get("/api/v1/namespaces/shop/pods?watch=1&timeoutSeconds=60"),
                                 [](std::string_view) { return true; }, stop.get_token());
  stopper.join();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
}

TEST(RestKubeClientTest, RateLimitSpacesRequestsAfterTheBurst) {
  FakeApiServer server;
  auto client = kube::makeRestClient(connectionTo(server, ""), {.qps = 10, .burst = 2}, nullptr);
  auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 6; ++i) client->send(get("/api/v1/namespaces/a/pods/b"));
  // 2 at once, then 4 more at 10 per second: at least 0.4 s.
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(350));
}

TEST(RestKubeClientTest, RequestsAreCountedByVerbResourceAndCode) {
  FakeApiServer server;
  prometheus::Registry registry;
  kube::Metrics metrics(registry);
  auto client = kube::makeRestClient(connectionTo(server, ""), {}, &metrics);
  client->send(get("/api/v1/namespaces/a/pods/missing"));
  server.setDown(true);
  client->send(get("/api/v1/namespaces/a/pods/missing"));
  EXPECT_EQ(metrics.requests.Add({{"verb", "get"}, {"resource", "pods"}, {"code", "404"}}).Value(), 1);
  EXPECT_EQ(metrics.requests.Add({{"verb", "get"}, {"resource", "pods"}, {"code", "error"}}).Value(), 1);
}

TEST(RestKubeClientTest, OversizedAnswerIsCutAndFlagged) {
  FakeApiServer server;
  json big = pod("shop", "big");
  big["metadata"]["annotations"] = {{"blob", std::string(200'000, 'x')}};
  server.put("/pods", big);
  auto client = kube::makeRestClient(connectionTo(server, ""), {}, nullptr);
  kube::Request request = get("/api/v1/namespaces/shop/pods/big");
  request.maxBodyBytes = 10'000;
  auto response = client->send(request);
  EXPECT_TRUE(response.truncated);
  EXPECT_LE(response.body.size(), 10'000u);
}

}  // namespace
}  // namespace podmortem::controller
