// DSSE and the in-toto Statement of a bundle. The test vector is the one the DSSE specification
// publishes (protocol.md, "Test Vectors"): its PAE, and its ECDSA P-256 signature verifying with
// its public key.
#include "podmortem/evidence/dsse.h"

#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include <fstream>

#include "podmortem/core/base64.h"
#include "podmortem/core/sha256.h"
#include "test_support.h"

namespace podmortem::evidence {
namespace {

using nlohmann::json;

// The specification's key, as a PEM public key file: the point (X, Y) in decimal.
std::string specPublicKeyPem() {
  BIGNUM* x = nullptr;
  BIGNUM* y = nullptr;
  BN_dec2bn(&x, "46950820868899156662930047687818585632848591499744589407958293238635476079160");
  BN_dec2bn(&y, "5640078356564379163099075877009565129882514886557779369047442380624545832820");
  unsigned char point[65] = {0x04};
  BN_bn2binpad(x, point + 1, 32);
  BN_bn2binpad(y, point + 33, 32);
  BN_free(x);
  BN_free(y);
  OSSL_PARAM_BLD* build = OSSL_PARAM_BLD_new();
  OSSL_PARAM_BLD_push_utf8_string(build, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0);
  OSSL_PARAM_BLD_push_octet_string(build, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point);
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(build);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr);
  EVP_PKEY* key = nullptr;
  EVP_PKEY_fromdata_init(ctx);
  EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params);
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, key);
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(size));
  BIO_free(bio);
  EVP_PKEY_free(key);
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(build);
  return pem;
}

TEST(Dsse, PreAuthEncodingOfTheSpecificationsTestVector) {
  EXPECT_EQ(preAuthEncoding("http://example.com/HelloWorld", "hello world"),
            "DSSEv1 29 http://example.com/HelloWorld 11 hello world");
  EXPECT_EQ(preAuthEncoding("", ""), "DSSEv1 0  0 ");
}

TEST(Dsse, TheSpecificationsSignatureVerifiesAndATamperedOneDoesNot) {
  testing::TempDir dir;
  testing::writeFile(dir.path() / "spec.pub", specPublicKeyPem());
  auto verifier = loadSignatureVerifier((dir.path() / "spec.pub").string());
  ASSERT_EQ(verifier->algorithm(), "ecdsa-p256-sha256");
  auto envelope = parseEnvelope(R"({"payload": "aGVsbG8gd29ybGQ=",
      "payloadType": "http://example.com/HelloWorld",
      "signatures": [{"sig": "A3JqsQGtVsJ2O2xqrI5IcnXip5GToJ3F+FnZ+O88SjtR6rDAajabZKciJTfUiHqJPcIAriEGAHTVeCUjW2JIZA=="}]})");
  ASSERT_TRUE(envelope.ok()) << envelope.error().message;
  EXPECT_EQ(envelope->payload, "hello world");
  EXPECT_TRUE(verifyEnvelope(*envelope, *verifier)) << "raw r || s, as the specification encodes it";
  auto changed = *envelope;
  changed.payload = "hello world!";
  EXPECT_FALSE(verifyEnvelope(changed, *verifier));
  changed = *envelope;
  changed.payloadType = "http://example.com/Other";
  EXPECT_FALSE(verifyEnvelope(changed, *verifier)) << "the type is signed too";
  changed = *envelope;
  changed.signatures[0].keyid = "another-key";
  EXPECT_FALSE(verifyEnvelope(changed, *verifier)) << "a signature naming another key is not tried";
}

TEST(Dsse, EnvelopesRoundTripAndBadOnesSayWhy) {
  testing::TempDir dir;
  testing::writeFile(dir.path() / "secret", "0123456789abcdef0123456789abcdef");
  auto signer = loadSigner((dir.path() / "secret").string());
  auto envelope = signEnvelope(std::string(kInTotoPayloadType), "{\"a\":1}", *signer);
  auto parsed = parseEnvelope(formatEnvelope(envelope));
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->payload, "{\"a\":1}");
  ASSERT_EQ(parsed->signatures.size(), 1u);
  EXPECT_EQ(parsed->signatures[0].keyid, signer->keyId());
  EXPECT_EQ(parsed->signatures[0].sig, envelope.signatures[0].sig);
  EXPECT_FALSE(parseEnvelope("[]").ok());
  EXPECT_FALSE(parseEnvelope(R"({"payloadType":"t","payload":"%%%","signatures":[]})").ok());
  auto noSig = parseEnvelope(R"({"payloadType":"t","payload":"","signatures":[{"keyid":"k"}]})");
  ASSERT_FALSE(noSig.ok());
  EXPECT_NE(noSig.error().message.find("without sig"), std::string::npos);
}

TEST(Dsse, TheStatementsSubjectsAreTheManifestAndTheStoredArtifacts) {
  std::string manifest = R"({"kind":"EvidenceSnapshot","snapshotId":"abc","phase":"Partial",)"
                         R"("policy":{"name":"p"},"pod":{"namespace":"ns","name":"web"}})";
  std::vector<ArtifactRecord> artifacts = {{"pod.json", "pod", std::string(64, 'a'), "", 2},
                                           {"logs/app.log", "logs", "", "timed out", 0}};
  json statement = json::parse(bundleStatement(manifest, artifacts));
  EXPECT_EQ(statement["_type"], "https://in-toto.io/Statement/v1");
  EXPECT_EQ(statement["predicateType"], "https://podmortem.io/evidence/v1");
  ASSERT_EQ(statement["subject"].size(), 2u) << "the log was not stored: nothing to attest";
  EXPECT_EQ(statement["subject"][0]["name"], "manifest.json");
  EXPECT_EQ(statement["subject"][0]["digest"]["sha256"], core::sha256Hex(manifest));
  EXPECT_EQ(statement["subject"][1]["name"], "pod.json");
  EXPECT_EQ(statement["predicate"]["snapshotId"], "abc");
  EXPECT_EQ(statement["predicate"]["policy"]["name"], "p");
  EXPECT_EQ(statement["predicate"]["collectors"][1]["error"], "timed out");
}

}  // namespace
}  // namespace podmortem::evidence
