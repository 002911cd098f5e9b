#include "podmortem/webhooks/http_server.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <prometheus/registry.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <future>
#include <thread>

#include "https_client.h"
#include "podmortem/webhooks/self_signed.h"
#include "test_support.h"

namespace podmortem::webhooks {
namespace {

namespace fs = std::filesystem;
using podmortem::testing::ClientOptions;
using podmortem::testing::eventually;
using podmortem::testing::HttpClient;
using podmortem::testing::readFile;
using podmortem::testing::TempDir;
using tcp = boost::asio::ip::tcp;

// A TLS server with an echo route, on an ephemeral loopback port.
class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    certificate_ = ensureSelfSignedCertificate(dir_.str(), {});
    // Serve copies, so a test can replace them the way a Secret volume update does.
    fs::copy_file(certificate_.certFile, dir_.path() / "serving.crt");
    fs::copy_file(certificate_.keyFile, dir_.path() / "serving.key");
  }

  void startServer(ServerOptions options = {}) {
    options.tls.certFile = (dir_.path() / "serving.crt").string();
    options.tls.keyFile = (dir_.path() / "serving.key").string();
    options.tls.reloadInterval = std::chrono::milliseconds(50);
    options.readTimeout = std::chrono::seconds(2);
    if (options.maxBodyBytes == 12 * 1024 * 1024) options.maxBodyBytes = 64 * 1024;
    std::vector<Route> routes = {
        {"GET", "/healthz", "healthz", false,
         [](HttpRequest&, Respond respond) { respond({.status = 200, .body = R"({"status":"ok"})"}); }},
        {"POST", "/echo", "echo", true,
         [](HttpRequest& request, Respond respond) {
           nlohmann::json body = {{"bytes", request.body.size()},
                                  {"timeout", std::string(request.queryParameter("timeout"))},
                                  {"spare", request.body.capacity() - request.body.size()}};
           respond({.status = 200, .body = body.dump()});
         }},
        {"GET", "/headers", "headers", false,
         [](HttpRequest&, Respond respond) {
           HttpResponse response{.status = 200, .body = R"({"ok":true})"};
           response.headers = {{"Retry-After", "1"},
                               {"Content-Length", "999"},      // the server frames the answer
                               {"connection", "keep-alive"},   // nor may a handler say this
                               {"X-Split", "a\r\nX-Injected: yes"},
                               {"Bad Name", "x"}};
           respond(std::move(response));
         }},
        {"GET", "/raced", "raced", false,
         [](HttpRequest&, Respond respond) {
           // Answered from another thread before handle() returns.
           std::thread([respond] { respond({.status = 200, .body = R"({"raced":true})"}); }).join();
         }},
        {"POST", "/slow", "slow", false,
         [this](HttpRequest&, Respond respond) {
           // Answered later from another thread, like a held admission answer.
           std::lock_guard lock(slowMutex_);
           slowAnswers_.push_back(std::async(std::launch::async, [this, respond] {
             releaseSlow_.get_future().wait();
             respond({.status = 200, .body = R"({"late":true})"});
           }));
         }},
    };
    server_ = std::make_unique<HttpServer>(options, routes, metrics_);
    server_->start();
  }

  void TearDown() override {
    if (server_) server_->shutdown(std::chrono::milliseconds(0));
  }

  HttpClient client() { return HttpClient(server_->port(), ClientOptions{.caFile = certificate_.caFile}); }

  TempDir dir_;
  GeneratedCertificate certificate_;
  prometheus::Registry registry_;
  HttpMetrics metrics_{registry_};
  std::unique_ptr<HttpServer> server_;
  std::promise<void> releaseSlow_;
  std::mutex slowMutex_;
  std::vector<std::future<void>> slowAnswers_;
};

TEST_F(HttpServerTest, HealthAnswersOverTlsWithKeepAlive) {
  startServer();
  auto http = client();
  for (int i = 0; i < 3; ++i) {
    auto response = http.get("/healthz");
    EXPECT_EQ(response.status, 200u);
    EXPECT_EQ(response.body, R"({"status":"ok"})");
    EXPECT_EQ(response.headers["content-type"], "application/json");
  }
}

TEST_F(HttpServerTest, AHandlersHeadersCannotFrameOrSplitTheAnswer) {
  startServer();
  auto http = client();
  for (int i = 0; i < 2; ++i) {  // the same connection stays usable: the framing held
    auto response = http.get("/headers");
    ASSERT_EQ(response.status, 200u);
    EXPECT_EQ(response.body, R"({"ok":true})");
    EXPECT_EQ(response.headers["retry-after"], "1");
    EXPECT_EQ(response.headers["content-length"], "11");
    EXPECT_EQ(response.headers.count("connection"), 0u);
    EXPECT_EQ(response.headers.count("x-split"), 0u);
    EXPECT_EQ(response.headers.count("x-injected"), 0u);
  }
}

