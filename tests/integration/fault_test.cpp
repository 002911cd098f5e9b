// Faults, against the real process: a full or read-only evidence volume, SIGTERM with captures
// held, SIGKILL mid-write and a restart, a Kubernetes API that fails. Each time the DELETE must
// still be answered within its hold, nothing sealed may be lost or half-written, and what reaches
// the client names no path of the server.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/statvfs.h>

#include <fstream>
#include <future>
#include <nlohmann/json.hpp>
#include <thread>

#include "fake_api_server.h"
#include "running_server.h"
#include "server_process.h"
#include "test_support.h"

namespace podmortem::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr const char* kProtectShop = R"(
apiVersion: podmortem.io/v1alpha1
kind: ForensicPolicy
metadata: {name: protect-shop}
spec:
  match: {namespaces: [shop, prod-shop]}
  triggers:
    - {source: admission, operations: [DELETE], resources: [pods]}
  actions:
    snapshot: {collectors: [pod, auditTrail], holdDeletion: 4s}
)";

// A DELETE of pod `name` in `ns`, with `padding` bytes of annotation to make pod.json large.
std::string deleteOf(const std::string& ns, const std::string& name, size_t padding = 0) {
  json review = parseJson(readFile(ownFixture("admission/delete-pod-web.json")));
  review["request"]["uid"] = "req-" + name;
  review["request"]["namespace"] = ns;
  review["request"]["name"] = name;
  json& pod = review["request"]["oldObject"];
  pod["metadata"]["namespace"] = ns;
  pod["metadata"]["name"] = name;
  pod["metadata"]["uid"] = "uid-" + name;
  if (padding > 0) pod["metadata"]["annotations"]["padding"] = std::string(padding, 'x');
  return review.dump();
}

struct Answer {
  unsigned status = 0;
  bool allowed = false;
  std::string warning;
  std::chrono::milliseconds took{0};
};

Answer sendDelete(const ServerProcess& server, const std::string& body) {
  auto start = Clock::now();
  auto response = server.client().post("/validate?timeout=10s", body);
  Answer answer;
  answer.status = response.status;
  answer.took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  auto review = json::parse(response.body, nullptr, false);
  if (review.is_object() && review.contains("response")) {
    answer.allowed = review["response"].value("allowed", false);
    for (const auto& warning : review["response"].value("warnings", json::array())) {
      answer.warning += warning.get<std::string>();
    }
  }
  return answer;
}

// A server-side absolute path in a client answer: a "/" that starts a word and goes on with a
// name ("pods/exec" does not count: its "/" follows a letter).
bool namesAPath(const std::string& text) {
  for (size_t at = text.find('/'); at != std::string::npos; at = text.find('/', at + 1)) {
    bool startsWord = at == 0 || std::isspace(static_cast<unsigned char>(text[at - 1])) ||
                      text[at - 1] == '"' || text[at - 1] == '(' || text[at - 1] == ':';
    bool name = at + 1 < text.size() &&
                (std::isalnum(static_cast<unsigned char>(text[at + 1])) || text[at + 1] == '.');
    if (startsWord && name) return true;
  }
  return false;
}

CommandResult verify(const fs::path& evidence) {
  return runCommand(std::string(PODMORTEM_BINARY) + " verify " + evidence.string());
}

json manifestOf(const fs::path& evidence, const std::string& ns, const std::string& pod) {
  for (const auto& entry : fs::recursive_directory_iterator(evidence / ns / pod)) {
    if (entry.path().filename() == "manifest.json") return parseJson(readFile(entry.path()));
  }
  return json();
}

size_t ledgerLines(const fs::path& evidence) {
  if (!fs::exists(evidence / "custody.jsonl")) return 0;
  std::string text = readFile(evidence / "custody.jsonl");
  return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
}

