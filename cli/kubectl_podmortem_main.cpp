#include "podmortem/cli/cli.h"

// kubectl finds plugins as executables named kubectl-<name> on PATH: `kubectl podmortem list`.
int main(int argc, char** argv) { return podmortem::cli::runKubectlPlugin(argc, argv); }
