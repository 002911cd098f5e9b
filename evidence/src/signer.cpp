#include "podmortem/evidence/signer.h"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <nlohmann/json.hpp>
#include <stdexcept>

#include "podmortem/core/file_io.h"

namespace podmortem::evidence {

namespace fileio = core::fileio;

namespace {
constexpr std::size_t kMinHmacSecretBytes = 32;
constexpr std::string_view kEd25519 = "ed25519";
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

void requireEd25519(const PkeyPtr& key, const std::string& keyFile) {
  if (EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_ED25519) {
    throw std::runtime_error("signing key " + keyFile +
                             ": unsupported key type (use an Ed25519 PEM key or an HMAC secret)");
  }
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

class Ed25519Signer final : public Signer {
 public:
  explicit Ed25519Signer(PkeyPtr key) : key_(std::move(key)) {}
  std::string algorithm() const override { return std::string(kEd25519); }
  std::string sign(std::string_view bytes) const override {
    // A context per call: the key itself is only read, so concurrent captures can share it.
    std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
    std::size_t size = 0;
    if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key_.get()) != 1 ||
        EVP_DigestSign(ctx.get(), nullptr, &size,
                       reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size()) != 1) {
      throw std::runtime_error("Ed25519 signing failed");
    }
    std::string signature(size, '\0');
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &size,
                       reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size()) != 1) {
      throw std::runtime_error("Ed25519 signing failed");
    }
    signature.resize(size);
    return signature;
  }

 private:
  PkeyPtr key_;
};

class HmacSigner final : public Signer {
 public:
  explicit HmacSigner(std::string secret) : secret_(std::move(secret)) {}
  std::string algorithm() const override { return std::string(kHmacSha256); }
  std::string sign(std::string_view bytes) const override {
    return hmacSha256(secret_.get(), bytes);
  }

 private:
  SecretBytes secret_;
};

class Ed25519Verifier final : public SignatureVerifier {
 public:
  explicit Ed25519Verifier(PkeyPtr key) : key_(std::move(key)) {}
  std::string algorithm() const override { return std::string(kEd25519); }
  bool verify(std::string_view bytes, std::string_view signature) const override {
    std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
    return ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key_.get()) == 1 &&
           EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                            signature.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                            bytes.size()) == 1;
  }

 private:
  PkeyPtr key_;
};

class HmacVerifier final : public SignatureVerifier {
 public:
  explicit HmacVerifier(std::string secret) : secret_(std::move(secret)) {}
  std::string algorithm() const override { return std::string(kHmacSha256); }
  bool verify(std::string_view bytes, std::string_view signature) const override {
    std::string expected = hmacSha256(secret_.get(), bytes);
    // Constant time, so the comparison does not tell a forger how many bytes were right.
    return signature.size() == expected.size() &&
           CRYPTO_memcmp(signature.data(), expected.data(), expected.size()) == 0;
  }

 private:
  SecretBytes secret_;
};

std::string base64Encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  int size = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                             reinterpret_cast<const unsigned char*>(bytes.data()),
                             static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(size));
  return out;
}

bool base64Decode(std::string_view text, std::string& out) {
  if (text.size() % 4 != 0)
    return false;
  std::size_t pad = 0;
  while (pad < 2 && pad < text.size() && text[text.size() - 1 - pad] == '=')
    ++pad;
  for (std::size_t i = 0; i + pad < text.size(); ++i) {
    char c = text[i];
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
          c == '/')) {
      return false;
    }
  }
  out.assign(3 * text.size() / 4, '\0');
  int size = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                             reinterpret_cast<const unsigned char*>(text.data()),
                             static_cast<int>(text.size()));
  if (size < 0)
    return false;
  // EVP_DecodeBlock counts the zero bytes that padding stands for; drop them.
  out.resize(static_cast<std::size_t>(size) - pad);
  return true;
}
}  // namespace

std::unique_ptr<Signer> loadSigner(const std::string& keyFile) {
  SecretBytes bytes(readKeyFile(keyFile));
  if (looksLikePem(bytes.get())) {
    PkeyPtr key = readPem(bytes.get(), false);
    if (!key) {
      throw std::runtime_error("signing key " + keyFile +
                               ": PEM file is not an unencrypted private key");
    }
    requireEd25519(key, keyFile);
    return std::make_unique<Ed25519Signer>(std::move(key));
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
    requireEd25519(key, keyFile);
    return std::make_unique<Ed25519Verifier>(std::move(key));
  }
  return std::make_unique<HmacVerifier>(hmacSecret(bytes.get(), keyFile));
}

std::string formatSignatureFile(std::string_view algorithm, std::string_view signature) {
  nlohmann::json file = {{"algorithm", std::string(algorithm)},
                         {"signature", base64Encode(signature)}};
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
  if (!base64Decode(signature->get_ref<const std::string&>(), out.signature)) {
    error = "signature is not valid base64";
    return false;
  }
  return true;
}

}  // namespace podmortem::evidence
