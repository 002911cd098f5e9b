#pragma once

#include <cstddef>
#include <string>

#include "podmortem/evidence/custody_ledger.h"

namespace podmortem::evidence::recovery {

// What a start-up found of writes a crash (SIGKILL, power loss) interrupted.
struct Recovered {
  size_t quarantined = 0;  // .tmp-<id> folders moved to .quarantine/
  size_t recorded = 0;     // sealed bundles the ledger did not name, recorded now
};

inline constexpr std::string_view kQuarantineFolder = ".quarantine";

// Run once, before the first write. A bundle is written under .tmp-<id> and renamed into place,
// then named in the ledger; a crash can leave a temporary folder (moved out of the way, to
// <evidenceDir>/.quarantine/<namespace>/<pod>/, and logged: what it holds was never sealed, and
// may still interest an investigator) or a sealed bundle the ledger does not name yet (its
// manifest is hashed and the line appended now, and logged).
Recovered recoverInterruptedWrites(const std::string& evidenceDir, CustodyLedger& ledger);

}  // namespace podmortem::evidence::recovery
