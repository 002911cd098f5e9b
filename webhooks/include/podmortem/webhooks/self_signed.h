#pragma once

#include <string>
#include <vector>

namespace podmortem::webhooks {

struct GeneratedCertificate {
  std::string caFile;    // give this to curl --cacert or to a caBundle
  std::string certFile;
  std::string keyFile;
  bool created = false;  // false when valid files from an earlier start were reused
};

// Makes sure `<stateDir>/tls/` holds a CA and a serving certificate signed by it, with SANs
// localhost, 127.0.0.1, ::1 and `dnsNames`. Reuses what is there while it is valid for more
// than 30 days and covers every name; otherwise issues a new serving certificate (and a new CA
// only when the CA itself is missing or expiring). Keys are written 0600. Throws
// std::runtime_error with the reason when the files cannot be made.
GeneratedCertificate ensureSelfSignedCertificate(const std::string& stateDir,
                                                 const std::vector<std::string>& dnsNames);

}  // namespace podmortem::webhooks