TEST_F(HttpServerTest, AnAnswerFromAnotherThreadBeforeHandleReturnsIsWritten) {
  startServer();
  auto http = client();
  for (int i = 0; i < 3; ++i) {
    auto response = http.get("/raced");
    ASSERT_EQ(response.status, 200u);
    EXPECT_EQ(response.body, R"({"raced":true})");
  }
}

TEST_F(HttpServerTest, RoutesOnThePathAndIgnoresTheQueryString) {
  startServer();
  auto response = client().post("/echo?timeout=10s", R"({"a":1})");
  ASSERT_EQ(response.status, 200u);
  auto body = nlohmann::json::parse(response.body);
  EXPECT_EQ(body["bytes"], 7);
  EXPECT_EQ(body["timeout"], "10s");
  EXPECT_GE(body["spare"].get<size_t>(), 64u) << "bodies keep room for simdjson's padding";
}

TEST_F(HttpServerTest, ErrorsAreJsonWithTheRightStatus) {
  startServer();
  auto http = client();
  auto notFound = http.get("/nothing");
  EXPECT_EQ(notFound.status, 404u);
  EXPECT_TRUE(nlohmann::json::parse(notFound.body).contains("error"));

  auto wrongMethod = http.get("/echo");
  EXPECT_EQ(wrongMethod.status, 405u);
  EXPECT_EQ(wrongMethod.headers["allow"], "POST");
  EXPECT_TRUE(nlohmann::json::parse(wrongMethod.body).contains("error"));

  auto wrongType = http.request("POST", "/echo", "a=b", "application/x-www-form-urlencoded");
  EXPECT_EQ(wrongType.status, 415u);
  EXPECT_TRUE(nlohmann::json::parse(wrongType.body).contains("error"));

  auto jsonWithCharset = http.request("POST", "/echo", "{}", "application/json; charset=utf-8");
  EXPECT_EQ(jsonWithCharset.status, 200u);
}

