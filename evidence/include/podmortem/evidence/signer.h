#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace podmortem::evidence {

// Signs manifest.json so that a bundle can be checked by someone who trusts only the key,
// not the machine the evidence sits on. The signature goes into manifest.json.sig as
// {"algorithm": "ed25519" | "hmac-sha256", "signature": "<base64>"}.
class Signer {
 public:
  virtual ~Signer() = default;
  virtual std::string algorithm() const = 0;
  // Raw signature bytes over exactly `bytes`. Thread-safe. Throws std::runtime_error only if
  // OpenSSL fails, which does not happen with a key that loaded.
  virtual std::string sign(std::string_view bytes) const = 0;
};

class SignatureVerifier {
 public:
  virtual ~SignatureVerifier() = default;
  virtual std::string algorithm() const = 0;
  virtual bool verify(std::string_view bytes, std::string_view signature) const = 0;
};

// `keyFile` holds an Ed25519 private key in PEM, or else an HMAC-SHA256 secret (its raw bytes,
// trailing newline removed, at least 32 bytes). Throws std::runtime_error naming the file, never
// quoting its contents, when it is unreadable, a PEM key of another type, or a short secret.
std::unique_ptr<Signer> loadSigner(const std::string& keyFile);

// For `podmortem verify`: an Ed25519 public key PEM, the private key PEM, or the HMAC secret.
std::unique_ptr<SignatureVerifier> loadSignatureVerifier(const std::string& keyFile);

// manifest.json.sig contents and their parsed form.
std::string formatSignatureFile(std::string_view algorithm, std::string_view signature);
struct SignatureFile {
  std::string algorithm;
  std::string signature;  // raw bytes, base64-decoded
};
// False (with `error` set) when the text is not a signature file this version understands.
bool parseSignatureFile(std::string_view text, SignatureFile& out, std::string& error);

}  // namespace podmortem::evidence
