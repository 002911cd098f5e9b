#pragma once

#include <string>

#include "podmortem/core/config.h"

namespace podmortem::evidence {

// evidence.* of the store: where bundles and the custody ledger go, and how they are signed.
struct StoreSettings {
  std::string dir = "/var/lib/podmortem/evidence";
  std::string signingKeyFile;  // empty: manifests are hashed and chained, not signed
  bool perReplica = false;     // write into <evidence.dir>/<replica>/, own ledger

  static void bind(core::SectionBinder<StoreSettings>& keys);
  core::Status validate() const;
};

}  // namespace podmortem::evidence