TEST_F(HttpServerTest, OversizedBodyIsRefusedWith413BeforeItIsRead) {
  startServer();
  // Announce 1 GiB and send none of it: the answer must come from the header alone.
  boost::asio::io_context io;
  boost::asio::ssl::context context(boost::asio::ssl::context::tls_client);
  context.load_verify_file(certificate_.caFile);
  boost::asio::ssl::stream<tcp::socket> stream(io, context);
  stream.next_layer().connect({boost::asio::ip::make_address("127.0.0.1"), server_->port()});
  stream.handshake(boost::asio::ssl::stream_base::client);
  std::string request =
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Content-Length: 1073741824\r\n\r\n{\"partial\":";
  boost::asio::write(stream, boost::asio::buffer(request));
  std::string reply;
  boost::system::error_code ec;
  char buffer[4096];
  while (reply.find("\r\n\r\n") == std::string::npos || reply.find('}') == std::string::npos) {
    size_t n = stream.read_some(boost::asio::buffer(buffer), ec);
    if (ec) break;
    reply.append(buffer, n);
  }
  EXPECT_NE(reply.find("HTTP/1.1 413"), std::string::npos) << reply;
  EXPECT_NE(reply.find("\"error\""), std::string::npos) << reply;
}

TEST_F(HttpServerTest, ChunkedBodyOverTheLimitIs413) {
  ServerOptions options;
  options.maxBodyBytes = 2048;
  startServer(options);
  std::string big(4096, 'x');
  auto response = client().request("POST", "/echo", "\"" + big + "\"", "application/json",
                                    {{"Transfer-Encoding", "chunked"}});
  EXPECT_EQ(response.status, 413u);
}

// Completes a TLS handshake with the given protocol bounds; returns whether it succeeded.
bool handshakeWith(uint16_t port, int minVersion, int maxVersion, const char* cipherList) {
  SSL_CTX* context = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_min_proto_version(context, minVersion);
  SSL_CTX_set_max_proto_version(context, maxVersion);
  SSL_CTX_set_cipher_list(context, cipherList);
  boost::asio::io_context io;
  tcp::socket socket(io);
  socket.connect({boost::asio::ip::make_address("127.0.0.1"), port});
  SSL* ssl = SSL_new(context);
  SSL_set_fd(ssl, socket.native_handle());
  bool ok = SSL_connect(ssl) == 1;
  SSL_free(ssl);
  SSL_CTX_free(context);
  ERR_clear_error();
  return ok;
}

TEST_F(HttpServerTest, Tls11OnlyClientIsRefusedAndTls12Accepted) {
  startServer();
  // SECLEVEL=0 lets this OpenSSL 3 client really offer TLS 1.1; otherwise it would refuse on
  // its own and the test would prove nothing.
  EXPECT_FALSE(handshakeWith(server_->port(), TLS1_1_VERSION, TLS1_1_VERSION, "DEFAULT:@SECLEVEL=0"));
  EXPECT_FALSE(handshakeWith(server_->port(), TLS1_VERSION, TLS1_VERSION, "DEFAULT:@SECLEVEL=0"));
  EXPECT_TRUE(handshakeWith(server_->port(), TLS1_2_VERSION, TLS1_2_VERSION, "DEFAULT:@SECLEVEL=0"));
  EXPECT_TRUE(handshakeWith(server_->port(), TLS1_3_VERSION, TLS1_3_VERSION, "DEFAULT"));
}

TEST_F(HttpServerTest, ReplacedCertificateIsServedToNewConnectionsWithoutRestart) {
  startServer();
  auto before = client();
  std::string oldPem = before.peerCertificatePem();
  EXPECT_EQ(oldPem, readFile(dir_.path() / "serving.crt"));

  // A second certificate from another CA, written over the served files.
  TempDir other;
  auto replacement = ensureSelfSignedCertificate(other.str(), {"rotated.example"});
  fs::copy_file(replacement.keyFile, dir_.path() / "serving.key",
                fs::copy_options::overwrite_existing);
  fs::copy_file(replacement.certFile, dir_.path() / "serving.crt",
                fs::copy_options::overwrite_existing);
  std::string newPem = readFile(replacement.certFile);
  ASSERT_NE(oldPem, newPem);

  EXPECT_TRUE(eventually([&] {
    HttpClient fresh(server_->port(), ClientOptions{.caFile = replacement.caFile});
    try {
      return fresh.peerCertificatePem() == newPem && fresh.get("/healthz").status == 200;
    } catch (const std::exception&) {
      return false;  // still the old certificate: the new CA does not trust it
    }
  }));
  // The connection opened before the rotation keeps working.
  EXPECT_EQ(before.get("/healthz").status, 200u);
  EXPECT_EQ(before.peerCertificatePem(), oldPem);
}

TEST_F(HttpServerTest, StalledHalfRequestAndGarbageDoNotDelayOtherClients) {
  ServerOptions options;
  options.threads = 1;  // the worst case: one event loop for everyone
  startServer(options);
  boost::asio::io_context io;
  // A client that completes TLS and then sends half a request and stalls.
  boost::asio::ssl::context context(boost::asio::ssl::context::tls_client);
  boost::asio::ssl::stream<tcp::socket> stalled(io, context);
  stalled.next_layer().connect({boost::asio::ip::make_address("127.0.0.1"), server_->port()});
  stalled.handshake(boost::asio::ssl::stream_base::client);
  boost::asio::write(stalled, boost::asio::buffer(std::string("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Le")));
  // A client that sends random bytes instead of a TLS handshake, and one that sends nothing.
  tcp::socket garbage(io);
  garbage.connect({boost::asio::ip::make_address("127.0.0.1"), server_->port()});
  std::string noise(2048, '\0');
  for (size_t i = 0; i < noise.size(); ++i) noise[i] = static_cast<char>((i * 7919) % 251);
  boost::asio::write(garbage, boost::asio::buffer(noise));
  tcp::socket silent(io);
  silent.connect({boost::asio::ip::make_address("127.0.0.1"), server_->port()});

  auto start = std::chrono::steady_clock::now();
  auto response = client().get("/healthz");
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(response.status, 200u);
  EXPECT_LT(elapsed, std::chrono::seconds(1));
}

TEST_F(HttpServerTest, StalledRequestIsClosedAfterTheReadTimeout) {
  startServer();
  boost::asio::io_context io;
  tcp::socket silent(io);
  silent.connect({boost::asio::ip::make_address("127.0.0.1"), server_->port()});
  char byte;
  boost::system::error_code ec;
  auto start = std::chrono::steady_clock::now();
  silent.read_some(boost::asio::buffer(&byte, 1), ec);  // returns when the server closes
  EXPECT_TRUE(ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset) << ec.message();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

// Raw connections that each send a few bytes and then nothing: a ClientHello's first bytes by
// default, from a chosen loopback source address.
class Squatters {
 public:
  Squatters(uint16_t port, int count, const std::string& source = "127.0.0.1",
            std::string_view bytes = std::string_view("\x16\x03\x01", 3)) {
    for (int i = 0; i < count; ++i) {
      auto& socket = sockets_.emplace_back(io_);
      socket.open(tcp::v4());
      socket.bind({boost::asio::ip::make_address(source), 0});
      socket.connect({boost::asio::ip::make_address("127.0.0.1"), port});
      boost::asio::write(socket, boost::asio::buffer(bytes.data(), bytes.size()));
    }
  }
  // How many the server has closed (a read returns at once with EOF or reset).
  int closed() {
    int count = 0;
    for (auto& socket : sockets_) {
      socket.non_blocking(true);
      char byte;
      boost::system::error_code ec;
      socket.read_some(boost::asio::buffer(&byte, 1), ec);
      if (ec && ec != boost::asio::error::would_block) ++count;
    }
    return count;
  }

 private:
  boost::asio::io_context io_;
  std::vector<tcp::socket> sockets_;
};

double shed(HttpMetrics& metrics, const char* reason) {
  return metrics.connectionsShed.Add({{"reason", reason}}).Value();
}

TEST_F(HttpServerTest, ConnectionsThatSendNothingCannotBlindTheServer) {
  ServerOptions options;
  options.maxConnections = 8;
  options.threads = 1;
  startServer(options);
  Squatters squatters(server_->port(), 40);  // five times the capacity, all handshaking
  auto start = std::chrono::steady_clock::now();
  auto response = client().get("/healthz");
  EXPECT_EQ(response.status, 200u);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  EXPECT_TRUE(eventually([&] { return shed(metrics_, "capacity") >= 32.0; }))
      << "each new connection past 8 replaced the oldest";
  EXPECT_TRUE(eventually([&] { return squatters.closed() >= 32; }));
  EXPECT_EQ(metrics_.connectionsRejected.Value(), 0.0);
}

TEST_F(HttpServerTest, AFullServerShedsTheOldestIdleConnectionInsteadOfRefusingTheNew) {
  ServerOptions options;
  options.maxConnections = 2;
  options.threads = 1;
  startServer(options);
  auto first = client();
  auto second = client();
  ASSERT_EQ(first.get("/healthz").status, 200u);
  ASSERT_EQ(second.get("/healthz").status, 200u);
  auto third = client();
  EXPECT_EQ(third.get("/healthz").status, 200u);
  EXPECT_EQ(shed(metrics_, "capacity"), 1.0);
  EXPECT_EQ(first.get("/healthz").status, 200u) << "the shed client reconnects";
}

TEST_F(HttpServerTest, AConnectionWhoseRequestIsBeingAnsweredIsNeverShed) {
  ServerOptions options;
  options.maxConnections = 1;
  options.threads = 1;
  startServer(options);
  auto held = client();
  auto pending = std::async(std::launch::async, [&] { return held.post("/slow", "{}"); });
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(slowMutex_);
    return !slowAnswers_.empty();
  }));
  // The only slot holds a request being answered: a newcomer is refused, not the held answer.
  EXPECT_THROW(client().get("/healthz"), std::exception);
  EXPECT_GE(metrics_.connectionsRejected.Value(), 1.0);
  releaseSlow_.set_value();
  auto response = pending.get();
  EXPECT_EQ(response.status, 200u);
  EXPECT_EQ(response.body, R"({"late":true})");
}

