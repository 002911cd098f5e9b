#pragma once

namespace podmortem::cli {

// Runs one `podmortem` command line and returns the process exit code: 0 success, 1 the command
// ran and found a problem (verify), 2 a usage or configuration error.
int run(int argc, char** argv);

// `kubectl podmortem ...` (the kubectl-podmortem executable): list, get, verify, report of the
// cluster's EvidenceSnapshots, downloads through EvidenceDownloads. Same exit codes.
int runKubectlPlugin(int argc, char** argv);

}  // namespace podmortem::cli
