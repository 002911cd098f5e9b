#include "podmortem/evidence/signer.h"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <nlohmann/json.hpp>
#include <stdexcept>

#include "podmortem/core/base64.h"
#include "podmortem/core/file_io.h"
#include "podmortem/core/sha256.h"

namespace podmortem::evidence {

namespace fileio = core::fileio;

namespace {
constexpr std::size_t kMinHmacSecretBytes = 32;
constexpr std::string_view kEd25519 = "ed25519";
constexpr std::string_view kEcdsaP256 = "ecdsa-p256-sha256";
constexpr std::string_view kHmacSha256 = "hmac-sha256";

struct PkeyDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct BioDeleter {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

// Key bytes are wiped when they go out of scope so they do not linger in freed heap memory
// (and from there in a core dump).
class SecretBytes {
 public:
  explicit SecretBytes(std::string bytes) : bytes_(std::move(bytes)) {}
  ~SecretBytes() { OPENSSL_cleanse(bytes_.data(), bytes_.size()); }
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  std::string& get() { return bytes_; }
  const std::string& get() const { return bytes_; }

 private:
  std::string bytes_;
};

// Never prompt on the terminal for an encrypted key: a server has nobody to answer.
int noPassword(char*, int, int, void*) {
  return 0;
}

std::string readKeyFile(const std::string& keyFile) {
  std::string contents;
  if (auto read = fileio::readFile(keyFile, contents); !read.ok())
    throw std::runtime_error("signing key: " + read.error().message);
  return contents;
}

bool looksLikePem(const std::string& bytes) {
  return bytes.find("-----BEGIN ") != std::string::npos;
}

PkeyPtr readPem(const std::string& bytes, bool publicKey) {
  std::unique_ptr<BIO, BioDeleter> bio(
      BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
  if (!bio)
    return nullptr;
  EVP_PKEY* key = publicKey ? PEM_read_bio_PUBKEY(bio.get(), nullptr, noPassword, nullptr)
                            : PEM_read_bio_PrivateKey(bio.get(), nullptr, noPassword, nullptr);
  return PkeyPtr(key);
}

bool isP256(EVP_PKEY* key) {
  if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC) return false;
  char group[64] = {};
  size_t length = 0;
  return EVP_PKEY_get_group_name(key, group, sizeof group, &length) == 1 &&
         (std::string_view(group) == "prime256v1" || std::string_view(group) == "P-256");
}

// The algorithm name a key signs with: Ed25519, or ECDSA over P-256 with SHA-256.
std::string_view algorithmOf(const PkeyPtr& key, const std::string& keyFile) {
  if (EVP_PKEY_get_base_id(key.get()) == EVP_PKEY_ED25519) return kEd25519;
  if (isP256(key.get())) return kEcdsaP256;
  throw std::runtime_error("signing key " + keyFile +
                           ": unsupported key type (use an Ed25519 or ECDSA P-256 PEM key, or an "
                           "HMAC secret)");
}

// The key id DSSE signatures carry: SHA-256 of the DER SubjectPublicKeyInfo, what
// `openssl pkey -pubin -outform DER | sha256sum` prints.
std::string publicKeyId(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  int size = i2d_PUBKEY(key, &der);
  if (size <= 0) throw std::runtime_error("cannot encode the public key");
  std::string id = core::sha256Hex(std::string_view(reinterpret_cast<char*>(der), static_cast<size_t>(size)));
  OPENSSL_free(der);
  return id;
}

// An ECDSA signature in the raw r || s form (64 bytes for P-256, as the DSSE test vector has
// it) turned into the DER form OpenSSL verifies; other input is returned as it is.
std::string ecdsaDer(std::string_view signature) {
  if (signature.size() != 64) return std::string(signature);
  ECDSA_SIG* sig = ECDSA_SIG_new();
  BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(signature.data()), 32, nullptr);
  BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(signature.data()) + 32, 32, nullptr);
  if (sig == nullptr || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig, r, s) != 1) {
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    return std::string(signature);
  }
  unsigned char* der = nullptr;
  int size = i2d_ECDSA_SIG(sig, &der);
  std::string out = size > 0 ? std::string(reinterpret_cast<char*>(der), static_cast<size_t>(size))
                             : std::string(signature);
  OPENSSL_free(der);
  ECDSA_SIG_free(sig);
  return out;
}

std::string hmacSecret(std::string& bytes, const std::string& keyFile) {
  // `echo $SECRET > file` adds a newline that is not part of the secret.
  if (!bytes.empty() && bytes.back() == '\n')
    bytes.pop_back();
  if (!bytes.empty() && bytes.back() == '\r')
    bytes.pop_back();
  if (bytes.size() < kMinHmacSecretBytes) {
    throw std::runtime_error("signing key " + keyFile + ": HMAC secret is " +
                             std::to_string(bytes.size()) + " bytes, at least " +
                             std::to_string(kMinHmacSecretBytes) + " are required");
  }
  return bytes;
}

std::string hmacSha256(const std::string& secret, std::string_view bytes) {
  unsigned char out[EVP_MAX_MD_SIZE];
  std::size_t size = 0;
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, secret.data(), secret.size(),
                reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), out, sizeof out,
                &size) == nullptr) {
    throw std::runtime_error("HMAC-SHA256 failed");
  }
  return std::string(reinterpret_cast<const char*>(out), size);
}