// A tmpfs of a few hundred KB mounted where the evidence goes: a volume that fills up, or turns
// read-only. Needs the right to mount (root in CI); otherwise the test says why it skips.
class TinyVolume {
 public:
  TinyVolume(const fs::path& where, size_t bytes) : where_(where), bytes_(bytes) {
    fs::create_directories(where_);
    if (::mount("tmpfs", where_.c_str(), "tmpfs", 0, options().c_str()) != 0) {
      why_ = std::string("cannot mount a tmpfs for the evidence volume: ") + std::strerror(errno);
    }
  }
  ~TinyVolume() {
    if (why_.empty()) ::umount2(where_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return why_.empty(); }
  const std::string& why() const { return why_; }
  void setReadOnly(bool readOnly) {
    ASSERT_EQ(::mount(nullptr, where_.c_str(), nullptr, MS_REMOUNT | (readOnly ? MS_RDONLY : 0),
                      options().c_str()),
              0)
        << std::strerror(errno);
  }
  uint64_t available() const {
    struct statvfs info {};
    ::statvfs(where_.c_str(), &info);
    return static_cast<uint64_t>(info.f_bavail) * info.f_frsize;
  }
  // Leaves about `free` bytes: what a busy volume looks like just before it is full.
  void fillLeaving(uint64_t free) {
    uint64_t size = available() > free ? available() - free : 0;
    std::ofstream(where_ / "filler", std::ios::binary) << std::string(size, 'f');
  }
  void emptyFiller() { fs::remove(where_ / "filler"); }
  const fs::path& path() const { return where_; }

 private:
  std::string options() const { return "size=" + std::to_string(bytes_) + ",mode=0700"; }
  fs::path where_;
  size_t bytes_;
  std::string why_;
};

std::string localConfig() { return "policies: {dir: policies}\nkubernetes: {mode: none}\n"; }

TEST(FaultTest, AFullEvidenceVolumeGivesPartialSaysNoSpaceAndCaptureResumesOnceThereIsRoom) {
  TempDir dir;
  TinyVolume volume(dir.path() / "volume", 512 * 1024);
  if (!volume.mounted()) GTEST_SKIP() << volume.why();
  writeFile(dir.path() / "policies" / "p.yaml", kProtectShop);
  ServerProcess server(dir.path(), localConfig() + "evidence: {dir: volume/evidence}\n");
  server.start();

  ASSERT_TRUE(sendDelete(server, deleteOf("shop", "warm-up")).warning.find("captured") !=
              std::string::npos);
  volume.fillLeaving(48 * 1024);
  auto full = sendDelete(server, deleteOf("shop", "big-pod", 256 * 1024));
  EXPECT_EQ(full.status, 200u);
  EXPECT_TRUE(full.allowed);
  EXPECT_LT(full.took, std::chrono::seconds(4)) << "answered within its hold";
  EXPECT_NE(full.warning.find("no space on the evidence volume"), std::string::npos) << full.warning;
  EXPECT_FALSE(namesAPath(full.warning)) << full.warning;
  EXPECT_LT(full.warning.size(), 200u);

  const fs::path evidence = dir.path() / "volume" / "evidence";
  auto manifest = manifestOf(evidence, "shop", "big-pod");
  ASSERT_TRUE(manifest.is_object()) << "what fitted was sealed";
  EXPECT_EQ(manifest["phase"], "Partial");
  bool podMissing = false;
  for (const auto& artifact : manifest["artifacts"]) {
    if (artifact["path"] == "pod.json") {
      podMissing = !artifact.contains("sha256") &&
                   artifact.value("error", "").find("no space") != std::string::npos;
    }
  }
  EXPECT_TRUE(podMissing) << manifest.dump(2);
  auto checked = verify(evidence);
  EXPECT_EQ(checked.exitCode, 0) << checked.output;
  EXPECT_NE(checked.output.find("missing  " + (evidence / "shop" / "big-pod").string()),
            std::string::npos)
      << "verify names what is missing: " << checked.output;
  EXPECT_NE(checked.output.find("pod.json: not stored: no space left on the evidence volume"),
            std::string::npos)
      << checked.output;

  volume.emptyFiller();
  auto after = sendDelete(server, deleteOf("shop", "after-pod", 64 * 1024));
  EXPECT_NE(after.warning.find("captured (policy protect-shop"), std::string::npos) << after.warning;
  EXPECT_EQ(manifestOf(evidence, "shop", "after-pod")["phase"], "Complete");
  EXPECT_EQ(verify(evidence).exitCode, 0);
  EXPECT_EQ(ledgerLines(evidence), 3u);
}

// The namespace's folder turned read-only under the running server, as a volume the kernel
// remounts read-only after an error: a read-only bind mount over it (the ledger, open for
// writing, would stop a remount of the whole volume).
class ReadOnlyBind {
 public:
  explicit ReadOnlyBind(const fs::path& folder) : folder_(folder) {
    if (::mount(folder_.c_str(), folder_.c_str(), nullptr, MS_BIND, nullptr) != 0) {
      why_ = std::string("cannot bind-mount: ") + std::strerror(errno);
      return;
    }
    if (::mount(nullptr, folder_.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr) != 0) {
      why_ = std::string("cannot make a bind mount read-only: ") + std::strerror(errno);
    }
    bound_ = true;
  }
  ~ReadOnlyBind() { release(); }
  void release() {
    if (bound_) ::umount2(folder_.c_str(), MNT_DETACH);
    bound_ = false;
  }
  bool ready() const { return bound_ && why_.empty(); }
  const std::string& why() const { return why_; }

