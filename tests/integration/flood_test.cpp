// Floods against the real process: thousands of connections that send nothing, a header that
// trickles in a byte a second, a 10 MiB body at 1 KB/s, and the same flood at the metrics port.
// Whatever the attacker does, other clients' admission requests are answered within a second.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <thread>

#include "running_server.h"
#include "server_process.h"
#include "test_support.h"

namespace podmortem::testing {
namespace {

namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

// How many raw connections this process may open: the hard descriptor limit, less room for
// the rest of the test.
int connectionBudget(int wanted) {
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &limit);
  return static_cast<int>(std::min<rlim_t>(wanted, limit.rlim_cur > 200 ? limit.rlim_cur - 200 : 0));
}

// Connections that each send a few bytes and then nothing: the first of a TLS ClientHello (the
// webhook port), or of an HTTP request line (the plain-HTTP metrics port).
class Flood {
 public:
  Flood(uint16_t port, int count, const std::string& source, std::string_view bytes) {
    for (int i = 0; i < count; ++i) {
      auto& socket = sockets_.emplace_back(io_);
      boost::system::error_code ec;
      socket.open(tcp::v4(), ec);
      socket.bind({net::ip::make_address(source), 0}, ec);
      socket.connect({net::ip::make_address("127.0.0.1"), port}, ec);
      if (ec) continue;
      net::write(socket, net::buffer(bytes.data(), bytes.size()), ec);
      if (!ec) ++opened_;
    }
  }
  int opened() const { return opened_; }

 private:
  net::io_context io_;
  std::vector<tcp::socket> sockets_;
  int opened_ = 0;
};

// A TLS client that sends `header` and then `body` bytes one `chunk` per `every`, in the
// background, until stopped: the slow client an attacker can always be.
class Trickle {
 public:
  Trickle(uint16_t port, const std::string& caFile, std::string header, size_t chunk,
          std::chrono::milliseconds every)
      : context_(ssl::context::tls_client), stream_(io_, context_) {
    context_.load_verify_file(caFile);
    stream_.next_layer().connect({net::ip::make_address("127.0.0.1"), port});
    stream_.handshake(ssl::stream_base::client);
    thread_ = std::thread([this, header = std::move(header), chunk, every] {
      boost::system::error_code ec;
      size_t sent = 0;
      while (!stop_) {
        // The header a byte at a time when `chunk` is 0, then the body in chunks.
        std::string piece = sent < header.size() && chunk == 0
                                ? header.substr(sent, 1)
                                : sent < header.size() ? header : std::string(chunk, ' ');
        net::write(stream_, net::buffer(piece), ec);
        if (ec) return;
        sent += piece.size();
        ++writes_;
        std::this_thread::sleep_for(every);  // pacing the attack, not synchronising the test
      }
    });
  }
  ~Trickle() {
    stop_ = true;
    thread_.join();
  }
  int writes() const { return writes_; }

 private:
  net::io_context io_;
  ssl::context context_;
  ssl::stream<tcp::socket> stream_;
  std::atomic<bool> stop_{false};
  std::atomic<int> writes_{0};
  std::thread thread_;
};

// An admission request no policy matches, as the API server sends thousands of: answered at
// once. Returns how long the whole round trip took on a new connection.
// A blinded webhook answers only when its connection slots free up (the read timeout, 10 s) or not
// at all; a seeing one answers in milliseconds. 3 s tells the two apart with room for a sanitizer
// build on a busy 2-core CI machine (which once took 1.1 s for one handshake and review).
constexpr std::chrono::seconds kNotBlinded{3};

std::chrono::milliseconds timeValidate(const ServerProcess& server) {
  auto start = Clock::now();
  auto response = server.client().post("/validate?timeout=10s",
                                       readFile(ownFixture("admission/delete-pod-web.json")));
  EXPECT_EQ(response.status, 200u) << response.body;
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
}

double shed(const ServerProcess& server) {
  std::string text = server.metricsClient().get("/metrics").body;
  double total = 0;
  for (const char* reason : {"capacity", "per_address"}) {
    std::string sample = std::string("podmortem_http_connections_shed_total{reason=\"") + reason + "\"}";
    auto at = text.find("\n" + sample + " ");
    if (at != std::string::npos) total += std::stod(text.substr(at + sample.size() + 2));
  }
  return total;
}

double metric(const ServerProcess& server, const std::string& sample) {
  std::string text = server.metricsClient().get("/metrics").body;
  auto at = text.find("\n" + sample + " ");
  return at == std::string::npos ? -1 : std::stod(text.substr(at + sample.size() + 2));
}

TEST(FloodTest, FiveThousandSilentConnectionsDoNotBlindAdmissionNorDoesAFloodOfTheMetricsPort) {
  int count = connectionBudget(5000);
  if (count < 3000) GTEST_SKIP() << "the descriptor limit allows only " << count << " connections";
  TempDir dir;
  ServerProcess server(dir.path(), "kubernetes: {mode: none}\n");
  server.start();

  // From one address (a pod), then from another: limits.maxConnectionsPerAddress (512) and
  // limits.maxConnections (1024) both shed; the API server's address keeps its slots.
  Flood webhookFlood(server.webhookPort(), count, "127.0.0.2", std::string_view("\x16\x03\x01", 3));
  EXPECT_GE(webhookFlood.opened(), count * 9 / 10);
  for (int i = 0; i < 5; ++i) EXPECT_LT(timeValidate(server), kNotBlinded);
  EXPECT_TRUE(eventually([&] { return shed(server) >= count - 600.0; }))
      << "connections past the limits were shed, not the new ones refused: " << shed(server);
  EXPECT_EQ(metric(server, "podmortem_http_connections_rejected_total"), 0);

  double before = shed(server);
  Flood metricsFlood(server.metricsPort(), count, "127.0.0.3", "GET /met");
  for (int i = 0; i < 5; ++i) EXPECT_LT(timeValidate(server), kNotBlinded);
  EXPECT_EQ(server.metricsClient().get("/healthz").status, 200u);
  EXPECT_TRUE(eventually([&] { return shed(server) - before >= count - 600.0; }));
}

TEST(FloodTest, AHeaderAByteASecondAndABodyAKilobyteASecondDelayNobodyElse) {
  TempDir dir;
  writeFile(dir.path() / "state" / "audit-token", "flood-test-token-0123456789\n");
  ServerProcess server(dir.path(), "kubernetes: {mode: none}\n"
                                   "audit: {auth: token, tokenFile: state/audit-token}\n");
  server.start();
  Trickle slowHeader(server.webhookPort(), server.caFile(),
                     "POST /validate HTTP/1.1\r\nHost: podmortem\r\n", 0,
                     std::chrono::milliseconds(1000));
  Trickle slowBody(server.webhookPort(), server.caFile(),
                   "POST /audit HTTP/1.1\r\nHost: podmortem\r\nContent-Type: application/json\r\n"
                   "Authorization: Bearer flood-test-token-0123456789\r\n"
                   "Content-Length: 10485760\r\n\r\n",
                   1024, std::chrono::milliseconds(1000));
  auto start = Clock::now();
  while (Clock::now() - start < std::chrono::seconds(3)) {
    EXPECT_LT(timeValidate(server), kNotBlinded);
  }
  EXPECT_GE(slowHeader.writes(), 3) << "the slow header was still trickling";
  EXPECT_GE(slowBody.writes(), 3) << "the slow body was still trickling";
}

}  // namespace
}  // namespace podmortem::testing
