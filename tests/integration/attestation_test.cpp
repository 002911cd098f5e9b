// A bundle from a real capture, signed, checked three ways: `podmortem verify`, `podmortem
// verify --key`, and by hand with the README's commands (openssl over DSSE's PAE, sha256sum over
// the subjects), run as the README prints them.
#include <gtest/gtest.h>

#include <iostream>

#include "server_helpers.h"

namespace podmortem::testing {
namespace {

namespace fs = std::filesystem;

constexpr const char* kPolicy = R"(
apiVersion: podmortem.io/v1alpha1
kind: ForensicPolicy
metadata: {name: capture-on-delete}
spec:
  triggers: [{source: admission, operations: [DELETE], resources: [pods]}]
  actions: {snapshot: {collectors: [pod, auditTrail, references, images]}}
)";

// The sh block of the README's "Signed attestations" section.
std::string readmeCommands() {
  std::string readme = readFile(sourcePath("README.md"));
  auto section = readme.find("### Signed attestations");
  auto start = readme.find("```sh\n", section);
  auto end = readme.find("```\n", start + 6);
  if (section == std::string::npos || start == std::string::npos || end == std::string::npos) return "";
  return readme.substr(start + 6, end - start - 6);
}

struct Signed {
  fs::path bundle;
  fs::path evidence;
};

// One capture by a server signing with `keyFile`.
Signed capture(TempDir& dir, const fs::path& keyFile) {
  Signed out;
  RunningServer server(kPolicy, {}, [&](cli::Config& config) {
    config.evidence.dir = (dir.path() / "evidence").string();
    config.evidence.signingKeyFile = keyFile.string();
  });
  auto response = server.client().post("/validate?timeout=10s", readFile(ownFixture("admission/delete-pod-web.json")));
  EXPECT_EQ(response.status, 200u);
  auto snapshots = server.snapshots();
  EXPECT_EQ(snapshots.size(), 1u);
  if (!snapshots.empty()) out.bundle = snapshots[0];
  out.evidence = server.evidenceDir();
  return out;
}

void checkThreeWays(const std::string& algorithm, const std::string& genpkey) {
  TempDir dir;
  auto keys = runCommand("cd " + dir.str() + " && openssl genpkey " + genpkey + " -out signing.key 2>&1 && " +
                         "openssl pkey -in signing.key -pubout -out signing.pub 2>&1");
  ASSERT_EQ(keys.exitCode, 0) << keys.output;
  Signed bundle = capture(dir, dir.path() / "signing.key");
  ASSERT_TRUE(fs::exists(bundle.bundle / "attestation.dsse.json"));

  auto verify = runCommand(std::string(PODMORTEM_BINARY) + " verify " + bundle.evidence.string() + " 2>&1");
  EXPECT_EQ(verify.exitCode, 0) << verify.output;
  EXPECT_NE(verify.output.find("not checked"), std::string::npos) << verify.output;
  auto withKey = runCommand(std::string(PODMORTEM_BINARY) + " verify --key " + (dir.path() / "signing.pub").string() +
                            " " + bundle.evidence.string() + " 2>&1");
  EXPECT_EQ(withKey.exitCode, 0) << withKey.output;
  std::cout << algorithm << ": podmortem verify --key: " << withKey.output;

  // By hand, in a copy of the bundle (the commands leave their files beside it).
  fs::path copy = dir.path() / "by-hand";
  fs::copy(bundle.bundle, copy, fs::copy_options::recursive);
  fs::copy_file(dir.path() / "signing.pub", copy / "signing.pub");
  std::string commands = readmeCommands();
  ASSERT_FALSE(commands.empty()) << "the README's commands";
  if (algorithm == "ecdsa-p256") {
    auto ed = commands.find("openssl pkeyutl");
    commands.insert(ed, "# ");
    commands.replace(commands.find("# openssl dgst"), 2, "");
  }
  writeFile(copy / "check.sh", "set -e\n" + commands);
  auto byHand = runCommand("cd " + copy.string() + " && sh check.sh 2>&1");
  EXPECT_EQ(byHand.exitCode, 0) << byHand.output;
  EXPECT_NE(byHand.output.find("Verif"), std::string::npos) << byHand.output;  // "Signature Verified Successfully" / "Verified OK"
  EXPECT_NE(byHand.output.find("manifest.json: OK"), std::string::npos) << byHand.output;
  EXPECT_NE(byHand.output.find("pod.json: OK"), std::string::npos) << byHand.output;
  std::cout << algorithm << ": the README's commands:\n" << byHand.output;

  // A byte changed in an attested artifact: sha256sum says so, and verify exits 1.
  std::string pod = readFile(copy / "pod.json");
  pod[pod.size() / 2] ^= 1;
  writeFile(copy / "pod.json", pod);
  auto changed = runCommand("cd " + copy.string() + " && sh check.sh 2>&1");
  EXPECT_NE(changed.exitCode, 0);
  EXPECT_NE(changed.output.find("pod.json: FAILED"), std::string::npos) << changed.output;
}

TEST(AttestationTest, AnEd25519SignedBundleVerifiesThreeWays) {
  checkThreeWays("ed25519", "-algorithm ed25519");
}

TEST(AttestationTest, AnEcdsaP256SignedBundleVerifiesThreeWays) {
  checkThreeWays("ecdsa-p256", "-algorithm EC -pkeyopt ec_paramgen_curve:P-256");
}

TEST(AttestationTest, AnotherKeysSignatureFailsVerifyWithKey) {
  TempDir dir;
  ASSERT_EQ(runCommand("cd " + dir.str() + " && openssl genpkey -algorithm ed25519 -out a.key 2>&1 && "
                       "openssl genpkey -algorithm ed25519 -out b.key 2>&1 && "
                       "openssl pkey -in b.key -pubout -out b.pub 2>&1").exitCode, 0);
  Signed bundle = capture(dir, dir.path() / "a.key");
  auto other = runCommand(std::string(PODMORTEM_BINARY) + " verify --key " + (dir.path() / "b.pub").string() +
                          " " + bundle.bundle.string() + " 2>&1");
  EXPECT_EQ(other.exitCode, 1) << other.output;
  EXPECT_NE(other.output.find("no signature verifies with the key given"), std::string::npos) << other.output;
}

}  // namespace
}  // namespace podmortem::testing