 private:
  fs::path folder_;
  bool bound_ = false;
  std::string why_;
};

TEST(FaultTest, AReadOnlyEvidenceVolumeFailsTheCaptureWithTheReasonAndNothingElse) {
  TempDir dir;
  writeFile(dir.path() / "policies" / "p.yaml", kProtectShop);
  ServerProcess server(dir.path(), localConfig());
  server.start();
  ASSERT_NE(sendDelete(server, deleteOf("shop", "before")).warning.find("captured"),
            std::string::npos);

  ReadOnlyBind readOnlyFolder(server.evidenceDir() / "shop");
  if (!readOnlyFolder.ready()) GTEST_SKIP() << readOnlyFolder.why();
  auto readOnly = sendDelete(server, deleteOf("shop", "while-read-only"));
  EXPECT_EQ(readOnly.status, 200u);
  EXPECT_TRUE(readOnly.allowed);
  EXPECT_NE(readOnly.warning.find("failed (policy protect-shop): the evidence volume is read-only"),
            std::string::npos)
      << readOnly.warning;
  EXPECT_FALSE(namesAPath(readOnly.warning)) << readOnly.warning;
  EXPECT_NE(server.log().find("Read-only file system"), std::string::npos)
      << "the details, paths included, go to the server log";
  readOnlyFolder.release();

  EXPECT_EQ(ledgerLines(server.evidenceDir()), 1u) << "the ledger did not move";
  EXPECT_NE(sendDelete(server, deleteOf("shop", "after")).warning.find("captured"),
            std::string::npos);
  EXPECT_EQ(verify(server.evidenceDir()).exitCode, 0);
  EXPECT_EQ(ledgerLines(server.evidenceDir()), 2u);
}

// The fake API server the SIGTERM and API-fault tests capture against: the pod's GET and logs
// can be made to hang, fail or refuse.
std::string clusterConfig(FakeApiServer& api, const fs::path& dir) {
  api.writeKubeconfig(dir / "kubeconfig", "test-token");
  return "policies: {dir: policies}\n"
         "kubernetes: {mode: kubeconfig, kubeconfig: kubeconfig, evidenceRecords: false}\n"
         "leaderElection: {enabled: false}\n";
}

constexpr const char* kProtectWithLiveCollectors = R"(
apiVersion: podmortem.io/v1alpha1
kind: ForensicPolicy
metadata: {name: protect-live}
spec:
  match: {namespaces: [prod-shop]}
  triggers:
    - {source: admission, operations: [DELETE], resources: [pods]}
  actions:
    snapshot: {collectors: [pod, logs], holdDeletion: 3s}
)";

double metric(const ServerProcess& server, const std::string& sample) {
  std::string text = server.metricsClient().get("/metrics").body;
  auto at = text.find("\n" + sample + " ");
  return at == std::string::npos ? -1 : std::stod(text.substr(at + sample.size() + 2));
}

TEST(FaultTest, SigtermWhileTwentyCapturesAreHeldAnswersEveryOneAndSealsEveryBundle) {
  TempDir dir;
  FakeApiServer api({.token = "test-token"});
  api.stall("/api/v1/namespaces/prod-shop/pods/");  // the live pod and its logs never come
  writeFile(dir.path() / "policies" / "p.yaml", kProtectWithLiveCollectors);
  ServerProcess server(dir.path(), clusterConfig(api, dir.path()));
  server.start();

  std::vector<std::future<Answer>> answers;
  for (int i = 0; i < 20; ++i) {
    answers.push_back(std::async(std::launch::async, [&server, i] {
      return sendDelete(server, deleteOf("prod-shop", "held-" + std::to_string(i)));
    }));
  }
  ASSERT_TRUE(eventually([&] { return metric(server, "podmortem_snapshots_in_progress") == 20; }))
      << server.log();
  server.signal(SIGTERM);
  for (auto& pending : answers) {
    auto answer = pending.get();
    EXPECT_EQ(answer.status, 200u);
    EXPECT_TRUE(answer.allowed);
    EXPECT_FALSE(answer.warning.empty());
  }
  api.release();
  EXPECT_EQ(server.wait(), 0) << server.log();

  size_t bundles = 0;
  for (const auto& entry : fs::recursive_directory_iterator(server.evidenceDir())) {
    if (entry.path().filename() != "manifest.json") continue;
    ++bundles;
    auto manifest = parseJson(readFile(entry.path()));
    EXPECT_TRUE(manifest["phase"] == "Partial" || manifest["phase"] == "Complete") << manifest;
  }
  EXPECT_EQ(bundles, 20u);
  EXPECT_EQ(ledgerLines(server.evidenceDir()), 20u);
  auto checked = verify(server.evidenceDir());
  EXPECT_EQ(checked.exitCode, 0) << checked.output;
}