TEST_F(HttpServerTest, OneAddressCannotTakeEverySlot) {
  ServerOptions options;
  options.maxConnections = 16;
  options.maxConnectionsPerAddress = 4;
  options.threads = 1;
  startServer(options);
  Squatters flood(server_->port(), 12, "127.0.0.2");
  EXPECT_TRUE(eventually([&] { return shed(metrics_, "per_address") >= 8.0; }))
      << "127.0.0.2 keeps at most 4";
  EXPECT_EQ(shed(metrics_, "capacity"), 0.0) << "the others' slots were never needed";
  EXPECT_EQ(client().get("/healthz").status, 200u);
}

TEST_F(HttpServerTest, ShutdownLetsAnInFlightRequestFinish) {
  startServer();
  auto http = client();
  auto pending = std::async(std::launch::async, [&] { return http.post("/slow", "{}"); });
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(slowMutex_);
    return !slowAnswers_.empty();
  }));
  auto stopping = std::async(std::launch::async,
                             [&] { server_->shutdown(std::chrono::seconds(10)); });
  // Release the answer only once the server has stopped accepting new connections.
  EXPECT_TRUE(eventually([&] {
    try {
      client().get("/healthz");
      return false;
    } catch (const std::exception&) {
      return true;
    }
  }));
  releaseSlow_.set_value();
  auto response = pending.get();
  stopping.get();
  EXPECT_EQ(response.status, 200u);
  EXPECT_EQ(response.body, R"({"late":true})");
  EXPECT_EQ(response.headers["connection"], "close");
}

TEST_F(HttpServerTest, RequestsAreCountedByHandlerAndCode) {
  startServer();
  auto http = client();
  http.get("/healthz");
  http.get("/nothing");
  auto& ok = metrics_.requests.Add({{"handler", "healthz"}, {"code", "200"}});
  auto& missing = metrics_.requests.Add({{"handler", "notfound"}, {"code", "404"}});
  EXPECT_EQ(ok.Value(), 1.0);
  EXPECT_EQ(missing.Value(), 1.0);
}

}  // namespace
}  // namespace podmortem::webhooks
