#include "podmortem/evidence/signer.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "podmortem/evidence/bundle.h"
#include "podmortem/evidence/store.h"
#include "podmortem/evidence/verifier.h"

namespace podmortem::controller {
namespace {
namespace fs = std::filesystem;

const std::string kHmacSecret = "0123456789abcdef0123456789abcdef-extra";

class SignerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("podmortem-signer-" + evidence::newSnapshotId());
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::string file(const std::string& name, const std::string& bytes) {
    fs::path path = dir_ / name;
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
    return path.string();
  }
  static std::string read(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
  }

  // A fresh key per test; `type` is EVP_PKEY_ED25519 or EVP_PKEY_RSA.
  struct KeyPem {
    std::string privatePem;
    std::string publicPem;
  };
  static KeyPem generateKey(int type) {
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_id(type, nullptr);
    EVP_PKEY* key = nullptr;
    EXPECT_EQ(EVP_PKEY_keygen_init(ctx), 1);
    if (type == EVP_PKEY_RSA)
      EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, 2048);
    EXPECT_EQ(EVP_PKEY_keygen(ctx, &key), 1);
    KeyPem pem;
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
    char* data = nullptr;
    long size = BIO_get_mem_data(bio, &data);
    pem.privatePem.assign(data, static_cast<std::size_t>(size));
    BIO_free(bio);
    bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(bio, key);
    size = BIO_get_mem_data(bio, &data);
    pem.publicPem.assign(data, static_cast<std::size_t>(size));
    BIO_free(bio);
    EVP_PKEY_free(key);
    EVP_PKEY_CTX_free(ctx);
    return pem;
  }

  // Writes one signed snapshot into <dir>/evidence and returns its bundle folder.
  fs::path writeSignedSnapshot(std::unique_ptr<evidence::Signer> signer) {
    evidence::FileStore store((dir_ / "evidence").string(), std::move(signer));
    evidence::SnapshotContent c;
    c.id = evidence::newSnapshotId();
    c.policyName = "protect";
    c.pod = {"shop", "web-0", "uid", "node"};
    c.artifacts = {{"pod.json", "pod", "{}", ""}};
    evidence::WriteResult result = store.write(c);
    EXPECT_EQ(result.phase, evidence::SnapshotPhase::kComplete) << result.reason;
    return result.bundlePath;
  }

  fs::path dir_;
};

TEST_F(SignerTest, Ed25519SignatureVerifiesWithPublicAndPrivateKey) {
  KeyPem key = generateKey(EVP_PKEY_ED25519);
  auto signer = evidence::loadSigner(file("key.pem", key.privatePem));
  EXPECT_EQ(signer->algorithm(), "ed25519");
  std::string signature = signer->sign("manifest bytes");
  EXPECT_EQ(signature.size(), 64u);

  auto byPublic = evidence::loadSignatureVerifier(file("pub.pem", key.publicPem));
  auto byPrivate = evidence::loadSignatureVerifier(file("key.pem", key.privatePem));
  EXPECT_TRUE(byPublic->verify("manifest bytes", signature));
  EXPECT_TRUE(byPrivate->verify("manifest bytes", signature));
  EXPECT_FALSE(byPublic->verify("manifest bytez", signature));

  auto otherKey = evidence::loadSignatureVerifier(file("other.pem", generateKey(EVP_PKEY_ED25519).publicPem));
  EXPECT_FALSE(otherKey->verify("manifest bytes", signature));
}

TEST_F(SignerTest, HmacSecretSignsAndVerifiesIgnoringTrailingNewline) {
  auto signer = evidence::loadSigner(file("secret", kHmacSecret + "\n"));
  EXPECT_EQ(signer->algorithm(), "hmac-sha256");
  std::string signature = signer->sign("manifest bytes");
  EXPECT_EQ(signature.size(), 32u);
  auto verifier = evidence::loadSignatureVerifier(file("secret-no-newline", kHmacSecret));
  EXPECT_TRUE(verifier->verify("manifest bytes", signature));
  EXPECT_FALSE(verifier->verify("manifest bytes!", signature));
  auto otherSecret = evidence::loadSignatureVerifier(file("other", kHmacSecret + "x"));
  EXPECT_FALSE(otherSecret->verify("manifest bytes", signature));
}

