#include "podmortem/webhooks/certificate_info.h"

#include <openssl/pem.h>
#include <openssl/x509.h>

#include <fstream>
#include <sstream>

namespace podmortem::webhooks {

std::optional<std::chrono::system_clock::time_point> certificateNotAfterPem(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr) return std::nullopt;
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (cert == nullptr) return std::nullopt;
  std::tm tm{};
  bool ok = ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) == 1;
  X509_free(cert);
  if (!ok) return std::nullopt;
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

std::optional<std::chrono::system_clock::time_point> certificateNotAfter(const std::string& pemFile) {
  std::ifstream in(pemFile);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return certificateNotAfterPem(text.str());
}

}  // namespace podmortem::webhooks
