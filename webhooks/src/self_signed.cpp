#include "podmortem/webhooks/self_signed.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <stdexcept>

namespace podmortem::webhooks {

namespace {

namespace fs = std::filesystem;

struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct X509Free {
  void operator()(X509* cert) const { X509_free(cert); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;

constexpr long kCaDays = 3650;
constexpr long kLeafDays = 365;
constexpr int kRenewWithinDays = 30;

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error("generating the self-signed certificate: " + what);
}

PkeyPtr newKey() {
  PkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) fail("cannot generate an EC P-256 key");
  return key;
}

void addExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) fail("bad extension " + value);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

X509Ptr newCertificate(EVP_PKEY* key, const std::string& commonName, long days) {
  X509Ptr cert(X509_new());
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7f;  // a positive serial number
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -300);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), days * 24 * 3600);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("podmortem"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(commonName.c_str()), -1, -1, 0);
  return cert;
}

void writeFile(const fs::path& path, mode_t mode, const std::function<bool(FILE*)>& write) {
  fs::path temporary = path;
  temporary += ".tmp";
  FILE* file = std::fopen(temporary.c_str(), "w");
  if (file == nullptr) fail("cannot write " + temporary.string());
  ::chmod(temporary.c_str(), mode);
  bool ok = write(file);
  ok = std::fclose(file) == 0 && ok;
  if (!ok) fail("cannot write " + temporary.string());
  fs::rename(temporary, path);  // readers never see half a file
}

void writeKey(const fs::path& path, EVP_PKEY* key) {
  writeFile(path, 0600, [key](FILE* f) {
    return PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
  });
}

void writeCert(const fs::path& path, X509* cert) {
  writeFile(path, 0644, [cert](FILE* f) { return PEM_write_X509(f, cert) == 1; });
}

X509Ptr readCert(const fs::path& path) {
  FILE* file = std::fopen(path.c_str(), "r");
  if (file == nullptr) return nullptr;
  X509Ptr cert(PEM_read_X509(file, nullptr, nullptr, nullptr));
  std::fclose(file);
  return cert;
}

PkeyPtr readKey(const fs::path& path) {
  FILE* file = std::fopen(path.c_str(), "r");
  if (file == nullptr) return nullptr;
  PkeyPtr key(PEM_read_PrivateKey(file, nullptr, nullptr, nullptr));
  std::fclose(file);
  return key;
}

bool validForAWhile(X509* cert) {
  time_t horizon = time(nullptr) + kRenewWithinDays * 24 * 3600;
  return X509_cmp_time(X509_get0_notAfter(cert), &horizon) > 0;
}

bool coversNames(X509* cert, const std::vector<std::string>& dnsNames) {
  for (const auto& name : dnsNames) {
    if (X509_check_host(cert, name.c_str(), name.size(), 0, nullptr) != 1) return false;
  }
  return X509_check_ip_asc(cert, "127.0.0.1", 0) == 1;
}

}  // namespace

GeneratedCertificate ensureSelfSignedCertificate(const std::string& stateDir,
                                                 const std::vector<std::string>& dnsNames) {
  fs::path dir = fs::path(stateDir) / "tls";
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) fail("cannot create " + dir.string() + ": " + ec.message());
  fs::permissions(dir, fs::perms::owner_all, ec);

  GeneratedCertificate result{(dir / "ca.crt").string(), (dir / "tls.crt").string(),
                              (dir / "tls.key").string(), false};
  std::vector<std::string> names = {"localhost"};
  names.insert(names.end(), dnsNames.begin(), dnsNames.end());

  X509Ptr ca = readCert(dir / "ca.crt");
  PkeyPtr caKey = readKey(dir / "ca.key");
  bool caUsable = ca && caKey && X509_check_private_key(ca.get(), caKey.get()) == 1 &&
                  validForAWhile(ca.get());
  X509Ptr leaf = readCert(dir / "tls.crt");
  PkeyPtr leafKey = readKey(dir / "tls.key");
  if (caUsable && leaf && leafKey && X509_check_private_key(leaf.get(), leafKey.get()) == 1 &&
      validForAWhile(leaf.get()) && coversNames(leaf.get(), names)) {
    EVP_PKEY* caPublic = X509_get0_pubkey(ca.get());
    if (X509_verify(leaf.get(), caPublic) == 1) return result;
  }

  if (!caUsable) {
    caKey = newKey();
    ca = newCertificate(caKey.get(), "podmortem local CA", kCaDays);
    X509_set_issuer_name(ca.get(), X509_get_subject_name(ca.get()));
    addExtension(ca.get(), ca.get(), NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
    addExtension(ca.get(), ca.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
    addExtension(ca.get(), ca.get(), NID_subject_key_identifier, "hash");
    if (X509_sign(ca.get(), caKey.get(), EVP_sha256()) == 0) fail("cannot sign the CA");
    writeKey(dir / "ca.key", caKey.get());
    writeCert(dir / "ca.crt", ca.get());
  }

  leafKey = newKey();
  leaf = newCertificate(leafKey.get(), "podmortem", kLeafDays);
  X509_set_issuer_name(leaf.get(), X509_get_subject_name(ca.get()));
  std::string san = "IP:127.0.0.1,IP:::1";
  for (const auto& name : names) san += ",DNS:" + name;
  addExtension(leaf.get(), ca.get(), NID_basic_constraints, "critical,CA:FALSE");
  addExtension(leaf.get(), ca.get(), NID_key_usage, "critical,digitalSignature,keyEncipherment");
  addExtension(leaf.get(), ca.get(), NID_ext_key_usage, "serverAuth");
  addExtension(leaf.get(), ca.get(), NID_subject_alt_name, san);
  addExtension(leaf.get(), ca.get(), NID_authority_key_identifier, "keyid");
  if (X509_sign(leaf.get(), caKey.get(), EVP_sha256()) == 0) fail("cannot sign the certificate");
  // Key before certificate: a reloader that sees the new certificate finds its key in place.
  writeKey(dir / "tls.key", leafKey.get());
  writeCert(dir / "tls.crt", leaf.get());
  result.created = true;
  return result;
}

}  // namespace podmortem::webhooks