TEST_F(SignerTest, BadKeysFailAtStartUpNamingTheFileNotTheKey) {
  const std::string shortSecret = "only-31-bytes-of-secret-0123456";
  ASSERT_EQ(shortSecret.size(), 31u);
  std::string shortFile = file("short", shortSecret + "\n");
  try {
    evidence::loadSigner(shortFile);
    FAIL() << "a short HMAC secret was accepted";
  } catch (const std::runtime_error& e) {
    std::string message = e.what();
    EXPECT_NE(message.find(shortFile), std::string::npos) << message;
    EXPECT_EQ(message.find(shortSecret), std::string::npos) << "key material in the message";
  }
  EXPECT_THROW(evidence::loadSigner((dir_ / "absent").string()), std::runtime_error);
  EXPECT_THROW(evidence::loadSigner(file("rsa.pem", generateKey(EVP_PKEY_RSA).privatePem)),
               std::runtime_error);
  EXPECT_THROW(evidence::loadSigner(file("pub.pem", generateKey(EVP_PKEY_ED25519).publicPem)),
               std::runtime_error)
      << "a public key cannot sign";
  EXPECT_THROW(evidence::loadSigner(file("broken.pem", "-----BEGIN PRIVATE KEY-----\nAAAA\n")),
               std::runtime_error);
}

TEST_F(SignerTest, SignatureFileRoundTrips) {
  std::string raw("\x00\xff\x10 signature", 13);
  std::string text = evidence::formatSignatureFile("ed25519", raw);
  evidence::SignatureFile parsed;
  std::string error;
  ASSERT_TRUE(evidence::parseSignatureFile(text, parsed, error)) << error;
  EXPECT_EQ(parsed.algorithm, "ed25519");
  EXPECT_EQ(parsed.signature, raw);
  EXPECT_FALSE(
      evidence::parseSignatureFile("{\"algorithm\":\"ed25519\",\"signature\":\"a$==\"}", parsed, error));
  EXPECT_FALSE(evidence::parseSignatureFile("not json", parsed, error));
}

TEST_F(SignerTest, Ed25519SignedBundleVerifies) {
  KeyPem key = generateKey(EVP_PKEY_ED25519);
  fs::path bundle = writeSignedSnapshot(evidence::loadSigner(file("key.pem", key.privatePem)));
  nlohmann::json envelope = nlohmann::json::parse(read(bundle / "attestation.dsse.json"));
  EXPECT_EQ(envelope["payloadType"], "application/vnd.in-toto+json");
  EXPECT_FALSE(fs::exists(bundle / "manifest.json.sig")) << "retired: the envelope replaces it";

  auto verifier = evidence::loadSignatureVerifier(file("pub.pem", key.publicPem));
  evidence::VerifyReport report = evidence::verifyEvidence((dir_ / "evidence").string(), verifier.get());
  EXPECT_TRUE(report.ok()) << report.problems.front().path << ": "
                           << report.problems.front().message;
  EXPECT_EQ(report.signaturesChecked, 1u);
}

TEST_F(SignerTest, HmacSignedBundleVerifies) {
  fs::path bundle = writeSignedSnapshot(evidence::loadSigner(file("secret", kHmacSecret)));
  auto verifier = evidence::loadSignatureVerifier(file("secret", kHmacSecret));
  evidence::VerifyReport report = evidence::verifyEvidence(bundle.string(), verifier.get());
  EXPECT_TRUE(report.ok()) << report.problems.front().path << ": "
                           << report.problems.front().message;
  EXPECT_EQ(report.signaturesChecked, 1u);
}

TEST_F(SignerTest, TamperedManifestFailsSignatureCheck) {
  KeyPem key = generateKey(EVP_PKEY_ED25519);
  fs::path bundle = writeSignedSnapshot(evidence::loadSigner(file("key.pem", key.privatePem)));
  std::string manifest = read(bundle / "manifest.json");
  manifest[manifest.find("protect")] = 'P';
  std::ofstream(bundle / "manifest.json", std::ios::binary | std::ios::trunc) << manifest;

  auto verifier = evidence::loadSignatureVerifier(file("pub.pem", key.publicPem));
  evidence::VerifyReport report = evidence::verifyEvidence((dir_ / "evidence").string(), verifier.get());
  bool signatureProblem = false;
  for (const evidence::VerifyProblem& problem : report.problems) {
    if (problem.path == (bundle / "attestation.dsse.json").string() &&
        problem.message.find("manifest.json changed after it was signed") != std::string::npos) {
      signatureProblem = true;
    }
  }
  EXPECT_TRUE(signatureProblem);
}

