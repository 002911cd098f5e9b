#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace podmortem::evidence {

// Signs a bundle's attestation (attestation.dsse.json, dsse.h) so that it can be checked by
// someone who trusts only the key, not the machine the evidence sits on. Algorithms: "ed25519",
// "ecdsa-p256-sha256" (DER signatures) and "hmac-sha256". Bundles of earlier versions carry
// manifest.json.sig instead: {"algorithm": ..., "signature": "<base64>"}, still verified.
class Signer {
 public:
  virtual ~Signer() = default;
  virtual std::string algorithm() const = 0;
  // DSSE's keyid: SHA-256 (hex) of the DER public key; for HMAC, of the secret.
  virtual std::string keyId() const = 0;
  // Raw signature bytes over exactly `bytes`. Thread-safe. Throws std::runtime_error only if
  // OpenSSL fails, which does not happen with a key that loaded.
  virtual std::string sign(std::string_view bytes) const = 0;
};

class SignatureVerifier {
 public:
  virtual ~SignatureVerifier() = default;
  virtual std::string algorithm() const = 0;
  virtual std::string keyId() const = 0;
  // ECDSA signatures may be DER or raw r || s.
  virtual bool verify(std::string_view bytes, std::string_view signature) const = 0;
};

// `keyFile` holds an Ed25519 or ECDSA P-256 private key in PEM, or else an HMAC-SHA256 secret (its raw bytes,
// trailing newline removed, at least 32 bytes). Throws std::runtime_error naming the file, never
// quoting its contents, when it is unreadable, a PEM key of another type, or a short secret.
std::unique_ptr<Signer> loadSigner(const std::string& keyFile);

// For `podmortem verify`: a public key PEM (Ed25519, P-256), the private key PEM, or the HMAC
// secret.
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