TEST(FaultTest, SigkillMidWriteThenRestartLeavesNoHalfBundleAndTheLedgerGoesOn) {
  TempDir dir;
  writeFile(dir.path() / "policies" / "p.yaml", kProtectShop);
  ServerProcess server(dir.path(), localConfig());
  server.start();
  // Captures under way from two clients when the process is killed.
  std::atomic<bool> stop{false};
  std::atomic<int> sent{0};
  auto load = [&](int client) {
    while (!stop) {
      try {
        sendDelete(server, deleteOf("shop", "pod-" + std::to_string(client) + "-" +
                                                std::to_string(sent++), 128 * 1024));
      } catch (const std::exception&) {
        return;  // the server is gone
      }
    }
  };
  std::thread first(load, 1);
  std::thread second(load, 2);
  ASSERT_TRUE(eventually([&] { return ledgerLines(server.evidenceDir()) >= 10; }));
  server.signal(SIGKILL);
  EXPECT_EQ(server.wait(), 128 + SIGKILL);
  stop = true;
  first.join();
  second.join();
  // Whatever the kill caught, make sure a write was interrupted: a temporary folder as the store
  // leaves one mid-bundle.
  fs::path interrupted = server.evidenceDir() / "shop" / "pod-1-0" / ".tmp-0123456789abcdef";
  fs::create_directories(interrupted);
  writeFile(interrupted / "pod.json", "{\"kind\":\"Po");
  size_t before = ledgerLines(server.evidenceDir());

  server.start();
  EXPECT_NE(server.log().find("moved to quarantine"), std::string::npos) << server.log();
  for (const auto& entry : fs::recursive_directory_iterator(server.evidenceDir())) {
    bool quarantined = entry.path().string().find("/.quarantine/") != std::string::npos;
    EXPECT_TRUE(quarantined || entry.path().filename().string().rfind(".tmp-", 0) != 0)
        << "a half-written bundle is visible: " << entry.path();
  }
  auto checked = verify(server.evidenceDir());
  EXPECT_EQ(checked.exitCode, 0) << checked.output;
  EXPECT_NE(sendDelete(server, deleteOf("shop", "after-restart")).warning.find("captured"),
            std::string::npos);
  EXPECT_GT(ledgerLines(server.evidenceDir()), before) << "the chain continues";
  EXPECT_EQ(verify(server.evidenceDir()).exitCode, 0);
}

TEST(FaultTest, AnApiThatFailsStallsOrHangsUpGivesPartialWithinTheHoldAndServingGoesOn) {
  TempDir dir;
  FakeApiServer api({.token = "test-token"});
  writeFile(dir.path() / "policies" / "p.yaml", kProtectWithLiveCollectors);
  ServerProcess server(dir.path(), clusterConfig(api, dir.path()));
  server.start();
  struct Case {
    const char* name;
    std::function<void()> fault;
  };
  std::vector<Case> cases = {
      {"answers-500", [&] { api.failNext(1000, 500); }},
      {"closes-connections", [&] { api.setDown(true); }},
      {"stalls", [&] { api.stall("/api/v1/namespaces/prod-shop/pods/"); }},
  };
  for (const auto& c : cases) {
    c.fault();
    auto answer = sendDelete(server, deleteOf("prod-shop", c.name));
    EXPECT_EQ(answer.status, 200u) << c.name;
    EXPECT_TRUE(answer.allowed) << c.name;
    EXPECT_LT(answer.took, std::chrono::milliseconds(3500)) << c.name;
    EXPECT_NE(answer.warning.find("partially captured"), std::string::npos)
        << c.name << ": " << answer.warning;
    EXPECT_FALSE(namesAPath(answer.warning)) << answer.warning;
    EXPECT_EQ(server.client().get("/healthz").status, 200u) << c.name;
    api.failNext(0);
    api.setDown(false);
    api.release();
  }
  EXPECT_TRUE(eventually([&] { return ledgerLines(server.evidenceDir()) == 3; }));
  EXPECT_EQ(verify(server.evidenceDir()).exitCode, 0);
}

}  // namespace
}  // namespace podmortem::testing
