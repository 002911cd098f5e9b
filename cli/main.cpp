#include "podmortem/cli/cli.h"

int main(int argc, char** argv) { return podmortem::cli::run(argc, argv); }