TEST_F(SignerTest, SignatureWithoutKeyIsNotedNotFailed) {
  writeSignedSnapshot(evidence::loadSigner(file("secret", kHmacSecret)));
  evidence::VerifyReport report = evidence::verifyEvidence((dir_ / "evidence").string(), nullptr);
  EXPECT_TRUE(report.ok());
  EXPECT_EQ(report.signaturesChecked, 0u);
  ASSERT_EQ(report.notes.size(), 1u);
  EXPECT_NE(report.notes[0].find("not checked"), std::string::npos);
}

TEST_F(SignerTest, UnsignedBundleFailsWhenKeyIsGiven) {
  fs::path bundle = writeSignedSnapshot(nullptr);
  auto verifier = evidence::loadSignatureVerifier(file("secret", kHmacSecret));
  evidence::VerifyReport report = evidence::verifyEvidence((dir_ / "evidence").string(), verifier.get());
  ASSERT_EQ(report.problems.size(), 1u);
  EXPECT_EQ(report.problems[0].path, (bundle / "attestation.dsse.json").string());
  EXPECT_NE(report.problems[0].message.find("not signed"), std::string::npos);
}

TEST_F(SignerTest, WrongAlgorithmKeyIsReported) {
  writeSignedSnapshot(evidence::loadSigner(file("secret", kHmacSecret)));
  auto verifier = evidence::loadSignatureVerifier(file("pub.pem", generateKey(EVP_PKEY_ED25519).publicPem));
  evidence::VerifyReport report = evidence::verifyEvidence((dir_ / "evidence").string(), verifier.get());
  ASSERT_EQ(report.problems.size(), 1u);
  EXPECT_NE(report.problems[0].message.find("no signature verifies with the key given"), std::string::npos)
      << report.problems[0].message;
}

// Bundles written before attestations carry manifest.json.sig: still verified.
TEST_F(SignerTest, ALegacySignatureFileIsStillVerified) {
  fs::path bundle = writeSignedSnapshot(nullptr);
  auto signer = evidence::loadSigner(file("secret", kHmacSecret));
  std::ofstream(bundle / "manifest.json.sig", std::ios::binary)
      << evidence::formatSignatureFile(signer->algorithm(), signer->sign(read(bundle / "manifest.json")));
  auto verifier = evidence::loadSignatureVerifier(file("secret", kHmacSecret));
  evidence::VerifyReport report = evidence::verifyEvidence(bundle.string(), verifier.get());
  EXPECT_TRUE(report.ok()) << report.problems.front().message;
  EXPECT_EQ(report.signaturesChecked, 1u);
}

TEST_F(SignerTest, EcdsaP256SignsDerAndHasTheKeyIdOfItsPublicKey) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  ASSERT_NE(key, nullptr);
  auto pem = [key](bool privateKey) {
    BIO* bio = BIO_new(BIO_s_mem());
    if (privateKey) {
      PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
    } else {
      PEM_write_bio_PUBKEY(bio, key);
    }
    char* data = nullptr;
    long size = BIO_get_mem_data(bio, &data);
    std::string text(data, static_cast<std::size_t>(size));
    BIO_free(bio);
    return text;
  };
  std::string privatePem = pem(true);
  std::string publicPem = pem(false);
  EVP_PKEY_free(key);

  auto signer = evidence::loadSigner(file("p256.pem", privatePem));
  EXPECT_EQ(signer->algorithm(), "ecdsa-p256-sha256");
  auto verifier = evidence::loadSignatureVerifier(file("p256.pub", publicPem));
  EXPECT_EQ(signer->keyId(), verifier->keyId());
  EXPECT_EQ(signer->keyId().size(), 64u);
  std::string signature = signer->sign("manifest bytes");
  EXPECT_EQ(static_cast<unsigned char>(signature[0]), 0x30) << "DER, as openssl dgst -verify takes";
  EXPECT_TRUE(verifier->verify("manifest bytes", signature));
  EXPECT_FALSE(verifier->verify("manifest bytez", signature));
  fs::path bundle = writeSignedSnapshot(evidence::loadSigner(file("p256.pem", privatePem)));
  evidence::VerifyReport report = evidence::verifyEvidence(bundle.string(), verifier.get());
  EXPECT_TRUE(report.ok()) << report.problems.front().message;
}

}  // namespace
}  // namespace podmortem::controller