// Ed25519 (which hashes internally) or ECDSA P-256 over SHA-256 (DER signatures).
class PkeySigner final : public Signer {
 public:
  PkeySigner(PkeyPtr key, std::string_view algorithm)
      : key_(std::move(key)), algorithm_(algorithm), keyId_(publicKeyId(key_.get())) {}
  std::string algorithm() const override { return algorithm_; }
  std::string keyId() const override { return keyId_; }
  std::string sign(std::string_view bytes) const override {
    // A context per call: the key itself is only read, so concurrent captures can share it.
    std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
    const EVP_MD* digest = algorithm_ == kEcdsaP256 ? EVP_sha256() : nullptr;
    std::size_t size = 0;
    if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, digest, nullptr, key_.get()) != 1 ||
        EVP_DigestSign(ctx.get(), nullptr, &size,
                       reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size()) != 1) {
      throw std::runtime_error(algorithm_ + " signing failed");
    }
    std::string signature(size, '\0');
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &size,
                       reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size()) != 1) {
      throw std::runtime_error(algorithm_ + " signing failed");
    }
    signature.resize(size);
    return signature;
  }

 private:
  PkeyPtr key_;
  std::string algorithm_;
  std::string keyId_;
};

class HmacSigner final : public Signer {
 public:
  explicit HmacSigner(std::string secret)
      : secret_(std::move(secret)), keyId_(core::sha256Hex(secret_.get())) {}
  std::string algorithm() const override { return std::string(kHmacSha256); }
  std::string keyId() const override { return keyId_; }
  std::string sign(std::string_view bytes) const override {
    return hmacSha256(secret_.get(), bytes);
  }

 private:
  SecretBytes secret_;
  std::string keyId_;
};

class PkeyVerifier final : public SignatureVerifier {
 public:
  PkeyVerifier(PkeyPtr key, std::string_view algorithm)
      : key_(std::move(key)), algorithm_(algorithm), keyId_(publicKeyId(key_.get())) {}
  std::string algorithm() const override { return algorithm_; }
  std::string keyId() const override { return keyId_; }
  bool verify(std::string_view bytes, std::string_view signature) const override {
    std::string der;
    const EVP_MD* digest = nullptr;
    if (algorithm_ == kEcdsaP256) {
      digest = EVP_sha256();
      der = ecdsaDer(signature);
      signature = der;
    }
    std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
    return ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, digest, nullptr, key_.get()) == 1 &&
           EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                            signature.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                            bytes.size()) == 1;
  }

 private:
  PkeyPtr key_;
  std::string algorithm_;
  std::string keyId_;
};

class HmacVerifier final : public SignatureVerifier {
 public:
  explicit HmacVerifier(std::string secret)
      : secret_(std::move(secret)), keyId_(core::sha256Hex(secret_.get())) {}
  std::string algorithm() const override { return std::string(kHmacSha256); }
  std::string keyId() const override { return keyId_; }
  bool verify(std::string_view bytes, std::string_view signature) const override {
    std::string expected = hmacSha256(secret_.get(), bytes);
    // Constant time, so the comparison does not tell a forger how many bytes were right.
    return signature.size() == expected.size() &&
           CRYPTO_memcmp(signature.data(), expected.data(), expected.size()) == 0;
  }

 private:
  SecretBytes secret_;
  std::string keyId_;
};

}  // namespace

std::unique_ptr<Signer> loadSigner(const std::string& keyFile) {
  SecretBytes bytes(readKeyFile(keyFile));
  if (looksLikePem(bytes.get())) {
    PkeyPtr key = readPem(bytes.get(), false);
    if (!key) {
      throw std::runtime_error("signing key " + keyFile +
                               ": PEM file is not an unencrypted private key");
    }
    auto algorithm = algorithmOf(key, keyFile);
    return std::make_unique<PkeySigner>(std::move(key), algorithm);
  }
  return std::make_unique<HmacSigner>(hmacSecret(bytes.get(), keyFile));
}

std::unique_ptr<SignatureVerifier> loadSignatureVerifier(const std::string& keyFile) {
  SecretBytes bytes(readKeyFile(keyFile));
  if (looksLikePem(bytes.get())) {
    PkeyPtr key = readPem(bytes.get(), true);
    if (!key)
      key = readPem(bytes.get(), false);
    if (!key) {
      throw std::runtime_error("verification key " + keyFile +
                               ": PEM file is neither a public key nor an unencrypted private key");
    }
    auto algorithm = algorithmOf(key, keyFile);
    return std::make_unique<PkeyVerifier>(std::move(key), algorithm);
  }
  return std::make_unique<HmacVerifier>(hmacSecret(bytes.get(), keyFile));
}

std::string formatSignatureFile(std::string_view algorithm, std::string_view signature) {
  nlohmann::json file = {{"algorithm", std::string(algorithm)},
                         {"signature", core::base64Encode(signature)}};
  return file.dump(2) + "\n";
}

bool parseSignatureFile(std::string_view text, SignatureFile& out, std::string& error) {
  nlohmann::json file = nlohmann::json::parse(text, nullptr, false);
  if (file.is_discarded() || !file.is_object()) {
    error = "signature file is not a JSON object";
    return false;
  }
  auto algorithm = file.find("algorithm");
  auto signature = file.find("signature");
  if (algorithm == file.end() || !algorithm->is_string() || signature == file.end() ||
      !signature->is_string()) {
    error = "signature file needs string fields \"algorithm\" and \"signature\"";
    return false;
  }
  out.algorithm = algorithm->get<std::string>();
  if (!core::base64Decode(signature->get_ref<const std::string&>(), out.signature)) {
    error = "signature is not valid base64";
    return false;
  }
  return true;
}

}  // namespace podmortem::evidence
